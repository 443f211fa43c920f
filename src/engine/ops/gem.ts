// Placeholder: filled in by the gem kernel work.
export {};

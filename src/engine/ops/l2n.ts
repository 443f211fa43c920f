// Placeholder: filled in by the l2n kernel work.
export {};

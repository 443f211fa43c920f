// Placeholder: filled in by the conv2d kernel work.
export {};

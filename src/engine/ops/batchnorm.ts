// Placeholder: filled in by the batchnorm kernel work.
export {};

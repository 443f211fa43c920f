// Weight files: host tensors, safetensors, PyTorch .pth import, state-dict matching,
// our checkpoint format, atomic writes. Format notes: src/io/FORMAT.md.
export * from './host-tensor.js';
export * from './safetensors.js';
export * from './zip.js';
export * from './pickle.js';

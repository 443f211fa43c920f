// Weight files: host tensors, safetensors, PyTorch .pth import, state-dict matching,
// our checkpoint format, atomic writes, the file store the layers above use, experiment-folder locks. Format notes: src/io/FORMAT.md.
export * from './host-tensor.js';
export * from './safetensors.js';
export * from './zip.js';
export * from './pickle.js';
export * from './torch-load.js';
export * from './state-dict.js';
export * from './checkpoint.js';
export * from './atomic-write.js';
export * from './file-store.js';
export * from './node-files.js';
export * from './byte-source.js';
export * from './folder-lock.js';
export * from './npy.js';
export * from './hnsw.js';

// Weight files: safetensors, PyTorch .pth import, atomic writes.
export {};

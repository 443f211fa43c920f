#!/usr/bin/env python3
"""Writes small .npy files with numpy for kernels-test/io/npy.test.ts (the reader is checked
against numpy's writer, and the test's own round trip against numpy's reader by hand).

    python3 tools/gen_npy_fixtures.py
"""
import numpy as np

out = 'kernels-test/io/fixtures/npy/'
np.save(out + 'f32_3x4.npy', np.arange(12, dtype=np.float32).reshape(3, 4) / 8 - 0.5)
np.save(out + 'i32_5.npy', np.array([-2, -1, 0, 7, 2**31 - 1], dtype=np.int32))
np.save(out + 'u8_2x2x2.npy', np.arange(8, dtype=np.uint8).reshape(2, 2, 2) * 30)
np.save(out + 'f32_empty_0x3.npy', np.zeros((0, 3), dtype=np.float32))
np.save(out + 'f64_2.npy', np.array([1.5, 2.5]))
np.save(out + 'f32_fortran_2x3.npy', np.asfortranarray(np.ones((2, 3), dtype=np.float32)))

#!/usr/bin/python3
"""Writes kernels-test/multigrain/fixtures/whitening.json: PCA whitening as the original's
whiten.py gets it from scikit-learn's PCA(whiten=True, n_components=d), recomputed here with
numpy's LAPACK SVD exactly as scikit-learn does (scikit-learn is not packaged with Debian's
torch): centre, X = U S Vt, explained_variance = S^2 / (n - 1), components = Vt (rows),
P = components.T / sqrt(explained_variance). Also the classifier rewrite of whiten.py
(W' = W (P^T)^-1 in float64, b' = m W^T) on a fixed classifier.

Run with /usr/bin/python3 tools/gen_whitening_fixture.py. The data are l2-normalised rows with a
bias channel, like the pooled vectors whiten.py fits, made from a fixed integer hash so the file
stays small and the test can check it reads the same numbers.
"""
import json
import os

import numpy as np


def hashed(n, seed):
    """((h(i) >> 8) % 1025 - 512) / 256 for a 32-bit integer hash h, as the other fixtures."""
    out = np.empty(n)
    for i in range(n):
        h = (i * 0x9E3779B1 + seed * 0x85EBCA77) & 0xFFFFFFFF
        h ^= h >> 15
        h = (h * 0x2C1B3C6D) & 0xFFFFFFFF
        h ^= h >> 12
        h = (h * 0x297A2D39) & 0xFFFFFFFF
        h ^= h >> 15
        out[i] = (((h >> 8) % 1025) - 512) / 256
    return out


def main():
    n, d, classes = 40, 7, 3
    raw = hashed(n * (d - 1), 11).reshape(n, d - 1)
    raw[:, 1] = raw[:, 0] * 0.5 + raw[:, 1] * 0.1  # correlated channels
    raw = np.abs(raw)  # pooled vectors are non-negative
    e = np.concatenate([raw, np.ones((n, 1))], axis=1)
    x = e / (np.linalg.norm(e, axis=1, keepdims=True) + 1e-6)
    x = x.astype(np.float32).astype(np.float64)  # what our float32 pipeline hands to the fit

    mean = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    variance = s ** 2 / (n - 1)
    projection = vt.T / np.sqrt(variance)

    w = hashed(classes * (d - 1), 12).reshape(classes, d - 1)
    b = hashed(classes, 13)
    w_full = np.concatenate([w, b[:, None]], axis=1)
    w_new = w_full @ np.linalg.inv(projection.T)
    b_new = mean @ w_full.T

    out = {
        "n": n, "d": d, "classes": classes,
        "x": x.ravel().tolist(),
        "mean": mean.tolist(),
        "eigenvalues": variance.tolist(),
        "projection": projection.ravel().tolist(),
        "classifier_weight": w.ravel().tolist(), "classifier_bias": b.tolist(),
        "whitened_weight": w_new.ravel().tolist(), "whitened_bias": b_new.tolist(),
    }
    path = os.path.join(os.path.dirname(__file__), "..", "kernels-test", "multigrain", "fixtures", "whitening.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()

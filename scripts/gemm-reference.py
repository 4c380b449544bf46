#!/usr/bin/env python3
"""numpy (OpenBLAS) matmul timings for e2h-bench's gemm and train figures.

Usage: gemm-reference.py REPETITIONS SHAPE...  where SHAPE is MxNxK (C = A @ B, A: M x K) or
MxNxK:t (A stored K x M and used transposed, as in a weight gradient). Prints one JSON object per
shape: {"shape": ..., "seconds": median seconds per product}. float32, one warm-up run.
"""
import json
import sys
import time

import numpy as np


def main() -> None:
    repetitions = int(sys.argv[1])
    rng = np.random.default_rng(1)
    for spec in sys.argv[2:]:
        dims, _, flag = spec.partition(":")
        m, n, k = (int(x) for x in dims.split("x"))
        a = rng.random((k, m), dtype=np.float32).T if flag == "t" else rng.random((m, k), dtype=np.float32)
        b = rng.random((k, n), dtype=np.float32)
        c = np.empty((m, n), dtype=np.float32)
        np.matmul(a, b, out=c)
        samples = []
        for _ in range(repetitions):
            start = time.perf_counter()
            np.matmul(a, b, out=c)
            samples.append(time.perf_counter() - start)
        samples.sort()
        print(json.dumps({"shape": spec, "seconds": samples[len(samples) // 2]}), flush=True)


if __name__ == "__main__":
    main()

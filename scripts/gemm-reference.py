#!/usr/bin/env python3
"""numpy (OpenBLAS) matmul timings, the reference for e2h-bench's gemm figures.

Usage: gemm-reference.py REPETITIONS SHAPE...  prints one JSON object per shape, or
       gemm-reference.py --serve  reads "REPETITIONS SHAPE" lines from stdin and answers each with
       one JSON line, so the benchmark can interleave numpy and engine timings shape by shape.
SHAPE is MxNxK (C = A @ B, A: M x K) or MxNxK:t (A stored K x M and used transposed, as in a weight
gradient). The answer is {"shape": ..., "seconds": median seconds per product}: float32, after
0.1 s of warm-up runs. OpenBLAS's thread count is fixed at start by OPENBLAS_NUM_THREADS.
"""
import json
import sys
import time

import numpy as np

_rng = np.random.default_rng(1)
_operands = {}


def measure(spec: str, repetitions: int) -> dict:
    if spec not in _operands:
        dims, _, flag = spec.partition(":")
        m, n, k = (int(x) for x in dims.split("x"))
        a = _rng.random((k, m), dtype=np.float32).T if flag == "t" else _rng.random((m, k), dtype=np.float32)
        b = _rng.random((k, n), dtype=np.float32)
        _operands[spec] = (a, b, np.empty((m, n), dtype=np.float32))
    a, b, c = _operands[spec]
    warm_up_end = time.perf_counter() + 0.1
    while time.perf_counter() < warm_up_end:
        np.matmul(a, b, out=c)
    samples = []
    for _ in range(repetitions):
        start = time.perf_counter()
        np.matmul(a, b, out=c)
        samples.append(time.perf_counter() - start)
    samples.sort()
    return {"shape": spec, "seconds": samples[len(samples) // 2]}


def main() -> None:
    if sys.argv[1:] == ["--serve"]:
        for line in sys.stdin:
            repetitions, spec = line.split()
            print(json.dumps(measure(spec, int(repetitions))), flush=True)
        return
    repetitions = int(sys.argv[1])
    for spec in sys.argv[2:]:
        print(json.dumps(measure(spec, repetitions)), flush=True)


if __name__ == "__main__":
    main()

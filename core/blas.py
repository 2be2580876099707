"""BLAS runs single-threaded: the program spreads its own work over the cores.

The two sessions are read, reduced and prepared side by side, and GBC shares its
tiles out to one thread per core.  BLAS threads on top of that only oversubscribe
the cores, and on a busy machine a multi-threaded product waits for its slowest
thread: a 400 × 400 inverse measured 0.1–1.2 s with two BLAS threads and 0.03–0.09 s
with one, and the seed preparation used half the CPU time.
"""

from __future__ import annotations

import os

__all__ = ["use_single_threaded_blas"]


def use_single_threaded_blas() -> None:
    """Limit BLAS to one thread: the libraries loaded now and those loaded later."""
    for name in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ[name] = "1"  # read when a library is loaded
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")  # the ones already loaded

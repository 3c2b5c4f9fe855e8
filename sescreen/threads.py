"""Keep BLAS single-threaded around many small linear-algebra calls.

A DC fit solves hundreds of 100-160-sized systems (Cholesky factors, triangular solves,
least squares). A multi-threaded OpenBLAS spends more on waking and synchronising its
threads than on such a solve: measured on a busy 2-core machine, a 160 x 160 triangular
solve took 127 ms with the default threads and 0.8 ms with one. ``threadpoolctl`` (BSD,
the scikit-learn project's) limits the threads of the BLAS already loaded, for the
duration of a block; without it the block runs unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["single_threaded_blas"]


@functools.cache
def _controller():
    """threadpoolctl's view of the thread pools loaded (found once: scanning the loaded
    libraries costs ~10 ms, more than a small fit; numpy's BLAS is loaded with numpy)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the block with one BLAS thread (no-op without ``threadpoolctl``)."""
    try:
        controller = _controller()
    except ImportError:  # pragma: no cover - a declared dependency; degrade, don't fail
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield

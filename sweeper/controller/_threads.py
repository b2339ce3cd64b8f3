"""One compute thread for a fit: a model of a few hundred runs is too small for threads to pay.

Each agent fits in its own process, so a machine with 16 agents runs 16 fits at once: numpy's
BLAS and OpenMP (bayes: W&B's engine, scikit-learn's Gaussian process) and torch (Optuna's gp)
would each start a thread per core in every one of them, and those threads only fight. Measured
(``bench/controller.py``'s fit at 300 runs, 2 cores): bayes takes 0.061 s with one thread against
0.088 s with the default, and two agents fitting at once 0.055 s against 0.23 s. The caller's
settings come back after.
"""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def one_thread(torch_too: bool = False):
    """BLAS and OpenMP (and, with ``torch_too``, torch) limited to one thread inside."""
    # A library first loaded inside would keep the limit after it: scipy brings its own BLAS,
    # which the engines load on their first fit, so it loads here, before the limit.
    import scipy.linalg  # noqa: F401
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1), _one_torch_thread(torch_too):
        yield


@contextlib.contextmanager
def _one_torch_thread(active: bool):
    if not active:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)

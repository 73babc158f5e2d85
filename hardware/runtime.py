"""Process-wide settings in one place: CPU threads of the numeric libraries and random seeds.

Every command, benchmark, policy and index that wants a thread count or a seed calls these instead of
touching torch / FAISS / numpy itself, so one process has one answer. torch and FAISS are imported only
when they are installed and asked about (``hardware`` is the lowest layer and must stay light).
"""
from __future__ import annotations

import contextlib
import importlib.util
import random
import sys
from typing import Iterator

_THREADS: int | None = None


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def set_threads(n: int) -> None:
    """Use ``n`` CPU threads (>= 1) for torch intra-op work and FAISS's OpenMP loops; 0 keeps the libraries' defaults.

    One thread is the fastest choice for single short queries on a shared CPU; training and bulk index builds
    want all cores."""
    global _THREADS
    if not n:
        return
    n = max(1, int(n))
    _THREADS = n
    if _have("torch"):
        import torch

        torch.set_num_threads(n)
    if _have("faiss"):
        import faiss

        faiss.omp_set_num_threads(n)


def threads() -> int | None:
    """The thread count last set with :func:`set_threads` (None when never set)."""
    return _THREADS


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run the block with one torch and one FAISS thread, then restore the previous counts (for a few
    short queries, where paying for contended intra-op parallelism costs more than it gives)."""
    restore = []
    if _have("torch"):
        import torch

        prev = torch.get_num_threads()
        if prev > 1:
            torch.set_num_threads(1)
            restore.append(lambda: torch.set_num_threads(prev))
    if _have("faiss"):
        import faiss

        prev_f = faiss.omp_get_max_threads()
        if prev_f > 1:
            faiss.omp_set_num_threads(1)
            restore.append(lambda: faiss.omp_set_num_threads(prev_f))
    try:
        yield
    finally:
        for undo in restore:
            undo()


def real_time_switch_interval(control_hz: float) -> float:
    """Let a control loop at ``control_hz`` (Hz) take the interpreter back from another Python thread (the grounding
    worker) within an eighth of its period, at most 1 ms: lowers ``sys.setswitchinterval`` (default 5 ms, more than
    half of a 125 Hz period) and never raises it. Returns the interval now in force (s)."""
    want = min(0.001, 1.0 / (8.0 * control_hz))
    if sys.getswitchinterval() > want:
        sys.setswitchinterval(want)
    return sys.getswitchinterval()


def lower_thread_priority(niceness: int = 10) -> bool:
    """Make the calling thread yield the CPU to the process's other threads (Linux: raise this thread's nice value
    by ``niceness``; any user may). For background work beside a control loop, e.g. the grounding worker, so that
    on a busy CPU the loop's ticks are scheduled first. Returns whether it took effect (False where unsupported)."""
    import os
    import threading

    try:
        if os.sched_getscheduler(0) != os.SCHED_OTHER:  # born of a real-time control thread: not real-time itself
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness))
        return True
    except (AttributeError, OSError):
        return False


@contextlib.contextmanager
def real_time_priority(priority: int = 10) -> Iterator[bool]:
    """Run the block with the calling thread (the control loop) under the ``SCHED_FIFO`` real-time policy at
    ``priority`` (1..99) where the OS allows it (root, or an ``rtprio`` limit, as a real-time robot PC has), so
    that a busy CPU wakes it on time; the previous policy is restored after. Yields whether it took effect.
    Threads started inside inherit it: background workers call :func:`lower_thread_priority`, which drops it."""
    import os

    try:
        prev = (os.sched_getscheduler(0), os.sched_getparam(0))
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except (AttributeError, OSError):
        yield False
        return
    try:
        yield True
    finally:
        os.sched_setscheduler(0, prev[0], prev[1])


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, numpy and (when installed) torch with ``seed``."""
    random.seed(seed)
    if _have("numpy"):
        import numpy as np

        np.random.seed(seed % 2**32)
    if _have("torch"):
        import torch

        torch.manual_seed(seed)

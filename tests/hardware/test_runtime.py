"""hardware.runtime: one place for threads and seeds."""
import random

import numpy as np
import pytest
import torch

from hardware import runtime


def test_set_threads_reaches_torch_and_is_remembered():
    prev = torch.get_num_threads()
    try:
        runtime.set_threads(1)
        assert torch.get_num_threads() == 1 and runtime.threads() == 1
    finally:
        torch.set_num_threads(prev)


def test_single_thread_restores_previous_count():
    prev = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with runtime.single_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(prev)


def test_seed_everything_repeats_draws():
    runtime.seed_everything(7)
    a = (random.random(), float(np.random.rand()), float(torch.rand(1)))
    runtime.seed_everything(7)
    assert a == (random.random(), float(np.random.rand()), float(torch.rand(1)))


def test_real_time_switch_interval_only_lowers():
    import sys

    from hardware.runtime import real_time_switch_interval

    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.005)
        assert real_time_switch_interval(125.0) == pytest.approx(0.001)  # 1/8 of 8 ms, capped at 1 ms
        assert real_time_switch_interval(500.0) == pytest.approx(0.00025)
        assert real_time_switch_interval(60.0) == pytest.approx(0.00025)  # never raised again
    finally:
        sys.setswitchinterval(before)


def test_lower_thread_priority_touches_only_the_calling_thread():
    import os
    import sys
    import threading

    from hardware.runtime import lower_thread_priority

    if not sys.platform.startswith("linux"):
        pytest.skip("per-thread nice values are a Linux feature")
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen = {}

    def body():
        seen["ok"] = lower_thread_priority(5)
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    t = threading.Thread(target=body)
    t.start()
    t.join()
    assert seen["ok"] and seen["nice"] == min(19, before + 5)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before  # this thread is untouched


def test_real_time_priority_is_scoped_and_dropped_by_background_threads():
    import os
    import threading

    from hardware.runtime import lower_thread_priority, real_time_priority

    before = os.sched_getscheduler(0)
    seen = {}
    with real_time_priority(5) as fifo:
        if fifo:
            assert os.sched_getscheduler(0) == os.SCHED_FIFO

            def body():
                seen["inherited"] = os.sched_getscheduler(0)
                lower_thread_priority()
                seen["after"] = os.sched_getscheduler(0)

            t = threading.Thread(target=body)
            t.start()
            t.join()
    assert os.sched_getscheduler(0) == before  # restored
    if fifo:
        assert seen == {"inherited": os.SCHED_FIFO, "after": os.SCHED_OTHER}

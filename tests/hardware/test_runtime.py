"""hardware.runtime: one place for threads and seeds."""
import random

import numpy as np
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

"""Fixtures the session tests share: the embedded policy and a simulated world of the test module's table."""
from __future__ import annotations

import pytest

from agent.policy import PolicyError


@pytest.fixture(scope="module")
def policy():
    """The shipped embedded policy (loaded once per module); skips where its checkpoint is missing (the checkpoint
    is built by `robocorrect train`)."""
    from agent.factory import make_policy

    try:
        return make_policy("embedded")
    except PolicyError as e:
        pytest.skip(f"embedded policy not available: {e}")


@pytest.fixture(scope="module")
def world(request: pytest.FixtureRequest):
    """A PyBullet world of the test module's ``table()`` scene, closed after the module."""
    from sim.world import SimWorld

    w = SimWorld(request.module.table())
    yield w
    w.close()

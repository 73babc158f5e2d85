"""The real-arm checks (``real_arm_checks.py``) on the simulated arm, from a ``driver = "sim"`` robot file, so that
the code that will run on a real arm runs in every test run."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import real_arm_checks as checks  # noqa: E402

from hardware.scene import BOWL_HEIGHT, Scene, SceneObject  # noqa: E402


@pytest.fixture(scope="module")
def arm(tmp_path_factory):
    p = tmp_path_factory.mktemp("robot") / "sim.toml"
    p.write_text('driver = "sim"\n[workspace]\ntable_clearance = 0.0\n[[keep_out]]\nname = "mast"\n'
                 'min = [0.7, -0.5, 0.0]\nmax = [0.9, -0.3, 0.8]\n')
    a = checks.open_arm(str(p))
    yield a
    a.close()


def test_connect_and_read(arm):
    checks.check_connect_and_read(arm)


def test_small_motion(arm):
    checks.check_small_motion(arm)


def test_stop(arm):
    checks.check_stop(arm)


def test_pick_and_place(arm):
    scene = Scene(objects=[SceneObject("red block", "block", "red", 0.04, (0.46, -0.1, 0.02)),
                           SceneObject("green bowl", "bowl", "green", 0.16, (0.54, 0.12, BOWL_HEIGHT / 2), mass=0.3)])
    arm.sim.load(scene)
    checks.check_pick_and_place(arm, scene, arm.sim)

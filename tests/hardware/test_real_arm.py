"""Tests on a REAL arm, run only when one is configured; skipped otherwise.

    ROBOCORRECT_ROBOT_CONFIG=robot.toml python3 -m pytest tests/hardware/test_real_arm.py
        # connect and read the state: moves nothing
    ROBOCORRECT_ROBOT_CONFIG=robot.toml ROBOCORRECT_REAL_ARM_MOVE=1 python3 -m pytest tests/hardware/test_real_arm.py
        # also moves, behind the safety layer at 5 cm/s: home; 2 cm up and back; a 6 cm move stopped half-way;
        # clear the space above home first
    ... ROBOCORRECT_ROBOT_SCENE=table.json (with ..._MOVE=1)
        # also picks the scene's first block and places it in its first container (measured poses, hardware.scene.Scene)

(``ROBOCORRECT_REAL_ARM`` is the old name of ``ROBOCORRECT_ROBOT_CONFIG``.) The checks live in ``real_arm_checks.py``;
``test_real_arm_checks_on_sim.py`` runs the same checks on the simulated arm in every test run.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import real_arm_checks as checks  # noqa: E402

CONFIG = os.environ.get("ROBOCORRECT_ROBOT_CONFIG") or os.environ.get("ROBOCORRECT_REAL_ARM")
MOVE = os.environ.get("ROBOCORRECT_REAL_ARM_MOVE") == "1"
SCENE = os.environ.get("ROBOCORRECT_ROBOT_SCENE")
pytestmark = pytest.mark.skipif(not CONFIG, reason="no real arm configured (set ROBOCORRECT_ROBOT_CONFIG=robot.toml)")
moves = pytest.mark.skipif(not MOVE, reason="set ROBOCORRECT_REAL_ARM_MOVE=1 to let the tests move the arm")


@pytest.fixture
def arm():
    a = checks.open_arm(CONFIG)
    try:
        yield a
    finally:
        a.close()


def test_connects_and_reads_a_finite_state_inside_the_workspace(arm):
    checks.check_connect_and_read(arm)


@moves
def test_home_then_two_centimetres_up_and_back(arm):
    checks.check_small_motion(arm)


@moves
def test_stop_halts_a_motion_half_way(arm):
    checks.check_stop(arm)


@moves
@pytest.mark.skipif(not SCENE, reason="set ROBOCORRECT_ROBOT_SCENE=table.json (measured poses) for the pick and place")
def test_pick_and_place_the_first_block(arm):
    from hardware.fixed_world import StaticWorld
    from hardware.scene import Scene

    scene = Scene.load(SCENE)
    if arm.sim is not None:
        arm.sim.load(scene)
        world = arm.sim
    else:
        world = StaticWorld(scene, arm.robot)
    checks.check_pick_and_place(arm, scene, world)

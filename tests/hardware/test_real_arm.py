"""Tests on a REAL arm, run only when one is configured; skipped otherwise.

    ROBOCORRECT_REAL_ARM=robot.toml python3 -m pytest tests/hardware/test_real_arm.py        # reads, moves nothing
    ROBOCORRECT_REAL_ARM=robot.toml ROBOCORRECT_REAL_ARM_MOVE=1 python3 -m pytest tests/hardware/test_real_arm.py
        # also: home, then 2 cm up and back down behind the safety layer at 5 cm/s (clear the table first)
"""
from __future__ import annotations

import os

import pytest

from hardware.config import load_robot_file

CONFIG = os.environ.get("ROBOCORRECT_REAL_ARM")
pytestmark = pytest.mark.skipif(not CONFIG, reason="no real arm configured (set ROBOCORRECT_REAL_ARM=robot.toml)")


@pytest.fixture
def arm():
    from agent.robot_cli import build_robot
    from hardware.safe_robot import SafeRobot

    rf = load_robot_file(CONFIG)
    robot, world = build_robot(rf)
    limits = rf.safety_limits()
    limits.max_speed = min(limits.max_speed, 0.05)
    safe = SafeRobot(robot, limits)
    safe.connect()
    yield rf, safe
    safe.disconnect()
    if world is not None:
        world.close()


def test_connects_and_reads_a_finite_state(arm):
    import math

    rf, robot = arm
    st = robot.state()
    assert robot.is_connected and all(math.isfinite(v) for v in st.tcp_position)
    assert 0.0 <= st.gripper_width <= robot.config.gripper_max_width + 0.005


@pytest.mark.skipif(os.environ.get("ROBOCORRECT_REAL_ARM_MOVE") != "1", reason="set ROBOCORRECT_REAL_ARM_MOVE=1 to move the arm")
def test_home_then_two_centimetres_up_and_back(arm):
    rf, robot = arm
    robot.home()
    (x, y, z), yaw = robot.state().tcp_position, robot.state().tcp_yaw
    for target in ((x, y, z + 0.02), (x, y, z)):
        for _ in range(int(3 * robot.config.control_hz)):
            robot.servo(target, yaw)
            robot.tick()
        assert abs(robot.state().tcp_position[2] - target[2]) < 0.005

"""The real-arm checks (``real_arm_checks.py``) on each real adapter over its SDK fake (``hardware/fakes/``), with
a simulated clock: connect, the small motion, the stop, and the pick-and-place calls, behind the safety layer,
every SDK call bound to the installed SDK's real signatures."""
from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import real_arm_checks as checks  # noqa: E402

from hardware.config import RobotFile  # noqa: E402
from hardware.fakes.factory import FAKE_KINDS, make_fake_robot  # noqa: E402
from hardware.fixed_world import StaticWorld  # noqa: E402
from hardware.safe_robot import SafeRobot, default_limits  # noqa: E402
from hardware.scene import BOWL_HEIGHT, Scene, SceneObject  # noqa: E402
from manual_clock import ManualClock  # noqa: E402


@pytest.fixture(params=FAKE_KINDS)
def arm(request):
    clock = ManualClock()
    fake = make_fake_robot(request.param, check=True, keep=True, clock=clock, sleep=clock.sleep)
    limits = default_limits(fake.robot.config)  # no watchdog thread: the clock is simulated
    limits.max_speed = checks.TEST_SPEED * math.sqrt(3.0)
    robot = SafeRobot(fake.robot, limits)
    robot.connect()
    a = checks.ArmUnderTest(RobotFile(driver=request.param.removeprefix("fake-")), robot, None)
    yield a, fake
    a.close()


def test_connect_small_motion_and_stop(arm):
    a, fake = arm
    checks.check_connect_and_read(a)
    checks.check_small_motion(a)
    checks.check_stop(a)
    assert fake.checked > 100


def test_pick_and_place_calls(arm):
    a, fake = arm
    scene = Scene(objects=[SceneObject("red block", "block", "red", 0.04, (0.46, -0.1, 0.02)),
                           SceneObject("green bowl", "bowl", "green", 0.16, (0.54, 0.12, BOWL_HEIGHT / 2))])
    checks.check_pick_and_place(a, scene, StaticWorld(scene, a.robot))
    assert fake.checked > 100

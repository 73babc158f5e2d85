"""A vendor arm that loses its link mid-motion: the adapter stops the arm, the error is a RobotError, and the
teaching session logs the episode as aborted (through the UR adapter and its SDK fakes)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agent.channel import ScriptedChannel
from agent.session import SessionConfig, TeachingSession
from hardware.base import RobotError
from hardware.fixed_world import StaticWorld
from hardware.safe_robot import SafeRobot
from hardware.safety import SafetyLimits
from hardware.scene import BOWL_HEIGHT, Scene, SceneObject
from hardware.ur import URConfig, URRobot
from memory.episodes import EpisodeLog

sys.path.insert(0, str(Path(__file__).parents[1] / "hardware"))
from manual_clock import ManualClock  # noqa: E402
from test_ur import Arm, FakeRTDEControl, FakeRTDEReceive  # noqa: E402


def test_link_lost_mid_motion_stops_the_arm_and_aborts_the_episode(tmp_path):
    arm = Arm()
    clock = ManualClock()
    robot = SafeRobot(URRobot(URConfig(), control=FakeRTDEControl(arm), receive=FakeRTDEReceive(arm), clock=clock,
                              sleep=clock.sleep), SafetyLimits(watchdog_s=0))
    robot.connect()
    scene = Scene(objects=[SceneObject("red block", "block", "red", 0.04, (0.46, -0.1, 0.02)),
                           SceneObject("green bowl", "bowl", "green", 0.16, (0.54, 0.12, BOWL_HEIGHT / 2), mass=0.3)])
    world = StaticWorld(scene, robot)
    log = EpisodeLog(tmp_path / "episodes")
    session = TeachingSession(robot, world, None, log=log, scene=world.scene, config=SessionConfig(frames=False))
    arm.fail_servo_after = 30
    plan = [{"skill": "pick", "args": {"object": "red block"}}, {"skill": "place", "args": {"target": "green bowl"}}]
    with pytest.raises(RobotError, match="UR servo was refused by the controller; the arm was told to stop"):
        session.run_episode("put the red block in the green bowl", ScriptedChannel([]), plan=plan)
    assert arm.calls[-1][1] == "servoStop"
    (episode,) = log.list()
    assert episode["status"] == "aborted"

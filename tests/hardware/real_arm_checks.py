"""The checks that ``test_real_arm.py`` runs on a configured arm, written once so that ``test_real_arm_checks_on_sim.py``
can run the very same code on the simulated arm (a ``driver = "sim"`` robot file) in every test run.

Each takes an open :class:`ArmUnderTest`: the arm behind the safety layer with the file's limits (speed capped at
:data:`TEST_SPEED`), its world, and the robot file. Units: m, rad, s; base frame.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

from hardware.base import World
from hardware.config import RobotFile, load_robot_file
from hardware.safe_robot import SafeRobot
from hardware.scene import Scene

TEST_SPEED = 0.05  # m/s: the TCP speed limit of every check on a real arm
SMALL_MOVE = 0.02  # m: the "small safe motion": straight up by this much, then back down
REACH_TOL = 0.005  # m: how close the arm must come to a set-point it was given for long enough


@dataclass
class ArmUnderTest:
    rf: RobotFile
    robot: SafeRobot
    world: Optional[World]  # the simulated world for a sim file, else None until a scene is given
    sim: Any = None  # the SimWorld for a sim file

    def close(self) -> None:
        self.robot.disconnect()
        if self.sim is not None:
            self.sim.close()


def open_arm(config: str) -> ArmUnderTest:
    """Build the configured arm behind the safety layer (speed capped at :data:`TEST_SPEED`) and connect it."""
    from agent.robot_cli import build_robot

    rf = load_robot_file(config)
    raw, sim = build_robot(rf)
    limits = rf.safety_limits()
    limits.max_speed = min(limits.max_speed, TEST_SPEED * math.sqrt(3.0))  # per axis: TEST_SPEED
    if sim is not None:
        limits.watchdog_s = 0.0  # the simulation waits for its next command
    robot = SafeRobot(raw, limits)
    robot.connect()
    return ArmUnderTest(rf, robot, sim, sim)


def servo_for(robot: SafeRobot, target: tuple[float, float, float], yaw: float, seconds: float) -> None:
    """Stream ``target`` every tick for ``seconds`` (the safety layer shapes the motion)."""
    for _ in range(max(1, int(seconds * robot.config.control_hz))):
        robot.servo(target, yaw)
        robot.tick()


def check_connect_and_read(arm: ArmUnderTest) -> None:
    """Connected; the state is finite, the gripper inside its range, the TCP inside the file's box."""
    st = arm.robot.state()
    assert arm.robot.is_connected
    assert all(math.isfinite(v) for v in (*st.tcp_position, st.tcp_yaw, st.gripper_width, *st.joints))
    assert -0.005 <= st.gripper_width <= arm.robot.config.gripper_max_width + 0.005
    lim = arm.robot.limits
    assert all(lo - 0.01 <= v <= hi + 0.01 for v, lo, hi in zip(st.tcp_position, lim.box_min, lim.workspace_max)), \
        f"the TCP {st.tcp_position} rests outside the workspace box of {arm.rf.path}"


def check_small_motion(arm: ArmUnderTest) -> None:
    """Home, then :data:`SMALL_MOVE` straight up and back down; each set-point is reached within :data:`REACH_TOL`,
    and the safety layer's speed limit held on every tick (measured)."""
    robot = arm.robot
    robot.home()
    st = robot.state()
    (x, y, z), yaw = st.tcp_position, st.tcp_yaw
    up = (x, y, z + SMALL_MOVE)
    assert up[2] <= robot.limits.workspace_max[2], "no room above home for the small motion; lower home.position"
    seconds = 2.0 * SMALL_MOVE / TEST_SPEED + 1.0
    for target in (up, (x, y, z)):
        prev = robot.state().tcp_position
        for _ in range(int(seconds * robot.config.control_hz)):
            sent = robot.servo(target, yaw)
            robot.tick()
            step = math.dist(sent.tcp_position, prev)
            assert step <= TEST_SPEED * math.sqrt(3.0) / robot.config.control_hz + 1e-9
            prev = sent.tcp_position
        assert math.dist(robot.state().tcp_position, target) < REACH_TOL


def check_stop(arm: ArmUnderTest) -> None:
    """Start a 6 cm move, stop half-way with :meth:`SafeRobot.stop` (the stop word's path): the arm comes to
    rest short of the target and stays there while no command comes (checked over 0.5 s)."""
    robot = arm.robot
    robot.home()
    (x, y, z), yaw = robot.state().tcp_position, robot.state().tcp_yaw
    target = (x, y, z + 0.06) if z + 0.06 <= robot.limits.workspace_max[2] else (x, y, z - 0.06)
    servo_for(robot, target, yaw, 0.03 / TEST_SPEED)  # about half-way at the test speed
    robot.stop()
    robot.tick(max(1, int(0.2 * robot.config.control_hz)))  # let the vendor stop ramp down
    rest = robot.state().tcp_position
    robot.tick(max(1, int(0.5 * robot.config.control_hz)))
    after = robot.state().tcp_position
    assert math.dist(rest, after) < 0.003, f"the arm kept moving after stop: {rest} -> {after}"
    assert math.dist(after, target) > 0.01, "the arm reached the target: stop did not stop it"
    robot.home()


def check_pick_and_place(arm: ArmUnderTest, scene: Scene, world: World) -> None:
    """Pick the scene's first block and place it in (or on) its first container / other object, through the
    skills, behind the safety layer; both steps succeed and the world sees the block there."""
    from skills.library import run_plan

    block = next(o.name for o in scene.objects if o.kind == "block")
    target = next((o.name for o in scene.objects if o.is_container), None) or next(
        o.name for o in scene.objects if o.name != block)
    arm.robot.home()
    outs = run_plan([{"skill": "pick", "args": {"object": block}}, {"skill": "place", "args": {"target": target}}],
                    arm.robot, world)
    assert [o.success for o in outs] == [True, True], [o.message for o in outs]
    assert world.is_in(block, target) or world.is_on(block, target)
    arm.robot.home()


__all__ = ["ArmUnderTest", "open_arm", "check_connect_and_read", "check_small_motion", "check_stop",
           "check_pick_and_place", "TEST_SPEED"]

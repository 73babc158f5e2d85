"""The tick-loop engine every skill runs on: phases (straight Cartesian lines with a minimum-jerk profile,
gripper actions, waits) executed one control tick at a time, with a stop checked and new arguments taken
between any two ticks.

Each control tick the executor calls ``control.on_tick(tick, robot.state())``; a stop request raises
:class:`StopRequested` within that tick, and arguments handed over by ``control.replace_args`` re-plan the
current phase from the current set-point. Frames and units: robot base frame, metres, radians, seconds.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional

from hardware.base import Robot, RobotState, World
from skills.base import FAILURES, Outcome, SkillControl
from skills.schema import SkillArgError, validate_call

logger = logging.getLogger(__name__)
# a set-point moved by the robot's limits by more than this (m) is reported once per skill; the safety layer's
# smoothing of a move's start (a few mm) is not
CLIP_WARN_M = 0.005

YAW_RATE = 1.5  # rad/s at speed 1.0
GRIP_CLOSE_S = 0.45  # s to close the fingers at speed 1.0
GRIP_OPEN_S = 0.3  # s to open them
SETTLE_S = 0.35  # s to let things come to rest after a release
SETTLE_AT_AIM_S = 0.2  # s held still at the grasp / release point so the arm's set-point correction converges
KNOCK_TILT = 0.5  # rad from vertical: an object tilted past this was knocked over
KNOCK_MOVE = 0.03  # m: an object (other than the one handled) moved this far was knocked


def min_jerk(s: float) -> float:
    """Minimum-jerk progress (0..1) at normalised time ``s`` (0..1)."""
    return s * s * s * (10 - 15 * s + 6 * s * s)


def check_semantics(skill: str, args: dict[str, Any], world: World) -> None:
    """Checks beyond the schema that need the world (raise SkillArgError before motion)."""
    if skill in ("pick",) and world.kind(args["object"]) != "block":
        raise SkillArgError(f"I can only pick up blocks; the {args['object']} is a {world.kind(args['object'])}")
    if skill == "push" and math.hypot(args["direction"][0], args["direction"][1]) < 1e-6:
        raise SkillArgError("push.direction needs a non-zero x or y component")


class StopRequested(Exception):
    """Raised inside the tick loop when the control asked for a stop; :func:`skills.library.run_skill` turns it into a stopped Outcome."""


@dataclass
class Phase:
    """One piece of a skill: ``build(args)`` returns an iterator of (position, yaw, gripper) per tick."""

    name: str
    build: Callable[[dict[str, Any]], Iterator[tuple[tuple[float, float, float], float]]]


class Executor:
    """Runs one validated skill call on a robot in a world, tick by tick."""

    def __init__(self, call: dict[str, Any], robot: Robot, world: World, control: Optional[SkillControl]) -> None:
        self.skill = call["skill"]
        self.args = call["args"]
        self.robot = robot
        self.world = world
        self.control = control
        self.tick_count = 0
        self._checked_tick = -1
        self._warned_clip = False
        st = robot.state()
        self.cmd_pos: tuple[float, float, float] = tuple(st.tcp_position)  # type: ignore[assignment]
        self.cmd_yaw = st.tcp_yaw
        self.t0_sim = st.time_s
        self.t0_wall = time.perf_counter()
        self.max_z = st.tcp_position[2]
        self.start_poses = {n: self._pose4(n) for n in world.names()}
        self.start_tilt = {n: self._tilt(n) for n in world.names()}
        self.trace: list[tuple[float, float, float]] = []

    # --- helpers -------------------------------------------------------------------------------------
    def _pose4(self, n: str) -> list[float]:
        (x, y, z), yaw = self.world.pose(n)
        return [x, y, z, yaw]

    def _tilt(self, n: str) -> float:
        return float(self.world.tilt(n))

    @property
    def speed(self) -> float:
        return float(self.args.get("speed", 1.0))

    def ticks_for(self, seconds: float) -> int:
        return max(1, int(round(seconds * self.robot.config.control_hz)))

    # --- the tick loop --------------------------------------------------------------------------------
    def _tick(self, pos: tuple[float, float, float], yaw: float) -> None:
        """One control tick: hook, stop / new-args handling is done by the caller."""
        cmd = self.robot.servo(pos, yaw)
        if cmd.clipped and not self._warned_clip and math.dist(pos, cmd.tcp_position) > CLIP_WARN_M:
            self._warned_clip = True
            logger.warning("%s: set-point %s clipped to %s by the robot's workspace or speed limits", self.skill,
                           tuple(round(v, 3) for v in pos), tuple(round(v, 3) for v in cmd.tcp_position))
        self.cmd_pos, self.cmd_yaw = tuple(cmd.tcp_position), yaw  # type: ignore[assignment]
        self.robot.tick()
        self.tick_count += 1
        z = self.robot.state().tcp_position[2] if self.tick_count % 4 == 0 else self.cmd_pos[2]
        self.max_z = max(self.max_z, z)

    def _check(self) -> bool:
        """Call the hook; raise StopRequested on a stop request; return True when new args arrived (validated)."""
        if self.control is None:
            return False
        state: RobotState = self.robot.state()
        self.control.on_tick(self.tick_count, state)
        if self.control.stop_requested:
            if self.control.stop_tick is None:
                self.control.stop_tick = self.tick_count
            raise StopRequested()
        new = self.control.take_new_args()
        if new is None:
            return False
        merged = validate_call({"skill": self.skill, "args": {**self.args, **new}}, self.world.names())["args"]
        check_semantics(self.skill, merged, self.world)
        self.args = merged
        return True

    def run_phases(self, phases: list[Phase]) -> None:
        for ph in phases:
            it = ph.build(self.args)
            while True:
                if self._checked_tick != self.tick_count:  # the hook runs once per control tick
                    self._checked_tick = self.tick_count
                    if self._check():
                        it = ph.build(self.args)  # re-plan this phase from where we are, with the new args
                try:
                    pos, yaw = next(it)
                except StopIteration:
                    break
                self._tick(pos, yaw)

    # --- phase builders -------------------------------------------------------------------------------
    def line(self, goal: Callable[[dict[str, Any]], tuple[tuple[float, float, float], float]]) -> Phase:
        """Straight line from the current set-point to ``goal(args)`` (position, yaw), minimum-jerk in time."""

        def build(args: dict[str, Any]) -> Iterator[tuple[tuple[float, float, float], float]]:
            (gx, gy, gz), gyaw = goal(args)
            sx, sy, sz = self.cmd_pos
            syaw = self.cmd_yaw
            dyaw = gyaw - syaw
            dist = math.dist((sx, sy, sz), (gx, gy, gz))
            cfg = self.robot.config
            sp = float(args.get("speed", 1.0))
            dur = max(dist / (cfg.nominal_speed * sp), 1.875 * dist / cfg.max_speed, abs(dyaw) / (YAW_RATE * sp))
            n = self.ticks_for(dur) if dist > 1e-4 or abs(dyaw) > 1e-3 else 0
            for i in range(1, n + 1):
                s = min_jerk(i / n)
                yield (sx + s * (gx - sx), sy + s * (gy - sy), sz + s * (gz - sz)), syaw + s * dyaw

        return Phase("line", build)

    def gripper(self, width: float, force_key: str | None, seconds: float, force: float = 20.0) -> Phase:
        def build(args: dict[str, Any]) -> Iterator[tuple[tuple[float, float, float], float]]:
            f = float(args.get(force_key, force)) if force_key else force
            self.robot.set_gripper(width, f)
            for _ in range(self.ticks_for(seconds / max(float(args.get("speed", 1.0)), 0.1))):
                yield self.cmd_pos, self.cmd_yaw

        return Phase("gripper", build)

    def wait(self, seconds: float, scaled: bool = True) -> Phase:
        def build(args: dict[str, Any]) -> Iterator[tuple[tuple[float, float, float], float]]:
            sp = max(float(args.get("speed", 1.0)), 0.1) if scaled else 1.0
            for _ in range(self.ticks_for(seconds / sp)):
                yield self.cmd_pos, self.cmd_yaw

        return Phase("wait", build)

    # --- outcome ----------------------------------------------------------------------------------------
    def knocked(self, exclude: set[str]) -> list[str]:
        out = []
        for n, (x, y, z, _) in self.start_poses.items():
            if n in exclude:
                continue
            (nx, ny, nz), _ = self.world.pose(n)
            tilted = self._tilt(n) > KNOCK_TILT and self.start_tilt[n] < KNOCK_TILT / 2
            if tilted or math.dist((x, y, z), (nx, ny, nz)) > KNOCK_MOVE:
                out.append(n)
        return out

    def outcome(self, success: bool, failure: str | None = None, message: str = "", error_xy: tuple[float, float] | None = None,
                stopped: bool = False) -> Outcome:
        if failure and not message:
            message = FAILURES[failure]
        return Outcome(
            skill=self.skill, success=success, message=message, failure=failure,
            final_poses={n: self._pose4(n) for n in self.world.names()},
            duration_s=self.tick_count * self.robot.control_dt, wall_s=time.perf_counter() - self.t0_wall,
            ticks=self.tick_count, stopped=stopped, args=dict(self.args), error_xy=error_xy,
        )

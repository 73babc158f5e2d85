"""What running a skill returns, and how a running skill is stopped or re-aimed between control ticks.

``skills.library.run_skill(call, robot, world, control)`` (the executor) validates the call, then moves
the robot tick by tick. Before each tick it calls ``control.on_tick(tick, state)``; the caller (the
teaching session, a test, the simulated user) may then

- ``control.request_stop()``: the skill returns at once with ``Outcome.stopped`` (within one tick);
- ``control.replace_args(new_args)``: the remaining motion is re-planned from the current state with
  the new arguments (an online correction while the arm moves).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from hardware.base import RobotState

# Failure codes and the words a user would use for them.
FAILURES = {
    "missed_grasp": "missed the grasp",
    "dropped": "dropped it",
    "slipped": "it slipped out of the gripper",
    "knocked_over": "knocked something over",
    "missed_target": "missed the target",
    "collision": "hit something on the way",
    "unreachable": "could not reach that point",
    "stopped": "stopped on request",
    "nothing_held": "there is nothing in the gripper",
}


@dataclass
class Outcome:
    """Result of one skill call.

    ``success``: the skill's own goal holds (object held after pick, object in / on target after place).
    ``failure``: a code from :data:`FAILURES` or None; ``message``: what happened, in words a user would use
    (e.g. "landed 3.0 cm left of the green bowl's centre"). ``final_poses``: name -> [x, y, z, yaw].
    ``duration_s``: simulated (or real) seconds the motion took; ``wall_s``: wall-clock seconds.
    ``error_xy``: for place, where the object ended relative to the aimed point's nominal centre (m, base frame).
    """

    skill: str
    success: bool
    message: str = ""
    failure: Optional[str] = None
    final_poses: dict[str, list[float]] = field(default_factory=dict)
    duration_s: float = 0.0
    wall_s: float = 0.0
    ticks: int = 0
    stopped: bool = False
    args: dict[str, Any] = field(default_factory=dict)
    error_xy: Optional[tuple[float, float]] = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


TickHook = Callable[[int, RobotState, "SkillControl"], None]


class SkillControl:
    """Shared between a running skill and whoever may interrupt it (thread-safe for simple flags)."""

    def __init__(self, on_tick: Optional[TickHook] = None) -> None:
        self._on_tick = on_tick
        self.stop_requested = False
        self.new_args: Optional[dict[str, Any]] = None
        self.stop_tick: Optional[int] = None  # tick at which the stop was requested

    def on_tick(self, tick: int, state: RobotState) -> None:
        if self._on_tick is not None:
            self._on_tick(tick, state, self)

    def request_stop(self) -> None:
        self.stop_requested = True

    def replace_args(self, args: dict[str, Any]) -> None:
        self.new_args = dict(args)

    def take_new_args(self) -> Optional[dict[str, Any]]:
        a, self.new_args = self.new_args, None
        return a

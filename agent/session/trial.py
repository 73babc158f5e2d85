"""Replaying an episode's start in a second copy of a simulated world, for credit by re-running
(:mod:`memory.rerun`): "where a simulator is at hand, re-running the step with and without each part is a fair
test of which part fixed it".

The replica is built once, on first use, from a factory the session is given (``TeachingSession.for_sim`` passes
one that builds another world of the same class and settings), so the world the user watches is never touched.
A real robot has no replay: its session has no :class:`Replay` and learning reads the words and the outcome only.
"""
from __future__ import annotations

import copy
import logging
from typing import Any, Callable, Optional, Sequence

from hardware.base import Robot, World
from hardware.scene import Scene
from skills.base import Outcome, SkillControl
from skills.schema import SkillArgError

RunSkill = Callable[[dict[str, Any], Robot, World, SkillControl], Outcome]
logger = logging.getLogger(__name__)
Replica = tuple[Robot, World, Callable[[Scene], None]]
"""A replica world: its robot, the world, and the call that reloads it from a scene."""


class Replay:
    """Runs plans from a scene's start in a replica world (``make``: builds it, once). ``max_runs``: replays per
    episode at most (each is a few simulated seconds); past it a replay answers None (cannot tell)."""

    def __init__(self, make: Callable[[], Replica], run_skill: RunSkill, max_runs: int = 12) -> None:
        self.make, self.run_skill, self.max_runs = make, run_skill, int(max_runs)
        self._replica: Optional[Replica] = None
        self.runs = 0

    def bind(self, scene: Scene) -> Callable[[Sequence[dict[str, Any]], int], Optional[bool]]:
        """The :data:`memory.rerun.StepTrial` for one episode that began in ``scene`` (objects, hidden properties
        and all: the simulator's own scene)."""
        start = copy.deepcopy(scene)
        self.runs = 0

        def trial(plan: Sequence[dict[str, Any]], last: int) -> Optional[bool]:
            return self.run(start, plan, last)

        return trial

    def run(self, scene: Scene, plan: Sequence[dict[str, Any]], last: int) -> Optional[bool]:
        """Reload ``scene`` in the replica and run ``plan[0..last]``: True when every step succeeded, False at the
        first that failed (or was unsafe), None past ``max_runs``."""
        if self.runs >= self.max_runs or not plan:
            return None
        self.runs += 1
        if self._replica is None:
            try:
                self._replica = self.make()
            except Exception as e:  # noqa: BLE001 - a world that cannot be copied: learning goes on without replays
                logger.warning("no replica world for credit by re-running (%s: %s); learning reads the words only",
                               type(e).__name__, e)
                self.max_runs = 0
                return None
        robot, world, reset = self._replica
        reset(copy.deepcopy(scene))
        for call in list(plan)[: last + 1]:
            try:
                if call.get("skill") == "pick" and world.held():
                    self.run_skill({"skill": "open_gripper", "args": {}}, robot, world, SkillControl())
                out = self.run_skill(copy.deepcopy(dict(call)), robot, world, SkillControl())
            except SkillArgError:
                return False
            if not out.success:
                return False
        return True

"""The plan of one episode and its edits: the plan, the cursor (next step to run), the undo stack, rewinding
to the step that must run again, and which steps a correction retargeted.

No robot here: where the arm is matters only to :meth:`PlanEditor.rewind_target`, which is told whether an
object is held.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from agent.session.types import Plan, SkillCall
from skills.schema import describe_call

# Arguments about the motion rather than the object: a retarget ("no, the blue one") keeps them.
MOTION_ARGS: tuple[str, ...] = ("speed",)


def call_key(call: SkillCall) -> tuple[str, str]:
    """(skill, object or target): what a step acts on."""
    a = call.get("args", {})
    return call["skill"], a.get("object") or a.get("target") or ""


def first_diff(a: Sequence[SkillCall], b: Sequence[SkillCall]) -> Optional[int]:
    """Index of the first step where plans ``a`` and ``b`` differ, None when equal."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


def same_shape(a: Sequence[SkillCall], b: Sequence[SkillCall]) -> bool:
    """Same skills on the same objects, step by step (only arguments differ)."""
    return len(a) == len(b) and all(call_key(x) == call_key(y) for x, y in zip(a, b))


@dataclass
class Change:
    """One undoable plan change: the plan before it and where the episode stood then."""

    before: Plan
    cursor_before: int
    steps_run: int
    label: str
    paused_before: bool = False
    history_len: int = 0


class PlanEditor:
    """The plan (``plan``, ``base_plan`` before knowledge, ``initial_plan`` after it), the ``cursor``, the
    ``history`` of grounded utterances and the undo stack."""

    def __init__(self) -> None:
        self.plan: Plan = []
        self.base_plan: Plan = []
        self.initial_plan: Plan = []
        self.history: list[dict[str, Any]] = []
        self.cursor = 0
        self._undo: list[Change] = []

    def load(self, base: Plan, initial: Plan) -> None:
        """A new episode's plans; the cursor goes to step 0 and history and undo are cleared."""
        self.base_plan, self.initial_plan, self.plan = copy.deepcopy(base), copy.deepcopy(initial), copy.deepcopy(initial)
        self.history, self.cursor, self._undo = [], 0, []

    @property
    def done(self) -> bool:
        """Every step has run."""
        return self.cursor >= len(self.plan)

    def describe_next(self) -> str:
        return f"step {self.cursor}: {describe_call(self.plan[self.cursor])}"

    def ref_step(self, running: Optional[int], last_step: int) -> int:
        """The step an utterance refers to: the running one, else the last run, else the next."""
        ref = running if running is not None else (last_step if last_step >= 0 else self.cursor)
        return max(0, min(ref, len(self.plan) - 1)) if self.plan else 0

    # --- undo ------------------------------------------------------------------------------------
    def push(self, before: Plan, cursor_before: int, steps_run: int, label: str, paused: bool) -> None:
        """Remember the plan before a change, for :meth:`pop`."""
        self._undo.append(Change(copy.deepcopy(before), cursor_before, steps_run, label, paused, len(self.history)))

    def last(self) -> Optional[Change]:
        """The last change, left on the stack; None when there is none."""
        return self._undo[-1] if self._undo else None

    def pop(self) -> Optional[Change]:
        """The last change, taken off the stack (its history entries dropped); None when there is none."""
        if not self._undo:
            return None
        ch = self._undo.pop()
        del self.history[ch.history_len:]
        return ch

    # --- rewinding -------------------------------------------------------------------------------
    def rewind_target(self, j: int, holding: bool) -> int:
        """The step to run again so that step ``j`` can be redone: a place whose object is no longer held
        (``holding`` False) goes back to the pick of that object."""
        j = max(0, min(j, len(self.plan)))
        if j < len(self.plan) and self.plan[j]["skill"] == "place" and not holding:
            for k in range(j - 1, -1, -1):
                if self.plan[k]["skill"] == "pick":
                    return k
        return j

    def retargeted(self, new: Plan) -> list[int]:
        """Steps whose skill stays but whose object or target ``new`` changes ("no, the blue one")."""
        return [i for i, (a, b) in enumerate(zip(self.plan, new)) if a["skill"] == b["skill"] and call_key(a) != call_key(b)]

    def unself_place(self, new: Plan) -> Plan:
        """``new`` with any place whose target is the very object its pick holds (a retarget of the pick onto the
        object an earlier, misheard change made the target: "the orange one instead" read as a new target, then
        "no, the orange block") given back the target that place had in the plan the episode began with."""
        out = copy.deepcopy(new)
        held: Optional[str] = None
        for i, c in enumerate(out):
            a = c.get("args", {})
            if c["skill"] == "pick":
                held = a.get("object")
            elif c["skill"] == "place" and held is not None and a.get("target") == held:
                was = self.initial_plan[i]["args"].get("target") if i < len(self.initial_plan) and self.initial_plan[i]["skill"] == "place" else None
                if was and was != held:
                    a["target"] = was
        return out

    def goal_pairs(self) -> list[tuple[str, str]]:
        """(object, target) pairs the plan should achieve: each place after its pick."""
        pairs: list[tuple[str, str]] = []
        held: Optional[str] = None
        for c in self.plan:
            a = c.get("args", {})
            if c["skill"] == "pick":
                held = a.get("object")
            elif c["skill"] == "place" and held:
                pairs.append((held, a.get("target")))
                held = None
        return pairs

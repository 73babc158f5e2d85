"""From a structured intent (what the heads predicted) to concrete parameter changes and a new plan.

Deterministic and model-free: :class:`Intent` -> :class:`Effect` (metres, radians, ratios), resolving
"more / again / keep going", "too far, back a little" (part of the last step back) and "undo that" (all of it)
against the effects of earlier corrections,
then :func:`apply_effect` / :func:`apply_plan_op` produce the plan after the correction.
Frames and units: ``shared/spec/corrections.md`` (x forward, y left, z up; metres; radians).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Optional

from skills.schema import SKILLS, validate_call

from .labels import OFFSET_M, REVERSE_FRACTION, SCALE_HEADS, SCALE_RATIO, YAW_RAD

DEFAULT_ARGS = {"offset": [0.0, 0.0, 0.0], "yaw": 0.0, "speed": 1.0, "force": 20.0, "height": 0.1}


@dataclass
class Intent:
    """What an utterance asks for, as head classes (see :mod:`agent.grounder.labels`).

    ``signed``: x/y/z/yaw -> class from ``SIGNED``; ``scale``: speed/force/height -> class from ``SCALE``;
    ``obj``/``tgt``: pointed scene object names; ``lengths`` (m) / ``angles`` (rad): numbers said.
    """

    level: str
    hist: str = "new"
    hmag: str = "same"
    signed: dict[str, str] = field(default_factory=dict)
    scale: dict[str, str] = field(default_factory=dict)
    plan_op: str = "none"
    obj: Optional[str] = None
    tgt: Optional[str] = None
    lengths: list[float] = field(default_factory=list)
    angles: list[float] = field(default_factory=list)
    confidence: float = 1.0
    order: list[str] = field(default_factory=list)  # axes in spoken order (numbers are assigned in that order)
    factor: Optional[float] = None  # a factor said ("twice as fast" -> 2.0, "half the speed" -> 0.5), see numbers.parse_factor

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, [], {}, "none") or k == "level"}


@dataclass
class Effect:
    """A concrete change: offset delta [dx, dy, dz] m, yaw delta rad, multiplicative ratios."""

    offset: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    yaw: float = 0.0
    ratios: dict[str, float] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not any(abs(v) > 1e-9 for v in self.offset) and abs(self.yaw) < 1e-9 and not self.ratios


def _mag_value(cls: str, table: dict[str, float], numbers: list[float]) -> float:
    sign = -1.0 if cls[0] == "-" else 1.0
    mag = cls[1]
    if mag == "n":
        return sign * (numbers.pop(0) if numbers else table["m"])
    return sign * table[mag]


def effect_of(intent: Intent) -> Effect:
    """The effect of a *new* skill-level correction (no history involved)."""
    lengths, angles = list(intent.lengths), list(intent.angles)
    active = [a for a in ("x", "y", "z") if intent.signed.get(a, "none") != "none"]
    # "a number with a unit is taken as said": one number, one direction -> that number
    if len(active) == 1 and len(lengths) == 1 and not intent.signed[active[0]].endswith("n"):
        intent.signed[active[0]] = intent.signed[active[0]][0] + "n"
    yaw_cls = intent.signed.get("yaw", "none")
    if yaw_cls != "none" and len(angles) == 1 and not yaw_cls.endswith("n"):
        yaw_cls = yaw_cls[0] + "n"
    e = Effect()
    order = [a for a in intent.order if a in ("x", "y", "z")] + [a for a in ("x", "y", "z") if a not in intent.order]
    for a in order:
        c = intent.signed.get(a, "none")
        if c != "none":
            e.offset["xyz".index(a)] = _mag_value(c, OFFSET_M, lengths)
    if yaw_cls != "none":
        e.yaw = _mag_value(yaw_cls, YAW_RAD, angles)
    scaled = [h for h in SCALE_HEADS if intent.scale.get(h, "none") != "none"]
    for h in scaled:
        c = intent.scale[h]
        e.ratios[h] = SCALE_RATIO[h][c]
        if intent.factor and len(scaled) == 1 and intent.factor != 1.0:
            # the factor said, in the direction the head says: "twice as slow" = x0.5, "half the speed" = x0.5
            f = intent.factor
            e.ratios[h] = f if (f > 1) == (c[0] == "+") else 1 / f
    return e


def _rescale(e: Effect, mag: str) -> Effect:
    """Same directions as ``e`` with a small / large magnitude."""
    out = Effect()
    for i, v in enumerate(e.offset):
        if abs(v) > 1e-9:
            out.offset[i] = math.copysign(OFFSET_M[mag], v)
    if abs(e.yaw) > 1e-9:
        out.yaw = math.copysign(YAW_RAD[mag], e.yaw)
    for h, r in e.ratios.items():
        out.ratios[h] = SCALE_RATIO[h][("+" if r > 1 else "-") + mag]
    return out


def resolve(intent: Intent, previous: list[Optional[Effect]]) -> Optional[Effect]:
    """The effect of ``intent`` given earlier corrections' effects (oldest first; None for non-skill ones).

    Returns None when the intent refers to history and there is none to refer to.
    """
    if intent.hist == "new":
        return effect_of(intent)
    last = next((p for p in reversed(previous) if p is not None and not p.empty), None)
    if last is None:
        return None
    if intent.hist == "repeat":
        return copy.deepcopy(last) if intent.hmag == "same" else _rescale(last, intent.hmag[0])
    if intent.hist == "undo":  # "undo that": the last correction reverted in full
        return Effect([-v for v in last.offset], -last.yaw, {h: 1 / r for h, r in last.ratios.items()})
    # reverse: part of the last step back, at most a small step
    out = Effect()
    for i, v in enumerate(last.offset):
        if abs(v) > 1e-9:
            out.offset[i] = -math.copysign(min(abs(v) * REVERSE_FRACTION, OFFSET_M["s"]), v)
    if abs(last.yaw) > 1e-9:
        out.yaw = -math.copysign(min(abs(last.yaw) * REVERSE_FRACTION, YAW_RAD["s"]), last.yaw)
    for h, r in last.ratios.items():
        out.ratios[h] = r ** -REVERSE_FRACTION
    return out


def pair_indices(plan: list[dict[str, Any]], step: int) -> tuple[Optional[int], Optional[int]]:
    """(pick index, place index) of the pick-and-place pair that ``step`` belongs to."""
    picks = [i for i, s in enumerate(plan) if s.get("skill") == "pick"]
    pick = next((i for i in reversed(picks) if i <= step), picks[0] if picks else None)
    place = None
    if pick is not None:
        place = next((i for i in range(pick + 1, len(plan)) if plan[i].get("skill") == "place"), None)
    elif plan and plan[min(step, len(plan) - 1)].get("skill") == "place":
        place = min(step, len(plan) - 1)
    return pick, place


def _bounds(skill: str, arg: str) -> tuple[float, float]:
    p = SKILLS[skill].param(arg)
    return float(p.lo), float(p.hi)


def apply_effect(plan: list[dict[str, Any]], step: int, e: Effect) -> list[dict[str, Any]]:
    """A new plan with ``e`` applied to ``step`` (force goes to the pick that holds the object).

    Values are clipped to the skill's safe bounds (``skills.schema``)."""
    out = copy.deepcopy(plan)
    step = max(0, min(step, len(out) - 1))
    pick, _ = pair_indices(out, step)

    def accepts(i: int, arg: str) -> bool:
        return any(p.name == arg for p in SKILLS[out[i]["skill"]].params)

    def set_arg(i: int, arg: str, fn) -> None:
        if i is None or not accepts(i, arg):
            return
        args = out[i].setdefault("args", {})
        cur = args.get(arg, SKILLS[out[i]["skill"]].param(arg).default)
        if cur is None:
            cur = DEFAULT_ARGS.get(arg)
        args[arg] = fn(cur)

    if any(abs(v) > 1e-9 for v in e.offset):
        lo, hi = _bounds(out[step]["skill"], "offset") if accepts(step, "offset") else (-1, 1)
        set_arg(step, "offset", lambda cur: [round(min(hi, max(lo, float(c) + d)), 5) for c, d in zip(cur, e.offset)])
    if abs(e.yaw) > 1e-9:
        set_arg(step, "yaw", lambda cur: round(max(-math.pi, min(math.pi, float(cur) + e.yaw)), 5))
    for h, r in e.ratios.items():
        i = step if accepts(step, h) else (pick if h == "force" else None)
        if i is None:
            continue
        lo, hi = _bounds(out[i]["skill"], h)
        set_arg(i, h, lambda cur, r=r, lo=lo, hi=hi: round(min(hi, max(lo, float(cur) * r)), 5))
    return out


def _call(skill: str, **args: Any) -> dict[str, Any]:
    return validate_call({"skill": skill, "args": args})


def apply_plan_op(plan: list[dict[str, Any]], step: int, intent: Intent) -> list[dict[str, Any]]:
    """A new plan with the retarget / append of ``intent`` done (pointers must be resolved)."""
    out = copy.deepcopy(plan)
    pick, place = pair_indices(out, step)
    if intent.plan_op == "retarget_object" and pick is not None and intent.obj:
        out[pick]["args"]["object"] = intent.obj
    elif intent.plan_op == "retarget_target" and place is not None and intent.tgt:
        out[place]["args"]["target"] = intent.tgt
    elif intent.plan_op == "append" and intent.obj:
        tgt = intent.tgt
        if tgt is None and place is not None:
            tgt = out[place]["args"].get("target")
        out.append(_call("pick", object=intent.obj))
        if tgt:
            out.append(_call("place", target=tgt))
    return out

""""No, the other way": a contradiction of the last change, grounded against what that change did.

Whoever says "the other way" right after a correction means the direction opposite to the one the robot just took,
on the same step and the same argument, by about the same amount. The policy sees only the words of earlier
corrections; the session knows the change itself (the plan before it and after it), so it grounds the
contradiction here: every argument the last change moved is put as far on the other side of where it was before
that change (offsets, yaw and height: ``before - (after - before)``; speed and force, which scale:
``before * before / after``), clipped to the skill's safe range (``skills.schema``) as any grounded change is.

An extension of the correction contract (``shared/spec/corrections.md``: "too far, back a little" undo part of the
last correction; "the other way" turns it around).
"""
from __future__ import annotations

import copy
import math
import re
from typing import Any, Optional

from agent.session.plan_editor import same_shape
from agent.session.types import Plan
from skills.schema import SKILLS

_FILLER = re.compile(r"\b(no|nope|sorry|oops|uh|um|er|erm|oh|well|like|actually|i said|i meant|i mean|so|please|"
                     r"wait no|not that)\b")
_OTHER_WAY = re.compile(r"^(?:(?:go|move|turn|do it|it'?s|its|that'?s|thats)\s+)?(?:the\s+)?(?:"
                        r"(?:other|opposite|wrong|reverse)\s+(?:way|direction)(?:\s+(?:round|around))?|opposite|"
                        r"(?:in\s+)?the\s+opposite\s+direction)$")
ADDITIVE = ("offset", "yaw", "height")
SCALING = ("speed", "force")


def is_other_way(text: str) -> bool:
    """Whether ``text`` only says "the other way" ("no, the other way", "sorry, opposite direction"); an utterance
    that also says which way ("the other way, to the left") is a correction for the policy."""
    t = re.sub(r"[^a-z' ]", " ", (text or "").lower())
    t = re.sub(r"\s+", " ", _FILLER.sub(" ", t)).strip()
    return bool(t) and bool(_OTHER_WAY.match(t))


_BARE_OTHER = re.compile(r"^(?:the\s+)?other$")


def is_bare_other(text: str) -> bool:
    """Whether ``text`` only says "the other" with no noun after it ("no, the other"): "the other way" with the
    last word lost, or "the other one". The session reads it as "the other way" only when its last change turned
    an argument that can be turned around (a retarget's "the other one" is for the policy)."""
    t = re.sub(r"[^a-z' ]", " ", (text or "").lower())
    t = re.sub(r"\s+", " ", _FILLER.sub(" ", t)).strip()
    return bool(_BARE_OTHER.match(t))


def _num(v: Any) -> Optional[float]:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _clip(skill: str, arg: str, v: float) -> float:
    spec = SKILLS.get(skill)
    if spec is None or not any(p.name == arg for p in spec.params):
        return v
    p = spec.param(arg)
    lo = float(p.lo) if p.lo is not None else -math.inf
    hi = float(p.hi) if p.hi is not None else math.inf
    return round(min(hi, max(lo, v)), 5)


def mirror(before: Plan, after: Plan) -> Optional[tuple[Plan, list[int]]]:
    """``after`` with every argument that ``before -> after`` changed put on the other side of its ``before`` value;
    ``(plan, steps changed)``, or None when the change was not a change of arguments (a retarget, a new step) or
    changed nothing that can be turned around."""
    if not same_shape(before, after):
        return None
    out = copy.deepcopy(after)
    steps: list[int] = []
    for i, (b, a) in enumerate(zip(before, after)):
        ba, aa = b.get("args", {}), a.get("args", {})
        hit = False
        for k in ADDITIVE + SCALING:
            vb, va = ba.get(k), aa.get(k)
            if vb is None or va is None or vb == va:
                continue
            if k == "offset" and isinstance(vb, (list, tuple)) and isinstance(va, (list, tuple)) and len(vb) == len(va):
                out[i]["args"][k] = [_clip(a["skill"], k, 2 * float(x) - float(y)) for x, y in zip(vb, va)]
                hit = True
            elif k in ADDITIVE and _num(vb) is not None and _num(va) is not None:
                out[i]["args"][k] = _clip(a["skill"], k, 2 * float(vb) - float(va))
                hit = True
            elif k in SCALING and _num(vb) and _num(va):
                out[i]["args"][k] = _clip(a["skill"], k, float(vb) * float(vb) / float(va))
                hit = True
        if hit:
            steps.append(i)
    return (out, steps) if steps else None

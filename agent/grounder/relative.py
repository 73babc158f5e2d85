"""Object-relative corrections and the user's viewpoint: geometry, not learning.

An extension of the correction contract (``shared/spec/corrections.md``; README "Grounding"):

- "toward / towards / closer to / nearer to X" moves the aimed point of the step toward X in the table
  plane; "away from / further from / farther from X" away from it; "next to / beside / alongside X"
  puts it beside X, on the side it comes from, with a 1 cm gap. X is a scene object named by colour,
  kind or size words ("the yellow bowl", "the blue one", "the big block"), or the table edge ("the
  edge": the nearest of the far, left and right edges; "the left edge" names one).
  Size: the contract's magnitudes ("a bit" small 1.2 cm, bare medium 3 cm, "a lot" large 8 cm), or the
  length said ("2 cm toward the bowl"); never past X itself.
- Viewpoints: the user's words are in the user's frame. ``behind`` (default: the user stands behind
  the robot and looks where it looks; the contract's frame), ``facing`` (across the table, looking at
  the robot: left and right, forward and back swap), ``camera`` (the words describe the scene camera's
  image; its viewing direction ``camera_yaw``, rad in the base frame, default pi: the simulator's scene
  camera looks from across the table). :func:`to_base` rotates an offset said in the user's frame into
  the base frame. Object-relative offsets are computed in the base frame and are not rotated.

"closer to me / you / the robot / the table", "toward the left / the back" are not object-relative:
they stay the learned model's (the contract's fixed directions).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from hardware.scene import COLORS

from .labels import OFFSET_M
from .numbers import lengths, tokens

VIEWPOINTS = {"behind": 0.0, "facing": math.pi}
GAP_M = 0.01  # "next to": clearance between the two objects' sides, m

_REL = re.compile(r"\b(?P<rel>towards?|closer to|nearer to|nearer|away from|further from|farther from|further away from|"
                  r"farther away from|next to|beside|alongside)\s+(?P<ref>(?:the\s+)?[a-z]+(?:\s+[a-z]+){0,3})")
_TOWARD = {"toward", "towards", "closer to", "nearer to", "nearer"}
_AWAY = {"away from", "further from", "farther from", "further away from", "farther away from"}
_SMALL = re.compile(r"\b(a bit|a little|slightly|a touch|a tad|a smidge|a hair|just a|a tiny)\b")
_LARGE = re.compile(r"\b(a lot|much|way|far|a long way|lots)\b")
_KINDS = {"block": "block", "blocks": "block", "cube": "block", "bowl": "bowl", "bowls": "bowl", "tray": "tray"}
_SIZES = {"small": 0.03, "little": 0.03, "tiny": 0.03, "smaller": 0.03, "large": 0.05, "big": 0.05, "bigger": 0.05, "larger": 0.05}
_NOT_OBJECTS = {"me", "you", "yourself", "robot", "base", "table", "left", "right", "front", "back", "far", "near", "side", "top",
                "bottom", "camera", "window", "wall", "door", "middle", "center", "centre", "user"}


@dataclass(frozen=True)
class TableBounds:
    """The table top's edges in the base frame, m (the simulator's table: 1.4 m x 1.6 m centred at x 0.45).

    The near edge (behind the robot base) is not an "edge" a user means."""

    x_far: float = 1.15
    y_left: float = 0.8
    y_right: float = -0.8


@dataclass
class Relative:
    """An object-relative correction found in an utterance: ``offset`` [dx, dy, 0] m (base frame), or a
    ``question`` when the reference is ambiguous or missing."""

    offset: Optional[list[float]] = None
    question: Optional[str] = None
    relation: str = ""
    reference: str = ""


def to_base(offset: Sequence[float], viewpoint: str = "behind", camera_yaw: float = math.pi) -> list[float]:
    """An offset said in the user's frame (x forward, y left, as the user sees it) in the base frame."""
    th = camera_yaw if viewpoint == "camera" else VIEWPOINTS.get(viewpoint, 0.0)
    dx, dy, dz = (float(v) for v in offset)
    c, s = math.cos(th), math.sin(th)
    return [round(dx * c - dy * s, 6), round(dx * s + dy * c, 6), dz]


def _resolve(ref_words: list[str], objs: Sequence[dict[str, Any]], exclude: Optional[str]) -> tuple[Optional[dict[str, Any]], Optional[str]]:
    colors = [w if w != "grey" else "gray" for w in ref_words if w in COLORS or w == "grey"]
    kinds = [_KINDS[w] for w in ref_words if w in _KINDS]
    sizes = [_SIZES[w] for w in ref_words if w in _SIZES]
    if not colors and not kinds and not sizes:
        return None, None
    cands = [o for o in objs if o["name"] != exclude
             and (not colors or o.get("color") == colors[0])
             and (not kinds or o.get("kind") == kinds[0])
             and (not sizes or (o.get("kind") == "block" and abs(float(o.get("size", 0.04)) - sizes[0]) < 0.006))]
    said = " ".join(ref_words)
    if len(cands) == 1:
        return cands[0], None
    names = ", ".join(o["name"] for o in (cands or objs))
    return None, (f"which {said} do you mean? I see: {names}" if cands else f"there is no {said}; I see: {names}")


def find_relative(utterance: str, objs: Sequence[dict[str, Any]], aimed: Sequence[float], moving: Optional[str] = None,
                  moving_size: float = 0.04, table: TableBounds = TableBounds()) -> Optional[Relative]:
    """The object-relative correction in ``utterance``, or None when it has none.

    ``aimed``: the point the corrected step aims at now (x, y, z, base frame, m); ``moving``: the name of the
    object the step carries or picks (never its own reference); ``moving_size``: its size, m."""
    low = " ".join(tokens(utterance))
    m = _REL.search(low)
    if not m:
        return None
    rel = m.group("rel")
    words = [w for w in m.group("ref").split() if w not in ("the", "a", "an", "one", "please", "bit", "little", "more")]
    # the reference ends at the first word that is not part of a name
    ref: list[str] = []
    for w in words:
        if w in COLORS or w == "grey" or w in _KINDS or w in _SIZES or w in ("edge", "edges") or w in _NOT_OBJECTS:
            ref.append(w)
        else:
            break
    if not ref or any(w in _NOT_OBJECTS for w in ref if w not in ("left", "right", "far")):
        return None
    ax, ay = float(aimed[0]), float(aimed[1])
    n = lengths(utterance)
    mag = n[0] if n else OFFSET_M["s"] if _SMALL.search(low) else OFFSET_M["l"] if _LARGE.search(low) else OFFSET_M["m"]
    if "edge" in ref or "edges" in ref:
        edges = {"far": (1.0, 0.0, table.x_far - ax), "left": (0.0, 1.0, table.y_left - ay), "right": (0.0, -1.0, ay - table.y_right)}
        named = [e for e in edges if e in ref]
        if not named and any(w in ref for w in ("left", "right")):
            named = [w for w in ("left", "right") if w in ref]
        e = named[0] if named else min(edges, key=lambda k: edges[k][2])
        ux, uy, dist = edges[e]
        if rel in _AWAY:
            ux, uy = -ux, -uy
        elif rel not in _TOWARD:  # next to the edge: up to a gap from it
            mag = max(0.0, dist - moving_size / 2 - GAP_M)
        if rel in _TOWARD:
            mag = min(mag, max(0.0, dist - moving_size / 2))
        return Relative([round(ux * mag, 5), round(uy * mag, 5), 0.0], relation=rel, reference=f"the {e} edge")
    if any(w in _NOT_OBJECTS for w in ref):
        return None
    obj, question = _resolve(ref, objs, moving)
    if question:
        return Relative(question=question, relation=rel, reference=" ".join(ref))
    if obj is None:
        return None
    vx, vy = float(obj["position"][0]) - ax, float(obj["position"][1]) - ay
    dist = math.hypot(vx, vy)
    if dist < 1e-6:
        return Relative(question=f"I am already at the {obj['name']}; which way should I move?", relation=rel, reference=obj["name"])
    ux, uy = vx / dist, vy / dist
    if rel in _TOWARD:
        mag = min(mag, dist)
        d = [ux * mag, uy * mag]
    elif rel in _AWAY:
        d = [-ux * mag, -uy * mag]
    else:  # beside it, on the side we come from
        gap = float(obj.get("size", 0.04)) / 2 + moving_size / 2 + GAP_M
        d = [vx - ux * gap, vy - uy * gap]
    return Relative([round(d[0], 5), round(d[1], 5), 0.0], relation=rel, reference=obj["name"])

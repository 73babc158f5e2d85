"""Typed parameter schemas of every skill: units, defaults and safe bounds, and plan validation.

A plan is a list of skill calls ``{"skill": NAME, "args": {...}}`` (``shared/spec/corrections.md``).
The canonical arguments are ``object``, ``target``, ``offset`` ([dx, dy, dz] m, base frame), ``yaw``
(rad, counter-clockwise seen from above, added to the skill's own choice), ``speed`` (scale on the
nominal Cartesian speed), ``force`` (N) and ``height`` (m of approach / lift clearance).

Everything that reaches a robot passes :func:`validate_call` first: unknown skills, unknown arguments,
values out of the safe range and objects that are not in the scene are rejected with a
:class:`SkillArgError` that says exactly what is wrong, before any motion.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Iterable
from hardware.errors import RobocorrectError


class SkillArgError(RobocorrectError, ValueError):
    """A skill call that must not run; the message names the skill, the argument and the allowed range."""


@dataclass(frozen=True)
class Param:
    """One argument: ``type`` is 'object', 'target', 'vec3', 'float' or 'str'; bounds apply per component."""

    name: str
    type: str
    unit: str = ""
    default: Any = None
    lo: float | None = None
    hi: float | None = None
    required: bool = False
    doc: str = ""


OFFSET = Param("offset", "vec3", "m", (0.0, 0.0, 0.0), -0.15, 0.15, doc="added to the aimed point, base frame")
YAW = Param("yaw", "float", "rad", 0.0, -math.pi, math.pi, doc="gripper rotation about z added to the skill's choice")
SPEED = Param("speed", "float", "x", 1.0, 0.1, 3.0, doc="scale on the nominal Cartesian speed")
FORCE = Param("force", "float", "N", 20.0, 2.0, 100.0, doc="gripping force")
HEIGHT = Param("height", "float", "m", 0.1, 0.02, 0.3, doc="approach / lift clearance above the aimed point")
OBJECT = Param("object", "object", required=True, doc="scene object the skill acts on")
TARGET = Param("target", "target", required=True, doc="scene object or named spot the object goes to")

# Named spots on the table (base frame, m) that `place` and `move_to` accept as a target.
NAMED_SPOTS: dict[str, tuple[float, float]] = {
    "center": (0.5, 0.0),
    "left side": (0.5, 0.22),
    "right side": (0.5, -0.22),
    "front": (0.64, 0.0),
    "back": (0.38, 0.0),
}


@dataclass(frozen=True)
class SkillSpec:
    name: str
    params: tuple[Param, ...]
    doc: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise SkillArgError(f"{self.name} has no argument {name!r}; it takes: {', '.join(p.name for p in self.params)}")

    def defaults(self) -> dict[str, Any]:
        return {p.name: (list(p.default) if isinstance(p.default, tuple) else p.default) for p in self.params if not p.required and p.default is not None}


SKILLS: dict[str, SkillSpec] = {
    s.name: s
    for s in (
        SkillSpec("pick", (OBJECT, OFFSET, YAW, SPEED, FORCE, HEIGHT), "grasp `object` from above and lift it"),
        SkillSpec("place", (TARGET, OFFSET, YAW, SPEED, HEIGHT), "put the held object into / onto `target` (object or named spot)"),
        SkillSpec("push", (OBJECT, OFFSET, YAW, SPEED, HEIGHT, Param("direction", "vec3", "", (1.0, 0.0, 0.0), -1.0, 1.0), Param("distance", "float", "m", 0.1, 0.0, 0.3)),
                  "push `object` along `direction` (base frame, xy used) by `distance`"),
        SkillSpec("move_to", (TARGET, OFFSET, YAW, SPEED, HEIGHT), "move the gripper above `target` at `height`"),
        SkillSpec("open_gripper", (Param("width", "float", "m", 0.08, 0.0, 0.08),), "open the gripper to `width`"),
        SkillSpec("close_gripper", (FORCE,), "close the gripper with `force`"),
        SkillSpec("home", (SPEED,), "return to the home configuration"),
    )
}


def _names(scene: Any) -> list[str]:
    """Object names from a :class:`hardware.scene.Scene`, a contract scene dict, or a list of names."""
    if scene is None:
        return []
    if hasattr(scene, "names"):
        return list(scene.names)
    if isinstance(scene, dict):
        return [o["name"] for o in scene.get("objects", [])]
    return list(scene)


def _num(skill: str, p: Param, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise SkillArgError(f"{skill}.{p.name} must be a number ({p.unit or 'unitless'}), got {v!r}")
    if (p.lo is not None and v < p.lo) or (p.hi is not None and v > p.hi):
        raise SkillArgError(f"{skill}.{p.name} = {v:g} {p.unit} is outside the safe range [{p.lo:g}, {p.hi:g}] {p.unit}".rstrip())
    return float(v)


def validate_call(call: dict[str, Any], scene: Any = None, fill_defaults: bool = True) -> dict[str, Any]:
    """Check one skill call against its schema (and the scene's object names when ``scene`` is given).

    Returns a new, normalised call (floats, lists, defaults filled when ``fill_defaults``); raises
    :class:`SkillArgError` otherwise. Never mutates ``call``.
    """
    if not isinstance(call, dict) or "skill" not in call:
        raise SkillArgError(f"a skill call is {{'skill': NAME, 'args': {{...}}}}, got {call!r}")
    name = call["skill"]
    if name not in SKILLS:
        raise SkillArgError(f"unknown skill {name!r}; skills: {', '.join(SKILLS)}")
    spec = SKILLS[name]
    args = call.get("args", {}) or {}
    if not isinstance(args, dict):
        raise SkillArgError(f"{name}: args must be a mapping, got {type(args).__name__}")
    known = {p.name for p in spec.params}
    unknown = sorted(set(args) - known)
    if unknown:
        raise SkillArgError(f"{name} does not take {', '.join(map(repr, unknown))}; it takes: {', '.join(sorted(known))}")
    names = _names(scene)
    out: dict[str, Any] = spec.defaults() if fill_defaults else {}
    for p in spec.params:
        if p.name not in args:
            if p.required:
                raise SkillArgError(f"{name} needs {p.name!r}")
            continue
        v = args[p.name]
        if p.type in ("object", "target"):
            if not isinstance(v, str) or not v:
                raise SkillArgError(f"{name}.{p.name} must be an object name, got {v!r}")
            allowed_spot = p.type == "target" and v in NAMED_SPOTS
            if names and v not in names and not allowed_spot:
                extra = f"; named spots: {', '.join(NAMED_SPOTS)}" if p.type == "target" else ""
                raise SkillArgError(f"there is no {v}; I see: {', '.join(names)}{extra}")
            out[p.name] = v
        elif p.type == "vec3":
            if not isinstance(v, (list, tuple)) or len(v) != 3:
                raise SkillArgError(f"{name}.{p.name} must be [x, y, z] in {p.unit or 'units'}, got {v!r}")
            out[p.name] = [_num(name, Param(f"{p.name}[{i}]", "float", p.unit, lo=p.lo, hi=p.hi), c) for i, c in enumerate(v)]
        elif p.type == "float":
            out[p.name] = _num(name, p, v)
        else:
            out[p.name] = v
    return {"skill": name, "args": out}


def validate_plan(plan: Iterable[dict[str, Any]], scene: Any = None, fill_defaults: bool = True) -> list[dict[str, Any]]:
    """Validate every call of a plan; the error names the failing step (0-based)."""
    if not isinstance(plan, (list, tuple)):
        raise SkillArgError(f"a plan is a list of skill calls, got {type(plan).__name__}")
    out = []
    for i, call in enumerate(plan):
        try:
            out.append(validate_call(call, scene, fill_defaults))
        except SkillArgError as e:
            raise SkillArgError(f"step {i}: {e}") from None
    return out


def diff_plans(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[str]:
    """Human-readable changes between two plans, e.g. ``"place: offset y +1.5 cm"``, ``"pick: speed 1.0 → 0.6"``."""
    if [s["skill"] for s in before] != [s["skill"] for s in after]:
        b = ", ".join(_describe(s) for s in before)
        a = ", ".join(_describe(s) for s in after)
        return [f"plan: [{b}] → [{a}]"]
    changes: list[str] = []
    for i, (b, a) in enumerate(zip(before, after)):
        ba, aa = b.get("args", {}), a.get("args", {})
        for k in sorted(set(ba) | set(aa)):
            vb, va = ba.get(k), aa.get(k)
            if vb == va:
                continue
            label = f"step {i} {a['skill']}"
            if k == "offset":
                vb = vb or [0.0, 0.0, 0.0]
                for ax, x0, x1 in zip("xyz", vb, va or [0.0, 0.0, 0.0]):
                    if abs(x1 - x0) > 1e-6:
                        changes.append(f"{label}: offset {ax} {100 * (x1 - x0):+.1f} cm")
            elif k == "yaw":
                changes.append(f"{label}: yaw {math.degrees((va or 0.0) - (vb or 0.0)):+.0f}°")
            elif isinstance(va, float) or isinstance(vb, float):
                changes.append(f"{label}: {k} {_fmt(vb)} → {_fmt(va)}")
            else:
                changes.append(f"{label}: {k} {vb} → {va}")
    return changes


def _fmt(v: Any) -> str:
    return "default" if v is None else f"{v:.2f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)


def _describe(call: dict[str, Any]) -> str:
    a = call.get("args", {})
    who = a.get("object") or a.get("target") or ""
    return f"{call['skill']}({who})" if who else call["skill"]


def clone_plan(plan: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return copy.deepcopy(plan)


def describe_call(call: dict[str, Any]) -> str:
    """'pick the red block (offset z -1.5 cm, force 30 N)': the call in words, non-default args shown."""
    a = call.get("args", {})
    who = a.get("object") or a.get("target")
    head = f"{call['skill']} the {who}" if who and who not in NAMED_SPOTS else f"{call['skill']} {who or ''}".strip()
    spec = SKILLS.get(call["skill"])
    defaults = spec.defaults() if spec else {}
    extra = []
    for k, v in a.items():
        if k in ("object", "target") or v is None or v == defaults.get(k):
            continue
        if k == "offset":
            parts = [f"{ax} {100 * c:+.1f}" for ax, c in zip("xyz", v) if abs(c) > 1e-6]
            if parts:
                extra.append("offset " + " ".join(parts) + " cm")
        elif k == "yaw":
            extra.append(f"yaw {math.degrees(v):+.0f}°")
        elif k == "force":
            extra.append(f"force {v:g} N")
        elif k == "height":
            extra.append(f"height {100 * v:.1f} cm")
        elif isinstance(v, float):
            extra.append(f"{k} {v:g}")
        else:
            extra.append(f"{k} {v}")
    return head + (f" ({', '.join(extra)})" if extra else "")

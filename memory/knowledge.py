"""Apply remembered knowledge to a plan, deterministically, for every policy.

A knowledge entry (``memory.kb.Entry.to_dict()``) says *what* to change (``effect``) and *when*
(``conditions``)::

    {"id": 12, "text": "small blocks: pick with offset z -1.5 cm", "confidence": 0.7,
     "effect": {"skill": "pick", "changes": [{"arg": "offset", "op": "add", "value": [0, 0, -0.015]}]},
     "conditions": {"skill": "pick", "object_kind": "block", "object_size": "small"}, ...}

Condition keys (all given ones must hold for a step; an unknown key never matches, so new kinds of
knowledge stay inert here until this module learns them):

- ``skill``: the step's skill;
- ``object_name`` / ``object_kind`` / ``object_color`` / ``object_size``: the step's ``object`` (pick, push);
- ``target_name`` / ``target_kind`` / ``target_color`` / ``target_size``: the step's ``target`` (place,
  move_to); a named spot ("left side") has kind ``spot``;
- ``held_name`` / ``held_kind`` / ``held_color`` / ``held_size``: the object picked most recently before the
  step (what a place carries);
- ``task_type``: the task's leading verb (``put``, ``stack``, ``push``, ...), only checked when a task is given.

Size words come from the object's size: blocks are small / medium / large (edge 3 / 4 / 5 cm, nearest);
other kinds have no size word. Effects: ``op`` ``add`` (offset [dx, dy, dz] m, yaw rad, height m),
``scale`` (speed, force: a ratio) or ``set``; results are clamped to the skill schema's safe bounds.

When several entries touch the same argument of the same step only one applies: the most specific
(most conditions), then the most confident, then the most recently updated, then the lowest id. Each offset
axis counts as its own argument here, so a lesson about x and one about y both apply. Entries whose ``status``
is ``'hypothesis'`` (unconfirmed, see ``memory.learning``) never apply. :func:`apply_knowledge_detailed` says,
for every entry that fired, which lesson, which scope (in words) and why (the evidence that taught it).
"""
from __future__ import annotations

import copy
import math
import re
from typing import Any, Iterable, Optional, Sequence

from hardware.scene import block_size_word
from memory.scope import words as scope_text
from skills.schema import NAMED_SPOTS, SKILLS

DEFAULT_MIN_CONFIDENCE = 0.3
OBJECT_KEYS = ("name", "kind", "color", "size")
CONDITION_ROLES = ("object", "target", "held")
KNOWN_CONDITIONS = {"skill", "task_type"} | {f"{r}_{k}" for r in CONDITION_ROLES for k in OBJECT_KEYS}


def size_word(obj: dict[str, Any]) -> Optional[str]:
    """'small' / 'medium' / 'large' for a block by nearest edge length; None for other kinds."""
    if obj.get("kind") != "block" or obj.get("size") is None:
        return None
    return block_size_word(obj["size"])


def scene_objects(scene: Any) -> list[dict[str, Any]]:
    """Contract object dicts (name, kind, color, size, position) from a Scene, a ``Scene.to_dict()`` or a contract scene.

    Only these public fields are read; hidden quirks are never looked at.
    """
    if scene is None:
        return []
    if hasattr(scene, "to_contract"):
        scene = scene.to_contract()
    objs = scene.get("objects", []) if isinstance(scene, dict) else list(scene)
    out = []
    for o in objs:
        if isinstance(o, dict) and "name" in o:
            out.append({k: o.get(k) for k in ("name", "kind", "color", "size", "position")})
    return out


def object_props(name: Optional[str], objects: Sequence[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """The properties conditions look at, for object ``name`` in the scene or a named spot; None if unknown."""
    if not name:
        return None
    for o in objects:
        if o["name"] == name:
            return {"name": o["name"], "kind": o.get("kind"), "color": o.get("color"), "size": size_word(o)}
    if name in NAMED_SPOTS:
        return {"name": name, "kind": "spot", "color": None, "size": None}
    return None


def task_type(task: Optional[str]) -> Optional[str]:
    """The task's leading verb, lower-cased ('put the red block in the bowl' -> 'put'); None without a task."""
    if not task:
        return None
    words = re.findall(r"[a-z]+", task.lower())
    skip = {"please", "now", "then", "can", "you", "could", "would", "robot", "and"}
    for w in words:
        if w not in skip:
            return "put" if w == "place" else w
    return None


def step_roles(plan: Sequence[dict[str, Any]], index: int, objects: Sequence[dict[str, Any]]) -> dict[str, Optional[dict[str, Any]]]:
    """Properties of the step's ``object``, ``target`` and the most recently picked (held) object."""
    call = plan[index]
    args = call.get("args", {}) or {}
    held = None
    for j in range(index - 1, -1, -1):
        if plan[j].get("skill") == "pick":
            held = (plan[j].get("args") or {}).get("object")
            break
    return {"object": object_props(args.get("object"), objects), "target": object_props(args.get("target"), objects),
            "held": object_props(held, objects)}


def conditions_match(conditions: dict[str, Any], skill: str, roles: dict[str, Optional[dict[str, Any]]], task: Optional[str] = None) -> bool:
    """Whether every condition holds for a step with this ``skill`` and these role properties."""
    for key, want in (conditions or {}).items():
        if want is None:
            continue
        if key == "skill":
            if skill != want:
                return False
        elif key == "task_type":
            if task is not None and task_type(task) != want:
                return False
        elif key in KNOWN_CONDITIONS:
            role, prop = key.split("_", 1)
            props = roles.get(role)
            if props is None or props.get(prop) != want:
                return False
        else:
            return False
    return True


def matching_steps(entry: dict[str, Any], plan: Sequence[dict[str, Any]], scene: Any, task: Optional[str] = None) -> list[int]:
    """Indices of the plan's steps whose skill and objects satisfy the entry's conditions."""
    objects = scene_objects(scene)
    cond = entry.get("conditions") or {}
    skill = (entry.get("effect") or {}).get("skill") or cond.get("skill")
    out = []
    for i, call in enumerate(plan):
        if skill and call.get("skill") != skill:
            continue
        if conditions_match(cond, call.get("skill", ""), step_roles(plan, i, objects), task):
            out.append(i)
    return out


def matches_scene(entry: dict[str, Any], scene: Any) -> bool:
    """Before a plan exists: whether every object condition can be met by some object (or spot) in the scene."""
    objects = scene_objects(scene)
    cond = entry.get("conditions") or {}
    for role in CONDITION_ROLES:
        want = {k.split("_", 1)[1]: v for k, v in cond.items() if k.startswith(role + "_") and v is not None}
        if not want:
            continue
        pool = [object_props(o["name"], objects) for o in objects]
        if role == "target":
            pool += [object_props(s, objects) for s in NAMED_SPOTS]
        if not any(p and all(p.get(k) == v for k, v in want.items()) for p in pool):
            return False
    return not any(k not in KNOWN_CONDITIONS for k in cond)


def _clamp(skill: str, arg: str, value: Any) -> Any:
    try:
        p = SKILLS[skill].param(arg)
    except Exception:  # noqa: BLE001 - unknown skill/arg: leave the value alone
        return value
    lo = -math.inf if p.lo is None else p.lo
    hi = math.inf if p.hi is None else p.hi
    if isinstance(value, list):
        return [round(min(hi, max(lo, float(v))), 6) for v in value]
    return round(min(hi, max(lo, float(value))), 6)


def apply_change(skill: str, args: dict[str, Any], change: dict[str, Any]) -> Optional[Any]:
    """The new value of ``change['arg']`` after the change (clamped), or None if the skill has no such argument."""
    arg, op, val = change.get("arg"), change.get("op", "add"), change.get("value")
    spec = SKILLS.get(skill)
    if spec is None or arg not in {p.name for p in spec.params} or arg in ("object", "target"):
        return None
    cur = args.get(arg, spec.defaults().get(arg))
    if arg == "offset" or isinstance(cur, (list, tuple)):
        cur = list(cur if cur is not None else [0.0, 0.0, 0.0])
        vec = list(val) if isinstance(val, (list, tuple)) else None
        if vec is None or len(vec) != len(cur):
            return None
        if op == "add":
            new = [c + float(v) for c, v in zip(cur, vec)]
        elif op == "set":
            new = [float(v) for v in vec]
        else:
            return None
    else:
        if cur is None or isinstance(val, (list, tuple)):
            return None
        if op == "add":
            new = float(cur) + float(val)
        elif op == "scale":
            new = float(cur) * float(val)
        elif op == "set":
            new = float(val)
        else:
            return None
    return _clamp(skill, arg, new)


def describe_change(change: dict[str, Any]) -> str:
    """'offset z -1.5 cm', 'force x1.5', 'yaw +10°', 'height +3.0 cm'."""
    arg, op, val = change.get("arg"), change.get("op"), change.get("value")
    if arg == "offset" and isinstance(val, (list, tuple)):
        parts = [f"{ax} {100 * v:+.1f} cm" for ax, v in zip("xyz", val) if abs(v) > 1e-9]
        return "offset " + (", ".join(parts) if parts else "unchanged") if op == "add" else f"offset = {list(val)}"
    if op == "scale":
        return f"{arg} x{float(val):.2f}".rstrip("0").rstrip(".")
    if arg == "yaw":
        return f"yaw {math.degrees(float(val)):+.0f}°" if op == "add" else f"yaw = {math.degrees(float(val)):.0f}°"
    if arg == "height":
        return f"height {100 * float(val):+.1f} cm" if op == "add" else f"height = {100 * float(val):.1f} cm"
    return f"{arg} {'+' if op == 'add' and float(val) >= 0 else ''}{val}" if op == "add" else f"{arg} = {val}"


def _rank_key(entry: dict[str, Any]) -> tuple:
    cond = {k: v for k, v in (entry.get("conditions") or {}).items() if v is not None}
    return (-len(cond), -float(entry.get("confidence", 0.0)), -float(entry.get("updated") or 0.0), int(entry.get("id") or 0))


class AppliedKnowledge(tuple):
    """What :func:`apply_knowledge_detailed` returns: unpacks as ``(new_plan, notes, applied)`` — the 3-tuple callers
    have always used — and also carries ``fired``: one dict per entry that changed a step, saying which lesson,
    which scope and why: ``{"id", "step", "text", "changes", "scope", "conditions", "why", "confidence"}``."""

    fired: list[dict[str, Any]]

    def __new__(cls, plan: list[dict[str, Any]], notes: list[str], applied: dict[int, list[Any]],
                fired: list[dict[str, Any]]) -> "AppliedKnowledge":
        self = super().__new__(cls, (plan, notes, applied))
        self.fired = fired
        return self

    @property
    def plan(self) -> list[dict[str, Any]]:
        return self[0]

    @property
    def notes(self) -> list[str]:
        return self[1]

    @property
    def applied(self) -> dict[int, list[Any]]:
        return self[2]


def scope_words(entry: dict[str, Any]) -> str:
    """The entry's scope in words, from its conditions: 'small blocks', 'red blocks', 'green bowls', 'everything'."""
    cond = {k: v for k, v in (entry.get("conditions") or {}).items() if v is not None}
    for role in CONDITION_ROLES:
        sub = {k.split("_", 1)[1]: v for k, v in cond.items() if k.startswith(role + "_")}
        if sub:
            w = scope_text(sub)
            return {"object": w, "target": f"into {w}", "held": f"carrying {w}"}[role]
    return f"every {cond['skill']}" if cond.get("skill") else "everything"


def why(entry: dict[str, Any]) -> str:
    """Why the entry exists, in words: what taught it (objects and words), or that it was written by hand."""
    ev = [x for x in entry.get("evidence") or [] if isinstance(x, dict)]
    conf = f"confidence {float(entry.get('confidence', 0.0)):.2f}"
    if not ev:
        return f"no recorded evidence (written by hand or imported); {conf}"
    strong = [x for x in ev if not x.get("weak")]
    seen: list[str] = []
    for x in ev:
        o = x.get("object") or {}
        name = o.get("name") or " ".join(str(o.get(k)) for k in ("size", "color", "kind") if o.get(k))
        if name not in seen:
            seen.append(name)
    said = "; ".join(dict.fromkeys(f"'{x.get('utterance')}'" for x in ev if x.get("utterance")))
    return (f"taught {len(strong)}x on {', '.join(seen[-4:])}" + (f" ({said})" if said else "") +
            (f", {len(ev) - len(strong)} unconfirmed" if len(ev) > len(strong) else "") + f"; {conf}")


def _components(ch: dict[str, Any]) -> list[str]:
    """The parts of an argument a change writes: one per non-zero offset axis for an offset ``add``."""
    if ch.get("arg") == "offset" and ch.get("op") == "add" and isinstance(ch.get("value"), (list, tuple)):
        return [f"offset.{a}" for a, v in zip("xyz", ch["value"]) if abs(float(v)) > 1e-12] or ["offset"]
    if ch.get("arg") == "offset":
        return ["offset.x", "offset.y", "offset.z"]
    return [str(ch.get("arg"))]


def apply_knowledge(
    plan: Sequence[dict[str, Any]],
    scene_contract: Any,
    knowledge: Iterable[dict[str, Any]],
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    task: Optional[str] = None,
    steps: Optional[Iterable[int]] = None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Apply every entry whose conditions match a step; ``(new_plan, notes)`` (see :func:`apply_knowledge_detailed`)."""
    new_plan, notes, _ = apply_knowledge_detailed(plan, scene_contract, knowledge, min_confidence, task, steps)
    return new_plan, notes


def apply_knowledge_detailed(
    plan: Sequence[dict[str, Any]],
    scene_contract: Any,
    knowledge: Iterable[dict[str, Any]],
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    task: Optional[str] = None,
    steps: Optional[Iterable[int]] = None,
) -> AppliedKnowledge:
    """Apply every active entry whose conditions match a step (and whose confidence ≥ ``min_confidence``).

    Returns :class:`AppliedKnowledge`: ``(new_plan, notes, applied)`` where ``applied`` maps step index -> ids of
    the entries that changed it, plus ``.fired`` (which lesson, which scope, why). ``plan`` is not mutated.
    Values are clamped to the skill's safe bounds. Entries with ``status`` 'hypothesis' (unconfirmed) never apply.
    One entry per (step, argument component — each offset axis is one): the most specific, then most confident,
    then newest. ``steps`` limits application to those step indices (e.g. only the step about to run). Notes read
    like ``"applied #12 'the blue block is slippery: force x1.5' to step 0 (pick blue block) — scope: blue blocks;
    why: taught 2x on blue block ('grip harder'); confidence 0.70"``.
    """
    new_plan = copy.deepcopy(list(plan))
    objects = scene_objects(scene_contract)
    entries = [e for e in knowledge if float(e.get("confidence", 0.0)) >= min_confidence and (e.get("effect") or {}).get("changes")
               and e.get("status", "active") != "hypothesis"]
    entries.sort(key=_rank_key)
    allowed = None if steps is None else set(steps)
    notes: list[str] = []
    applied: dict[int, list[Any]] = {}
    fired: list[dict[str, Any]] = []
    for i, call in enumerate(new_plan):
        if allowed is not None and i not in allowed:
            continue
        skill = call.get("skill", "")
        roles = step_roles(new_plan, i, objects)
        taken: set[str] = set()
        args = call.setdefault("args", {})
        for e in entries:
            eff = e.get("effect") or {}
            if eff.get("skill") not in (None, skill):
                continue
            if not conditions_match(e.get("conditions") or {}, skill, roles, task):
                continue
            done = []
            for ch in eff.get("changes", []):
                parts = _components(ch)
                if taken & set(parts):
                    continue
                v = apply_change(skill, args, ch)
                if v is None:
                    continue
                args[ch.get("arg")] = v
                taken |= set(parts)
                done.append(describe_change(ch))
            if done:
                applied.setdefault(i, []).append(e.get("id"))
                who = args.get("object") or args.get("target") or ""
                f = {"id": e.get("id"), "step": i, "text": e.get("text", ""), "changes": done, "scope": scope_words(e),
                     "conditions": dict(e.get("conditions") or {}), "why": why(e), "confidence": e.get("confidence")}
                fired.append(f)
                notes.append(f"applied #{e.get('id')} '{e.get('text', '')}' to step {i} ({skill} {who})".rstrip() +
                             ("" if len(done) == len(eff.get("changes", [])) else f" [{', '.join(done)} only]") +
                             f" — scope: {f['scope']}; why: {f['why']}")
    return AppliedKnowledge(new_plan, notes, applied, fired)

"""Turn a logged episode into knowledge entries that generalise (``distill_episode``).

What is learned is the NET effect of the episode, not the path: for a successful episode the final plan is
compared with the policy's own plan before any knowledge was applied (``base_plan``), step by step (matched by
position when the skills line up, otherwise by skill and object/target in order). Three corrections "left,
left, right" therefore teach one small "left". Failed, aborted or unfinished episodes teach nothing.

Per changed step, the changes become entries at a scope chosen from what changed and on which object:

- ``pick`` / ``push`` geometry (offset, yaw, height) on a block whose size is not the default -> conditions on
  kind + size ("small blocks: pick with offset z -1.5 cm"; basis ``size``); otherwise on kind + colour
  ("blue block: ..."; basis ``color``), plus size when another object in the scene shares kind and colour;
- ``pick`` / ``push`` dynamics (force, speed) -> the object's kind + colour (a slippery or heavy object is an
  object property; basis ``color``);
- ``place`` / ``move_to`` geometry -> conditions on the target (kind + colour, or the named spot), scope
  ``preference`` (basis ``target``); ``place`` speed -> the held object (basis ``held``).

Only public scene fields are read (name, kind, colour, size); the hidden quirks in ``episode['scene']`` never are.
"""
from __future__ import annotations

import math
import re
import time
from typing import Any, Optional, Sequence

from memory.knowledge import describe_change, object_props, scene_objects
from skills.schema import SKILLS

# Changes smaller than these are noise, not knowledge (the contract's "stays as it was" tolerances).
OFFSET_TOL = 0.002  # m per axis
YAW_TOL = 0.02  # rad
HEIGHT_TOL = 0.005  # m
RATIO_TOL = 0.02  # relative, speed / force
GEOMETRY_ARGS = ("offset", "yaw", "height")
DYNAMICS_ARGS = ("speed", "force")
INITIAL_CONFIDENCE = 0.6

NEGATIVE_FEEDBACK = re.compile(
    r"\b(don'?t|do not|never|stop)\b.{0,40}\b(again|that|this)\b|\bforget (that|it|this)\b|\bthat was wrong\b|\bnot like that\b",
    re.IGNORECASE,
)


def is_success(episode: dict[str, Any]) -> bool:
    """True only for a finished, successful episode."""
    return episode.get("success") is True or (episode.get("success") is None and episode.get("status") == "success")


def is_negative_feedback(utterance: str) -> bool:
    """'don't do that again', 'forget that', 'never do this' ..."""
    return bool(NEGATIVE_FEEDBACK.search(utterance or ""))


def _who(call: dict[str, Any]) -> tuple[str, Any]:
    a = call.get("args") or {}
    return call.get("skill", ""), a.get("object") or a.get("target")


def align_steps(base: Sequence[dict[str, Any]], final: Sequence[dict[str, Any]]) -> list[tuple[int, int]]:
    """Pairs (base index, final index) of the same step: by position if the skills line up, else an LCS on (skill, object/target)."""
    if [c.get("skill") for c in base] == [c.get("skill") for c in final]:
        return [(i, i) for i in range(len(base))]
    a, b = [_who(c) for c in base], [_who(c) for c in final]
    n, m = len(a), len(b)
    L = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            L[i][j] = L[i + 1][j + 1] + 1 if a[i] == b[j] else max(L[i + 1][j], L[i][j + 1])
    out, i, j = [], 0, 0
    while i < n and j < m:
        if a[i] == b[j]:
            out.append((i, j))
            i, j = i + 1, j + 1
        elif L[i + 1][j] >= L[i][j + 1]:
            i += 1
        else:
            j += 1
    return out


def net_changes(skill: str, before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """The changes that turn ``before`` args into ``after`` args (defaults filled), beyond noise tolerances.

    offset / yaw / height -> ``add``; speed / force -> ``scale``. Values rounded (0.5 mm, 0.01 rad, 1 %).
    """
    spec = SKILLS.get(skill)
    if spec is None:
        return []
    d = spec.defaults()
    b = {**d, **(before or {})}
    a = {**d, **(after or {})}
    names = {p.name for p in spec.params}
    out: list[dict[str, Any]] = []
    if "offset" in names:
        ob, oa = list(b.get("offset") or [0, 0, 0]), list(a.get("offset") or [0, 0, 0])
        delta = [float(y) - float(x) for x, y in zip(ob, oa)]
        delta = [round(v * 2000) / 2000 if abs(v) >= OFFSET_TOL else 0.0 for v in delta]
        if any(delta):
            out.append({"arg": "offset", "op": "add", "value": delta})
    if "yaw" in names:
        dy = float(a.get("yaw") or 0.0) - float(b.get("yaw") or 0.0)
        if abs(dy) >= YAW_TOL:
            out.append({"arg": "yaw", "op": "add", "value": round(dy, 3)})
    if "height" in names and b.get("height") is not None and a.get("height") is not None:
        dh = float(a["height"]) - float(b["height"])
        if abs(dh) >= HEIGHT_TOL:
            out.append({"arg": "height", "op": "add", "value": round(dh * 2000) / 2000})
    for arg in DYNAMICS_ARGS:
        if arg in names and b.get(arg) and a.get(arg) is not None:
            r = float(a[arg]) / float(b[arg])
            if abs(r - 1.0) >= RATIO_TOL:
                out.append({"arg": arg, "op": "scale", "value": round(r, 2)})
    return out


def net_effects(episode: dict[str, Any]) -> list[dict[str, Any]]:
    """Per aligned step: ``{"base_step", "final_step", "skill", "changes", "base_plan", "final_plan"}`` (changes may be empty)."""
    base = episode.get("base_plan") or episode.get("initial_plan") or []
    final = episode.get("final_plan") or []
    out = []
    for i, j in align_steps(base, final):
        skill = final[j].get("skill", "")
        out.append({"base_step": i, "final_step": j, "skill": skill,
                    "changes": net_changes(skill, base[i].get("args") or {}, final[j].get("args") or {})})
    return out


def _plural(kind: str) -> str:
    return kind + ("es" if kind.endswith(("s", "x", "ch", "sh")) else "s")


def object_scope(role: str, props: dict[str, Any], objects: Sequence[dict[str, Any]], geometry: bool) -> tuple[dict[str, Any], str, str]:
    """(conditions, basis, subject words) for knowledge about an object in ``role`` ('object', 'target', 'held').

    Size scope when the change is geometric and the object's size is not the default; otherwise kind + colour,
    with size added when another object in the scene shares kind and colour. Named spots scope by name.
    """
    kind, color, size = props.get("kind"), props.get("color"), props.get("size")
    if kind == "spot":
        return {f"{role}_name": props["name"]}, "name", f"the {props['name']}"
    if geometry and role == "object" and size not in (None, "medium"):
        return {f"{role}_kind": kind, f"{role}_size": size}, "size", f"{size} {_plural(kind)}"
    cond = {f"{role}_kind": kind, f"{role}_color": color}
    twins = [o for o in objects if o.get("kind") == kind and o.get("color") == color and o.get("name") != props.get("name")]
    words = f"the {color} {kind}"
    if twins and size is not None:
        cond[f"{role}_size"] = size
        words = f"the {size} {color} {kind}"
    return cond, "color", words


def describe_entry(subject: str, skill: str, changes: Sequence[dict[str, Any]]) -> str:
    """'small blocks: pick with offset z -1.5 cm (lower)' style text, with direction words for search."""
    parts = []
    for ch in changes:
        s = describe_change(ch)
        if ch.get("arg") == "offset" and isinstance(ch.get("value"), (list, tuple)):
            dx, dy, dz = ch["value"]
            dirs = [w for w, v in (("further" if dx > 0 else "closer", dx), ("left" if dy > 0 else "right", dy),
                                   ("higher" if dz > 0 else "lower", dz)) if abs(v) > 1e-9]
            s += f" ({', '.join(dirs)})"
        elif ch.get("op") == "scale":
            s += " (" + {("speed", True): "faster", ("speed", False): "slower", ("force", True): "firmer grip",
                         ("force", False): "gentler grip"}[(ch["arg"], float(ch["value"]) > 1)] + ")"
        parts.append(s)
    return f"{subject}: {skill} with {', '.join(parts)}"


def distill_episode(episode: dict[str, Any], now: Optional[float] = None) -> list["Entry"]:  # noqa: F821
    """Knowledge entries from one episode's net effect; [] unless the episode succeeded."""
    from memory.kb import Entry

    if not is_success(episode):
        return []
    t = float(now if now is not None else (episode.get("ended") or time.time()))
    objects = scene_objects(episode.get("scene") or {})
    final = episode.get("final_plan") or []
    source = str(episode.get("id", ""))
    entries: list[Entry] = []
    for eff in net_effects(episode):
        if not eff["changes"]:
            continue
        skill, j = eff["skill"], eff["final_step"]
        args = final[j].get("args") or {}
        held = None
        for k in range(j - 1, -1, -1):
            if final[k].get("skill") == "pick":
                held = (final[k].get("args") or {}).get("object")
                break
        geo = [c for c in eff["changes"] if c["arg"] in GEOMETRY_ARGS]
        dyn = [c for c in eff["changes"] if c["arg"] in DYNAMICS_ARGS]
        groups: list[tuple[str, Optional[dict[str, Any]], list[dict[str, Any]], bool]] = []
        if args.get("object") is not None:  # pick, push: everything is about the object acted on
            props = object_props(args.get("object"), objects)
            groups += [("object", props, geo, True), ("object", props, dyn, False)]
        elif args.get("target") is not None:  # place, move_to: where -> target; how fast -> what is carried
            groups.append(("target", object_props(args.get("target"), objects), geo, True))
            groups.append(("held", object_props(held, objects), dyn, False))
        for role, props, changes, geometric in groups:
            if not changes or props is None:
                continue
            cond, basis, subject = object_scope(role, props, objects, geometric)
            scope = "preference" if role == "target" else "skill"
            if role != "object" and basis == "color":
                basis = role  # 'target' or 'held'
            if role == "held":
                subject = f"carrying {subject}"
            conditions = {"skill": skill, **cond}
            entries.append(Entry(
                text=describe_entry(subject, skill, changes),
                scope=scope,
                effect={"skill": skill, "changes": [dict(c) for c in changes]},
                conditions=conditions,
                confidence=INITIAL_CONFIDENCE,
                sources=[source] if source else [],
                created=t,
                updated=t,
                basis=basis,
                subject=props.get("name"),
            ))
    return _dedupe(entries)


def _dedupe(entries: list["Entry"]) -> list["Entry"]:  # noqa: F821
    """One entry per conditions within an episode (two placements in the same bowl are one lesson); per
    argument, the later step's value wins."""
    by_key: dict[str, Any] = {}
    for e in entries:
        k = e.key()
        if k not in by_key:
            by_key[k] = e
            continue
        x = by_key[k]
        changes = {c["arg"]: c for c in x.effect["changes"]}
        changes.update({c["arg"]: c for c in e.effect["changes"]})
        x.effect = {**x.effect, "changes": list(changes.values())}
        x.text = x.text.split(":", 1)[0] + ": " + describe_entry("", x.effect["skill"], x.effect["changes"]).split(": ", 1)[1]
    return list(by_key.values())


def verdict(entry: dict[str, Any], episode: dict[str, Any], tol: float = 0.35) -> Optional[str]:
    """Did a successful episode confirm a knowledge entry it used? 'confirmed', 'contradicted' or None (no evidence).

    For each step the entry's conditions match (in the base plan), each changed argument's net effect is compared
    with the entry's value: same direction within ``tol`` relative -> confirmed; zero or opposite -> contradicted;
    same direction, different size -> None (a merge with the newly distilled value handles it).
    """
    from memory.knowledge import matching_steps

    if not is_success(episode):
        return None
    base = episode.get("base_plan") or []
    effects = {e["base_step"]: e for e in net_effects(episode)}
    steps = matching_steps(entry, base, episode.get("scene") or {}, episode.get("task"))
    votes: list[str] = []
    for i in steps:
        eff = effects.get(i)
        if eff is None:
            continue
        net = {c["arg"]: c for c in eff["changes"]}
        for ch in (entry.get("effect") or {}).get("changes", []):
            got = net.get(ch["arg"])
            votes.append(_compare(ch, got, tol))
    if "contradicted" in votes:
        return "contradicted"
    if votes and all(v == "confirmed" for v in votes):
        return "confirmed"
    return None


def _as_vec(ch: Optional[dict[str, Any]]) -> list[float]:
    if ch is None:
        return []
    v = ch["value"]
    if isinstance(v, (list, tuple)):
        return [float(x) for x in v]
    return [math.log(float(v))] if ch.get("op") == "scale" else [float(v)]


def _compare(want: dict[str, Any], got: Optional[dict[str, Any]], tol: float) -> str:
    w = _as_vec(want)
    g = _as_vec(got) or [0.0] * len(w)
    if len(g) != len(w):
        return "different"
    nw = math.sqrt(sum(x * x for x in w))
    if nw == 0:
        return "different"
    dot = sum(x * y for x, y in zip(w, g))
    if dot <= 0.25 * nw * nw:  # net effect gone or reversed along the entry's direction
        return "contradicted"
    err = math.sqrt(sum((x - y) ** 2 for x, y in zip(w, g)))
    return "confirmed" if err <= tol * nw else "different"

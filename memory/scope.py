"""Scope from evidence: where a lesson applies, decided by the objects it was taught on and the ones that did fine.

A lesson is about one *role* of a step (``object`` for pick / push, ``target`` for a place's geometry, ``held``
for what a place carries). Its scope constrains attributes of that role's object: ``kind``, ``color``, ``size``
(blocks: small / medium / large), or, for a named spot, its ``name``. The competing hypotheses are

- ``object``: this object (kind, colour and size: all three as taught),
- ``color``: anything of its kind and colour, ``size``: anything of its kind and size,
- ``kind``: anything of its kind, ``everything``: every such step.

Rule (:func:`widen`): a lesson starts at the most specific scope, the object it was taught on. An attribute is
dropped only when the same lesson is taught on an object that differs from the scope in that attribute alone
(one attribute at a time: two objects that differ in colour *and* size show nothing about either), and never
when the wider scope would cover an object the step did fine on without the lesson, or where the lesson was
corrected back (``against``). Narrowing (:func:`narrow`) replays the evidence with the new counterexample, so a
lesson corrected back on an object no longer covers it.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional, Sequence

ATTRS = ("kind", "color", "size")
LEVELS = ("object", "color", "size", "kind", "everything")
Props = dict[str, Any]
Scope = dict[str, Any]  # attribute -> required value (attributes absent are free); {"name": ...} for a named spot


def props_key(p: Props) -> tuple:
    return tuple(p.get(a) for a in ("name", *ATTRS)) if p.get("kind") == "spot" else tuple(p.get(a) for a in ATTRS)


def object_scope(p: Props) -> Scope:
    """The most specific scope: this object's kind, colour and size (a named spot: its name)."""
    if p.get("kind") == "spot":
        return {"name": p.get("name")}
    return {a: p.get(a) for a in ATTRS if p.get(a) is not None}


def covers(scope: Scope, p: Props) -> bool:
    """Whether an object with properties ``p`` is inside ``scope``."""
    return all(p.get(a) == v for a, v in scope.items())


def level(scope: Scope) -> str:
    """The hypothesis name of a scope: 'object', 'color', 'size', 'kind', 'everything' or 'name'."""
    if "name" in scope:
        return "name"
    have = set(scope)
    if {"color", "size"} <= have:
        return "object"
    if "color" in have:
        return "color"
    if "size" in have:
        return "size"
    return "kind" if "kind" in have else "everything"


def widen(scope: Scope, p: Props, against: Iterable[Props] = ()) -> Optional[Scope]:
    """The scope after the same lesson was taught on ``p``: unchanged if ``p`` is inside, one attribute wider if
    ``p`` differs in exactly that one, else None (``p`` is evidence for a different lesson). None also when the
    wider scope would cover an object in ``against``."""
    if covers(scope, p):
        return dict(scope)
    if "name" in scope or p.get("kind") == "spot":
        return None
    diff = [a for a, v in scope.items() if p.get(a) != v]
    if len(diff) != 1:
        return None
    wider = {a: v for a, v in scope.items() if a != diff[0]}
    if any(covers(wider, q) for q in against):
        return None
    return wider


def cluster(instances: Sequence[Props], against: Sequence[Props] = ()) -> list[tuple[Scope, list[int]]]:
    """Replay ``instances`` (in order) through :func:`widen`: ``[(scope, indices of the instances it holds)]``;
    the first cluster holds the first instance."""
    out: list[tuple[Scope, list[int]]] = []
    for i, p in enumerate(instances):
        for j, (s, members) in enumerate(out):
            w = widen(s, p, against)
            if w is not None:
                out[j] = (w, members + [i])
                break
        else:
            out.append((object_scope(p), [i]))
    return out


def narrow(instances: Sequence[Props], against: Sequence[Props]) -> list[tuple[Scope, list[int]]]:
    """Scopes after a counterexample: the evidence replayed so that no scope widens over ``against``."""
    return cluster(instances, against)


def conditions(skill: str, role: str, scope: Scope) -> dict[str, Any]:
    """``memory.knowledge`` conditions for a lesson of ``skill`` about ``role`` at ``scope``."""
    return {"skill": skill, **{f"{role}_{a}": v for a, v in scope.items() if v is not None}}


def _plural(kind: str) -> str:
    return kind + ("es" if kind.endswith(("s", "x", "ch", "sh")) else "s")


def words(scope: Scope) -> str:
    """'small red blocks', 'red blocks', 'small blocks', 'blocks', 'everything', 'the left side'."""
    if "name" in scope:
        return f"the {scope['name']}"
    if not scope:
        return "everything"
    kind = scope.get("kind")
    noun = _plural(kind) if kind else "objects"
    return " ".join(str(x) for x in (scope.get("size"), scope.get("color"), noun) if x)


def hypotheses(instances: Sequence[Props], against: Sequence[Props], chosen: Scope) -> list[dict[str, Any]]:
    """The competing scope hypotheses with their evidence counts, most specific first.

    One row per level (this object, its colour, its size, its kind, everything) built on the latest instance:
    ``{"level", "scope", "words", "taught": instances inside, "outside": instances it misses, "against": objects
    inside that did fine without the lesson or corrected it back, "chosen": bool}``.
    """
    if not instances:
        return []
    last = instances[-1]
    if last.get("kind") == "spot":
        rows = [{"name": last.get("name")}]
    else:
        base = object_scope(last)
        rows = [base, {a: v for a, v in base.items() if a != "size"}, {a: v for a, v in base.items() if a != "color"},
                {a: v for a, v in base.items() if a == "kind"}, {}]
    out, seen = [], set()
    for s in rows:
        key = tuple(sorted(s.items()))
        if key in seen:
            continue
        seen.add(key)
        inside = sum(covers(s, p) for p in instances)
        out.append({"level": level(s), "scope": s, "words": words(s), "taught": inside, "outside": len(instances) - inside,
                    "against": sum(covers(s, q) for q in against), "chosen": s == chosen})
    return out

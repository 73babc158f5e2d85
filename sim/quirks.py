"""Realising :class:`hardware.scene.Quirk` data physically, and checking whether skill arguments satisfy a quirk.

Every kind is one class in ``sim/quirk_kinds/`` (its physics, what fixes it, what a user sees); this module
dispatches to them by name and holds no per-kind code. ``add_quirk(scene, kind, object_name, rng)`` returns a
new scene with the quirk recorded (``Quirk.params``) *and* the physical change that makes the default skill
arguments fail. ``params`` are the hidden truth: the oracle user and the benchmark's scoring read them, the
observing user (``sim.user``) never does.
"""
from __future__ import annotations

import copy
import random
from typing import Any, Optional

from hardware.scene import Quirk, Scene, SceneError
from sim.quirk_kinds import KINDS, get_kind, kind_names
from sim.quirk_kinds.offcenter_drop import POCKET, insert_boxes
from sim.quirk_kinds.small_grasp import bevel_of

QUIRK_KINDS = kind_names()
PHYSICAL_QUIRKS = tuple(n for n in QUIRK_KINDS if KINDS[n].physical)


def add_quirk(scene: Scene, kind: str, object_name: str, rng: random.Random | None = None,
              magnitude: Optional[dict[str, Any]] = None) -> Scene:
    """A copy of ``scene`` with quirk ``kind`` on ``object_name``, physically realised; raises SceneError if it
    does not apply (unknown kind, wrong kind of object, no room). ``magnitude``: the kind's drawn magnitudes
    (``QuirkKind.draw_magnitude``); None draws nothing and uses the kind's defaults or ``rng``."""
    k = get_kind(kind)
    rng = rng or random.Random(0)
    s = copy.deepcopy(scene)
    o = s.get(object_name)
    k.check(o)
    params = k.realise(s, o, rng, dict(magnitude or {}))
    s.quirks.append(Quirk(kind=kind, object=object_name, params=params))
    Scene(objects=s.objects, quirks=s.quirks, seed=s.seed)  # re-validate names
    return s


def applicable_objects(scene: Scene, kind: str) -> list[str]:
    """Names of the objects of ``scene`` that :func:`add_quirk` accepts for ``kind`` (in scene order)."""
    out = []
    for o in scene.objects:
        try:
            add_quirk(scene, kind, o.name, random.Random(0))
        except SceneError:
            continue
        out.append(o.name)
    return out


def quirk_satisfied(quirk: Quirk, skill: str, args: dict[str, Any]) -> bool:
    """Whether one skill call (defaults from ``skills.schema`` where missing) gets past ``quirk``; calls the quirk
    does not concern return True."""
    return get_kind(quirk.kind).satisfied(quirk, skill, args)


def plan_satisfies(quirk: Quirk, plan: list[dict[str, Any]]) -> bool:
    """Whether every step of ``plan`` gets past ``quirk``."""
    return all(quirk_satisfied(quirk, c["skill"], c.get("args", {})) for c in plan)


def fixing_args(quirk: Quirk) -> tuple[str, dict[str, Any]]:
    """(skill, argument changes) that satisfy ``quirk`` with a margin, e.g. ("pick", {"force": 45.0})."""
    return get_kind(quirk.kind).fixing_args(quirk)


def quirk_args(kind: str) -> tuple[tuple[str, str], ...]:
    """(skill, argument) pairs a lesson about ``kind`` may legitimately change."""
    return get_kind(kind).args


def describe(quirk: Quirk) -> str:
    """One line, in words, of what ``quirk`` asks for."""
    return get_kind(quirk.kind).describe(quirk)


__all__ = ["add_quirk", "applicable_objects", "quirk_satisfied", "plan_satisfies", "fixing_args", "quirk_args", "describe",
           "bevel_of", "insert_boxes", "QUIRK_KINDS", "PHYSICAL_QUIRKS", "POCKET"]

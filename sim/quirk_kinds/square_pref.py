"""``square_pref``: no physics; the user wants blocks put in this container *squared up*: a face along the table's
edges (block yaw a whole number of quarter turns, base frame) within ``params["tol"]`` (rad). Blocks start turned
by up to 0.6 rad, so most places into the container need a turn (the place's ``yaw``), and a different one for
every block: no single argument satisfies it, the user says which way to turn each time. The wish is the user's
own; the observing user knows it, the robot does not. Off by default in the teaching benchmark (the retraining
benchmark puts it in play, so that its users say rotations)."""
from __future__ import annotations

import random
from typing import Any, Optional

from hardware.scene import Quirk, Scene, SceneObject
from sim.quirk_kinds.base import CONTAINER, QuirkKind, Violation

TOL_RAD = 0.15  # rad a block may stand off square and still look squared up to the user (about 9 degrees)


class SquarePref(QuirkKind):
    name = "square_pref"
    on = CONTAINER
    physical = False
    args = (("place", "yaw"),)
    symptoms = ()
    order = 55
    default_on = False

    def realise(self, scene: Scene, o: SceneObject, rng: random.Random, magnitude: dict[str, Any]) -> dict[str, Any]:
        return {"yaw": 0.0, "tol": float((magnitude or {}).get("tol", TOL_RAD))}

    def _ok(self, p: dict[str, Any], a: dict[str, Any]) -> bool:
        # how a block comes to rest depends on how it lay when picked, which a call's arguments do not say: the
        # benchmark's ground truth (``agent.bench.teach.goal_holds``) reads the world instead
        return True

    def fixing_args(self, quirk: Quirk) -> tuple[str, dict[str, Any]]:
        return "place", {"yaw": 0.0}

    def _violations(self, quirk: Quirk, a: dict[str, Any], tol: Any) -> list[Violation]:
        return []  # the oracle user judges calls by their arguments only; it cannot see how a block will lie

    def wanted_yaw(self, quirk: Quirk) -> Optional[tuple[float, float]]:
        return float(quirk.params.get("yaw", 0.0)), float(quirk.params.get("tol", TOL_RAD))

    def describe(self, quirk: Quirk) -> str:
        return f"user wants blocks in {quirk.object} squared up (yaw a multiple of 90 deg ± {quirk.params.get('tol')} rad)"

"""Shared by the grip kinds (``slippery``, ``heavy``): a block that is lost unless gripped hard enough."""
from __future__ import annotations

import random
from typing import Any, ClassVar

from hardware.scene import Quirk, Scene, SceneObject
from sim.quirk_kinds.base import BLOCK, QuirkKind, Violation


class GripQuirk(QuirkKind):
    """Friction and mass set so that the grip holds only with pick ``force`` ≥ ``min_force`` (N); optionally the
    block must also be carried at ``speed`` ≤ ``max_speed`` (a user preference set by the task rules)."""

    on = BLOCK
    args = (("pick", "force"), ("pick", "speed"), ("place", "speed"))
    symptoms = ("slipped", "dropped")
    friction: ClassVar[float] = 0.5
    mass: ClassVar[float] = 1.0  # kg
    min_force: ClassVar[float] = 30.0  # N, measured in this simulation

    def realise(self, scene: Scene, o: SceneObject, rng: random.Random, magnitude: dict[str, Any]) -> dict[str, Any]:
        o.friction, o.mass = self.friction, self.mass
        p: dict[str, Any] = {"min_force": self.min_force}
        if magnitude.get("max_speed"):
            p["max_speed"] = float(magnitude["max_speed"])
        return p

    def _ok(self, p: dict[str, Any], a: dict[str, Any]) -> bool:
        ok = float(a["force"]) >= p["min_force"]
        if "max_speed" in p:
            ok = ok and float(a["speed"]) <= p["max_speed"]
        return ok

    def fixing_args(self, quirk: Quirk) -> tuple[str, dict[str, Any]]:
        return "pick", {"force": quirk.params["min_force"] + 10.0}

    def _violations(self, quirk: Quirk, a: dict[str, Any], tol: Any) -> list[Violation]:
        out, p, obj = [], quirk.params, quirk.object
        force, speed = float(a["force"]), float(a["speed"])
        if p.get("min_force") is not None and force < float(p["min_force"]):
            out.append(Violation("force", "force", float(p["min_force"]) - force, reason=f"{self.name} {obj}: force {force:g} < {p['min_force']}"))
        if p.get("max_speed") is not None and speed > float(p["max_speed"]) + 1e-9:
            out.append(Violation("speed", "speed", float(p["max_speed"]) - speed, reason=f"{self.name} {obj}: speed {speed:g} > {p['max_speed']}"))
        return out

    def carry_violations(self, quirk: Quirk, place_args: dict[str, Any]) -> list[Violation]:
        ms = quirk.params.get("max_speed")
        speed = float(place_args.get("speed", 1.0))
        if ms is not None and speed > float(ms) + 1e-9:
            return [Violation("speed", "speed", float(ms) - speed, reason=f"{self.name} {quirk.object} carried at speed {speed:g} > {ms}")]
        return []

    def describe(self, quirk: Quirk) -> str:
        p = quirk.params
        return f"pick {quirk.object} with force >= {p.get('min_force')} N" + (f", speed <= {p['max_speed']}" if p.get("max_speed") else "")

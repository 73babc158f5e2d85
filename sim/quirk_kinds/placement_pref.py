"""``placement_pref``: no physics; the user wants things in this container near ``params["offset"]`` ([dx, dy] m
from the centre) within ``params["tol"]`` (m). The spot is the user's own wish, drawn per benchmark seed; the
observing user knows it (it is its wish), the robot does not."""
from __future__ import annotations

import math
import random
from typing import Any

from hardware.scene import Quirk, Scene, SceneObject
from sim.quirk_kinds._spot import SpotQuirk


class PlacementPref(SpotQuirk):
    name = "placement_pref"
    physical = False
    symptoms = ()
    order = 50

    def draw_magnitude(self, rng: random.Random) -> dict[str, Any]:
        ang = rng.uniform(-math.pi, math.pi)
        r = rng.uniform(0.025, 0.04)
        return {"offset": [round(r * math.cos(ang), 4), round(r * math.sin(ang), 4)], "tol": 0.015}

    def realise(self, scene: Scene, o: SceneObject, rng: random.Random, magnitude: dict[str, Any]) -> dict[str, Any]:
        m = magnitude or self.draw_magnitude(rng)
        return {"offset": list(m["offset"]), "tol": float(m.get("tol", 0.015))}

    def describe(self, quirk: Quirk) -> str:
        return f"user wants things in {quirk.object} at offset {quirk.params.get('offset')} ± {quirk.params.get('tol')} m"

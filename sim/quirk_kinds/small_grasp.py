"""``small_grasp``: a block with a bevelled top; the default pick closes the fingers on the bevel and the block
squeezes out. Fixed by a lower grasp (pick ``offset`` z ≤ ``params["max_dz"]``, m)."""
from __future__ import annotations

import random
from typing import Any, Optional

from hardware.scene import Quirk, Scene, SceneObject
from sim.quirk_kinds.base import BLOCK, QuirkKind, Violation
from skills.library import GRASP_DEPTH

BEVEL_HEIGHTS = (0.015, 0.016, 0.017)  # m: height of the bevelled top, drawn per benchmark seed
FRICTION = 0.4  # a smooth block: the bevel (about 33 deg from vertical) is steeper than its friction angle


class SmallGrasp(QuirkKind):
    name = "small_grasp"
    on = BLOCK
    sizes = ("small",)
    args = (("pick", "offset"),)
    symptoms = ("missed_grasp", "slipped")
    order = 10

    def draw_magnitude(self, rng: random.Random) -> dict[str, Any]:
        return {"bevel_h": rng.choice(BEVEL_HEIGHTS)}

    def realise(self, scene: Scene, o: SceneObject, rng: random.Random, magnitude: dict[str, Any]) -> dict[str, Any]:
        bevel = float(magnitude.get("bevel_h", 0.016))
        wall = max(0.004, o.height - bevel)
        # the fingertips must end at least 4 mm below the start of the bevel; the default grasp puts them
        # GRASP_DEPTH below the top
        max_dz = round(-((o.height - wall) - GRASP_DEPTH) - 0.004, 3)
        o.friction = FRICTION
        return {"max_dz": max_dz, "wall_height": round(wall, 4), "top_width": round(o.size * 0.25, 4)}

    def _ok(self, p: dict[str, Any], a: dict[str, Any]) -> bool:
        return float(a["offset"][2]) <= p["max_dz"]

    def fixing_args(self, quirk: Quirk) -> tuple[str, dict[str, Any]]:
        return "pick", {"offset": [0.0, 0.0, quirk.params["max_dz"] - 0.005]}

    def _violations(self, quirk: Quirk, a: dict[str, Any], tol: Any) -> list[Violation]:
        max_dz, z = float(quirk.params.get("max_dz", -0.01)), float(a["offset"][2])
        if z > max_dz - tol.margin_dz:
            aim = max_dz - max(tol.margin_dz, tol.z_window / 2)
            return [Violation("offset", "offset", aim - z, "z", reason=f"bevelled {quirk.object}: grasp z {z:+.3f} > {max_dz:+.3f}")]
        if z < max_dz - tol.z_window:
            aim = max_dz - tol.z_window / 2
            return [Violation("offset", "offset", aim - z, "z", reason=f"bevelled {quirk.object}: grasp too low")]
        return []

    def describe(self, quirk: Quirk) -> str:
        return f"pick {quirk.object} with offset z <= {quirk.params.get('max_dz')} m"


def bevel_of(scene: Optional[Scene], name: str) -> Optional[tuple[float, float]]:
    """(vertical wall height, top width) in m of a bevelled block, else None (read by the world to build it)."""
    if scene is None:
        return None
    for q in scene.quirks_for(name):
        if q.kind == SmallGrasp.name and "wall_height" in q.params:
            return float(q.params["wall_height"]), float(q.params.get("top_width", 0.01))
    return None

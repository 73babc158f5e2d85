"""``offcenter_drop``: the container has a raised insert filling it except a pocket on one side; a block dropped
elsewhere lands on the insert, above the rim, and is not in. ``params``: ``offset`` ([dx, dy] m from the centre,
the pocket's middle) and ``tol`` (m). The pocket's side is drawn per benchmark seed."""
from __future__ import annotations

import math
import random
from typing import Any, Optional

from hardware.scene import FLOOR_T, WALL_T, Scene, SceneObject
from sim.quirk_kinds._spot import SpotQuirk

POCKET = {"edge": 0.008, "offset": 0.04, "tol": 0.012, "top_above_rim": 0.004}


class OffcenterDrop(SpotQuirk):
    name = "offcenter_drop"
    sizes = ("small", "medium")  # a 5 cm block does not fit the pocket
    symptoms = ("missed_target",)
    order = 40

    def draw_magnitude(self, rng: random.Random) -> dict[str, Any]:
        return {"angle": rng.choice((0.0, 0.5, 1.0, 1.5)) * math.pi}

    def realise(self, scene: Scene, o: SceneObject, rng: random.Random, magnitude: dict[str, Any]) -> dict[str, Any]:
        ang = float(magnitude["angle"]) if "angle" in magnitude else rng.choice([0.0, 0.5 * math.pi, math.pi, 1.5 * math.pi]) + o.yaw
        r = POCKET["offset"]
        return {"offset": [round(r * math.cos(ang), 4), round(r * math.sin(ang), 4)], "tol": POCKET["tol"]}


def insert_boxes(scene: Optional[Scene], o: SceneObject) -> list[tuple[float, float, float, tuple[float, float, float]]]:
    """Boxes (half extents hx, hy, hz and centre, container frame) of the insert: strips that fill the container
    up to just above its rim, except a pocket around the quirk's offset (read by the world to build it)."""
    if scene is None:
        return []
    q = next((q for q in scene.quirks_for(o.name) if q.kind == OffcenterDrop.name), None)
    if q is None:
        return []
    dx, dy = q.params["offset"]
    ang = math.atan2(dy, dx) - o.yaw  # pocket direction in the container frame
    u = (math.cos(ang), math.sin(ang))
    v = (-u[1], u[0])
    r_in = o.size / 2 - WALL_T - 0.001
    top = o.height / 2 + POCKET["top_above_rim"]
    bottom = -o.height / 2 + FLOOR_T
    hz = (top - bottom) / 2
    zc = (top + bottom) / 2
    edge = POCKET["edge"]
    boxes = []
    n = 8
    w = 2 * r_in / n
    for i in range(n):
        vc = -r_in + (i + 0.5) * w
        vmax = max(abs(vc) - w / 2, 0.0)
        half_chord = math.sqrt(max(r_in ** 2 - vmax ** 2, 0.0)) if o.kind == "bowl" else r_in
        lo, hi = -half_chord, min(edge, half_chord)
        if hi - lo < 0.004:
            continue
        uc = (lo + hi) / 2
        cx, cy = uc * u[0] + vc * v[0], uc * u[1] + vc * v[1]
        boxes.append((abs((hi - lo) / 2 * u[0]) + abs(w / 2 * v[0]), abs((hi - lo) / 2 * u[1]) + abs(w / 2 * v[1]), hz, (cx, cy, zc)))
    return boxes

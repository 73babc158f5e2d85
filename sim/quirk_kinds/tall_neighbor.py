"""``tall_neighbor``: a 22 cm tall block stands 7.5 cm from the block, between it and the robot's start (home)
position; travelling at the default approach altitude knocks it over. Fixed by pick ``height`` ≥
``params["min_height"]`` (m). The block's yaw is set so the gripper's thin side faces the neighbour. Off by
default in the teaching benchmark."""
from __future__ import annotations

import math
import random
from typing import Any

from hardware.scene import Quirk, Scene, SceneError, SceneObject
from sim.quirk_kinds.base import BLOCK, QuirkKind, Violation
from skills.library import FINGERTIP_BELOW_TCP, GRASP_DEPTH, HOME_TCP

START_XY = (HOME_TCP[0], HOME_TCP[1])  # TCP xy at home, where a plan's first pick starts
NEIGHBOR = {"height": 0.22, "size": 0.04, "distance": 0.075, "mass": 0.15}


class TallNeighbor(QuirkKind):
    name = "tall_neighbor"
    on = BLOCK
    args = (("pick", "height"),)
    symptoms = ("knocked_over",)
    order = 60
    default_on = False

    def realise(self, s: Scene, o: SceneObject, rng: random.Random, magnitude: dict[str, Any]) -> dict[str, Any]:
        x, y, _ = o.position
        toward = math.atan2(START_XY[1] - y, START_XY[0] - x)
        # gripper yaw the pick will choose = block yaw folded into [-pi/4, pi/4]; make its thin side point at home
        g = max(-math.pi / 4, min(math.pi / 4, math.remainder(toward - math.pi, math.pi)))
        dir_ = g + math.pi if math.cos(toward - g) < 0 else g
        o.yaw = g
        d = NEIGHBOR["distance"]
        nx, ny = x + d * math.cos(dir_), y + d * math.sin(dir_)
        used = {ob.color for ob in s.objects if ob.kind == "block"}
        color = next((c for c in ("white", "gray", "black", "pink", "orange", "yellow", "purple") if c not in used), "white")
        name = f"tall {color} block"
        for other in s.objects:
            if other is o:
                continue
            r_other = other.size / 2 * (1.42 if other.kind != "bowl" else 1.0)
            if math.hypot(other.position[0] - nx, other.position[1] - ny) < r_other + NEIGHBOR["size"] * 0.71 + 0.01:
                raise SceneError(f"no room for a tall block next to {o.name}: {other.name} is in the way")
        if math.hypot(x - START_XY[0], y - START_XY[1]) < d + 0.06:
            raise SceneError(f"{o.name} is too close to the robot's start position for a tall neighbour")
        if math.hypot(nx, ny) < 0.42:
            raise SceneError(f"{o.name} is too close to the robot's base for a tall neighbour (the arm itself would hit it)")
        s.objects.append(SceneObject(name, "block", color, NEIGHBOR["size"], (nx, ny, NEIGHBOR["height"] / 2), yaw=g,
                                     mass=NEIGHBOR["mass"], height=NEIGHBOR["height"]))
        aim_z = o.height - GRASP_DEPTH + FINGERTIP_BELOW_TCP
        # TCP altitude needed: neighbour top + fingertips + 2.5 cm margin, as approach clearance over the aim point
        min_h = math.ceil((NEIGHBOR["height"] + FINGERTIP_BELOW_TCP + 0.025 - aim_z) * 100) / 100
        return {"min_height": min_h, "neighbor": name}

    def _ok(self, p: dict[str, Any], a: dict[str, Any]) -> bool:
        return float(a["height"]) >= p["min_height"]

    def fixing_args(self, quirk: Quirk) -> tuple[str, dict[str, Any]]:
        return "pick", {"height": min(0.3, quirk.params["min_height"] + 0.03)}

    def _violations(self, quirk: Quirk, a: dict[str, Any], tol: Any) -> list[Violation]:
        mh, h = float(quirk.params.get("min_height", 0.15)), float(a["height"])
        if h < mh:
            return [Violation("height", "height", mh - h, reason=f"tall neighbour by {quirk.object}: height {h:g} < {mh}")]
        return []

    def describe(self, quirk: Quirk) -> str:
        return f"pick {quirk.object} with height >= {quirk.params.get('min_height')} m"

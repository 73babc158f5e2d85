"""Whether the episode's goal holds, asked of the world (``World.is_in`` / ``World.is_on``, declared with
documented defaults in ``hardware.base``): each (object, target) pair of the plan. A named spot on the table
("the left side") is reached when the object rests within 6 cm of it and is not held."""
from __future__ import annotations

import math

from hardware.base import World
from skills.schema import NAMED_SPOTS

SPOT_RADIUS = 0.06  # m: how close to a named spot's point an object must rest
SPOT_MAX_Z = 0.1  # m: an object above this height is not resting at a spot


def pair_holds(world: World, obj: str, target: str) -> bool:
    """``obj`` is in or on ``target`` (or at the named spot ``target``) and not held."""
    if target in NAMED_SPOTS and target not in world.names():
        (x, y, z), _ = world.pose(obj)
        sx, sy = NAMED_SPOTS[target]
        return math.hypot(x - sx, y - sy) < SPOT_RADIUS and z < SPOT_MAX_Z and world.held() != obj
    return world.is_in(obj, target) or world.is_on(obj, target)


def unmet(world: World, pairs: list[tuple[str, str]]) -> list[str]:
    """What does not hold, in words ("the red block is not in the green bowl"); [] when the goal holds.
    A plan with no place has no goal: that is one unmet item."""
    if not pairs:
        return ["the plan puts nothing anywhere"]
    out = []
    for obj, target in pairs:
        if not pair_holds(world, obj, target):
            where = "at" if target in NAMED_SPOTS and target not in world.names() else "in" if world.kind(target) in ("bowl", "tray") else "on"
            out.append(f"the {obj} is not {where} the {target}")
    return out

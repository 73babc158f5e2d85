"""Realising :class:`hardware.scene.Quirk` data physically, and checking whether skill arguments satisfy a quirk.

``add_quirk(scene, kind, object_name, rng)`` returns a new scene with the quirk recorded (``Quirk.params``)
*and* the physical change that makes the default skill arguments fail (mass, friction, geometry,
an extra object). The numbers in ``params`` are the single truth the simulated user and the teaching
benchmark read; they are derived from the same constants the simulation is built from.

Physical realisations (all in the robot base frame, metres, newtons):

- ``small_grasp``: the block's top is bevelled (a pyramid-like chamfer over its top ``BEVEL_H``);
  the default pick puts the fingertips 1.2 cm below the top, on the bevel, so the block squeezes out
  and is lost. ``params``: ``max_dz`` (pick ``offset`` z must be ≤ it), ``wall_height``, ``top_width``.
- ``slippery``: low friction (0.25, 0.6 kg); the grip holds (through lift and carry) only with pick
  ``force`` ≥ ``params["min_force"]`` (32 N; the default 20 N loses it at the lift or on the way).
- ``heavy``: 1.5 kg at friction 0.5; same rule, ``params["min_force"]`` (35 N).
- ``tall_neighbor``: a 22 cm tall block (``params["neighbor"]``) stands 7.5 cm from ``object``, between it and
  the robot's start (home) position; travelling at the default approach altitude knocks it over; the pick needs
  ``height`` ≥ ``params["min_height"]``. The block's yaw is set so the gripper's thin side faces the
  neighbour (the vertical descent itself is clear).
- ``offcenter_drop``: container ``object`` has a raised insert filling it except a pocket around
  ``params["offset"]`` ([dx, dy] from its centre); a block dropped elsewhere lands on the insert, above
  the rim, and is not in. The place ``offset`` must be within ``params["tol"]`` of it.
- ``placement_pref``: no physics; the user wants place ``offset`` near ``params["offset"]``.
"""
from __future__ import annotations

import copy
import math
import random
from typing import Any

from hardware.scene import FLOOR_T, WALL_T, Quirk, Scene, SceneError, SceneObject
from skills.schema import SKILLS
from skills.library import FINGERTIP_BELOW_TCP, GRASP_DEPTH, HOME_TCP

QUIRK_KINDS = ("small_grasp", "slippery", "heavy", "tall_neighbor", "offcenter_drop", "placement_pref")
PHYSICAL_QUIRKS = ("small_grasp", "slippery", "heavy", "tall_neighbor", "offcenter_drop")

# Where the default pick puts the fingertips: skills.library (imported above) is the single truth.
START_XY = (HOME_TCP[0], HOME_TCP[1])  # TCP xy at home, where a plan's first pick starts

BEVEL_H = 0.016  # small_grasp: height of the bevelled top (m)
# Thresholds measured in this simulation (180 Hz physics, pick then place into a bowl at speed 1.0):
# slippery drops at <= 24 N and holds at >= 28 N; heavy drops at <= 28 N and holds at >= 32 N.
SLIPPERY = {"friction": 0.25, "mass": 0.6, "min_force": 32.0}
HEAVY = {"friction": 0.5, "mass": 1.5, "min_force": 35.0}
SMALL_FRICTION = 0.4  # a smooth little block: the bevel (33 deg from vertical) is steeper than its friction angle
NEIGHBOR = {"height": 0.22, "size": 0.04, "distance": 0.075, "mass": 0.15}
POCKET = {"edge": 0.008, "offset": 0.04, "tol": 0.012, "top_above_rim": 0.004}


def add_quirk(scene: Scene, kind: str, object_name: str, rng: random.Random | None = None) -> Scene:
    """A copy of ``scene`` with quirk ``kind`` on ``object_name``, physically realised; raises SceneError if it
    does not apply (wrong kind of object, no room for a tall neighbour)."""
    if kind not in QUIRK_KINDS:
        raise SceneError(f"unknown quirk {kind!r}; quirks: {', '.join(QUIRK_KINDS)}")
    rng = rng or random.Random(0)
    s = copy.deepcopy(scene)
    o = s.get(object_name)
    params: dict[str, Any]
    if kind in ("small_grasp", "slippery", "heavy", "tall_neighbor") and o.kind != "block":
        raise SceneError(f"quirk {kind} needs a block; {object_name} is a {o.kind}")
    if kind in ("offcenter_drop", "placement_pref") and not o.is_container:
        raise SceneError(f"quirk {kind} needs a bowl or tray; {object_name} is a {o.kind}")
    if kind == "small_grasp":
        wall = max(0.004, o.height - BEVEL_H)
        # fingertips must end at least 4 mm below the start of the bevel
        # the default grasp has fingertips GRASP_DEPTH below the top; the bevel is BEVEL_H deep
        max_dz = round(-((o.height - wall) - GRASP_DEPTH) - 0.004, 3)
        o.friction = SMALL_FRICTION
        params = {"max_dz": max_dz, "wall_height": round(wall, 4), "top_width": round(o.size * 0.25, 4)}
    elif kind == "slippery":
        o.friction, o.mass = SLIPPERY["friction"], SLIPPERY["mass"]
        params = {"min_force": SLIPPERY["min_force"]}
    elif kind == "heavy":
        o.friction, o.mass = HEAVY["friction"], HEAVY["mass"]
        params = {"min_force": HEAVY["min_force"]}
    elif kind == "tall_neighbor":
        params = _add_neighbor(s, o, rng)
    elif kind == "offcenter_drop":
        ang = rng.choice([0.0, 0.5 * math.pi, math.pi, 1.5 * math.pi]) + o.yaw
        r = POCKET["offset"]
        params = {"offset": [round(r * math.cos(ang), 4), round(r * math.sin(ang), 4)], "tol": POCKET["tol"]}
    else:  # placement_pref
        ang = rng.uniform(-math.pi, math.pi)
        r = rng.uniform(0.025, 0.04)
        params = {"offset": [round(r * math.cos(ang), 4), round(r * math.sin(ang), 4)], "tol": 0.01}
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


def _add_neighbor(s: Scene, o: SceneObject, rng: random.Random) -> dict[str, Any]:
    x, y, _ = o.position
    toward = math.atan2(START_XY[1] - y, START_XY[0] - x)
    # gripper yaw the pick will choose = block yaw folded into [-pi/4, pi/4]; make its thin side (the
    # gripper's x axis) point as nearly as possible at the start position
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


def bevel_of(scene: Scene | None, name: str) -> tuple[float, float] | None:
    """(vertical wall height, top width) in m of a bevelled block (small_grasp quirk), else None."""
    if scene is None:
        return None
    for q in scene.quirks_for(name):
        if q.kind == "small_grasp" and "wall_height" in q.params:
            return float(q.params["wall_height"]), float(q.params.get("top_width", 0.01))
    return None


def insert_boxes(scene: Scene | None, o: SceneObject) -> list[tuple[float, float, float, tuple[float, float, float]]]:
    """Boxes (half extents hx, hy, hz and centre, container frame) of an offcenter_drop insert: strips that fill
    the container up to just above its rim, except a pocket around the quirk's offset."""
    if scene is None:
        return []
    q = next((q for q in scene.quirks_for(o.name) if q.kind == "offcenter_drop"), None)
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
        # boxes are axis-aligned in the container frame only when u is; rotate via their centre and extents
        boxes.append((abs((hi - lo) / 2 * u[0]) + abs(w / 2 * v[0]), abs((hi - lo) / 2 * u[1]) + abs(w / 2 * v[1]), hz, (cx, cy, zc)))
    return boxes


def quirk_satisfied(quirk: Quirk, skill: str, args: dict[str, Any]) -> bool:
    """Whether one skill call (``skill`` with ``args``; defaults from ``skills.schema`` where missing) gets past
    ``quirk``. Calls the quirk does not concern return True."""
    a = {**SKILLS[skill].defaults(), **args} if skill in SKILLS else dict(args)
    k, p = quirk.kind, quirk.params
    if k in ("small_grasp", "slippery", "heavy", "tall_neighbor"):
        if skill != "pick" or a.get("object") != quirk.object:
            return True
        if k == "small_grasp":
            return float(a["offset"][2]) <= p["max_dz"]
        if k in ("slippery", "heavy"):
            ok = float(a["force"]) >= p["min_force"]
            if "max_speed" in p:
                ok = ok and float(a["speed"]) <= p["max_speed"]
            return ok
        return float(a["height"]) >= p["min_height"]
    # offcenter_drop / placement_pref: place into the container
    if skill != "place" or a.get("target") != quirk.object:
        return True
    off = a["offset"]
    return math.hypot(float(off[0]) - p["offset"][0], float(off[1]) - p["offset"][1]) <= p["tol"]


def plan_satisfies(quirk: Quirk, plan: list[dict[str, Any]]) -> bool:
    """Whether every step of ``plan`` gets past ``quirk``."""
    return all(quirk_satisfied(quirk, c["skill"], c.get("args", {})) for c in plan)


def fixing_args(quirk: Quirk) -> tuple[str, dict[str, Any]]:
    """(skill, argument changes) that satisfy ``quirk`` with a margin, e.g. ("pick", {"force": 45.0})."""
    k, p = quirk.kind, quirk.params
    if k == "small_grasp":
        return "pick", {"offset": [0.0, 0.0, p["max_dz"] - 0.005]}
    if k in ("slippery", "heavy"):
        return "pick", {"force": p["min_force"] + 10.0}
    if k == "tall_neighbor":
        return "pick", {"height": min(0.3, p["min_height"] + 0.03)}
    return "place", {"offset": [p["offset"][0], p["offset"][1], 0.0]}


__all__ = ["add_quirk", "applicable_objects", "quirk_satisfied", "plan_satisfies", "fixing_args", "bevel_of", "insert_boxes", "QUIRK_KINDS",
           "PHYSICAL_QUIRKS"]

"""PyBullet plumbing for the simulated table: silencing the C library, quaternion helpers, and building the
bodies of a :class:`hardware.scene.Scene` (blocks, bevelled blocks, bowls, trays, off-centre inserts).

Base frame at the origin, x forward, y left, z up; metres, kilograms. Bodies are addressed by the scene
object's name through :class:`Body` records; :class:`sim.world.SimWorld` owns the client and the records.
"""
from __future__ import annotations

import contextlib
import math
import os
import sys
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import pybullet as p

from hardware.scene import COLORS, FLOOR_T, WALL_T, Scene, SceneError, SceneObject
from sim.quirks import bevel_of, insert_boxes

BOWL_SEGMENTS = 12  # PyBullet compounds hold at most 16 child shapes


@dataclass
class Body:
    """One scene object in the simulation: its description, its PyBullet body id, and for containers the inner
    half extents (tray) or (radius, radius) (bowl) in m; ``extra`` ids are static parts named like it (inserts)."""

    obj: SceneObject
    body: int
    inner: tuple[float, float] = (0.0, 0.0)
    extra: tuple[int, ...] = ()


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Silence C-level stdout (file descriptor 1) for the duration; a no-op where that is not possible."""
    try:
        sys.stdout.flush()
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(devnull)
        os.close(saved)


def yaw_of(quat: Sequence[float]) -> float:
    """Rotation about z (rad) of a quaternion (x, y, z, w)."""
    x, y, z, w = quat
    return math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def tilt_of(quat: Sequence[float]) -> float:
    """Angle (rad) between the body's z axis and the world z axis."""
    x, y, z, w = quat
    zz = 1 - 2 * (x * x + y * y)
    return math.acos(max(-1.0, min(1.0, zz)))


def build_table(c: Any, friction: float) -> int:
    """The table: a fixed slab whose top is the plane z = 0; returns its body id."""
    col = c.createCollisionShape(p.GEOM_BOX, halfExtents=[0.7, 0.8, 0.025])
    vis = c.createVisualShape(p.GEOM_BOX, halfExtents=[0.7, 0.8, 0.025], rgbaColor=[0.72, 0.6, 0.45, 1])
    table = c.createMultiBody(0, col, vis, basePosition=[0.45, 0.0, -0.025])
    c.changeDynamics(table, -1, lateralFriction=friction)
    return table


def build_object(c: Any, o: SceneObject, scene: Scene | None) -> Body:
    """Create object ``o`` in client ``c`` (its quirks in ``scene`` shape blocks and containers)."""
    rgba = list(COLORS[o.color])
    orn = c.getQuaternionFromEuler([0, 0, o.yaw])
    inner = (0.0, 0.0)
    if o.kind == "block":
        bevel = bevel_of(scene, o.name)
        if bevel is not None:
            verts = bevelled_box_vertices(o.size, o.height, bevel[0], bevel[1])
            col = c.createCollisionShape(p.GEOM_MESH, vertices=verts)
            vis = c.createVisualShape(p.GEOM_BOX, halfExtents=[o.size / 2, o.size / 2, o.height / 2], rgbaColor=rgba)
        else:
            col = c.createCollisionShape(p.GEOM_BOX, halfExtents=[o.size / 2, o.size / 2, o.height / 2])
            vis = c.createVisualShape(p.GEOM_BOX, halfExtents=[o.size / 2, o.size / 2, o.height / 2], rgbaColor=rgba)
        body = c.createMultiBody(o.mass, col, vis, basePosition=o.position, baseOrientation=orn)
        c.changeDynamics(body, -1, lateralFriction=o.friction, spinningFriction=0.001, rollingFriction=0.0,
                         restitution=0.0, frictionAnchor=1)
    elif o.kind in ("bowl", "tray"):
        body, inner, extra = _container(c, o, orn, rgba, scene)
        return Body(o, body, inner, extra)
    else:  # pragma: no cover - Scene validates kinds
        raise SceneError(f"cannot build kind {o.kind!r}")
    return Body(o, body, inner)


def _container(c: Any, o: SceneObject, orn: Sequence[float], rgba: list[float],
               scene: Scene | None) -> tuple[int, tuple[float, float], tuple[int, ...]]:
    """A bowl (disc floor + ring of wall boxes) or a tray (plate + four low walls), base at the bbox centre;
    returns the body, the inner half extents and the ids of any insert bodies."""
    h = o.height
    types, half, radii, lengths, pos, orns = [], [], [], [], [], []

    def box(hx: float, hy: float, hz: float, xyz: Sequence[float], yaw: float = 0.0) -> None:
        types.append(p.GEOM_BOX)
        half.append([hx, hy, hz])
        radii.append(0.0)
        lengths.append(0.0)
        pos.append(list(xyz))
        orns.append(list(c.getQuaternionFromEuler([0, 0, yaw])))

    if o.kind == "bowl":
        r = o.size / 2
        types.append(p.GEOM_CYLINDER)
        half.append([0, 0, 0])
        radii.append(r)
        lengths.append(FLOOR_T)
        pos.append([0, 0, -h / 2 + FLOOR_T / 2])
        orns.append([0, 0, 0, 1])
        n = BOWL_SEGMENTS
        seg = 2 * r * math.tan(math.pi / n) + 0.002
        for i in range(n):
            a = 2 * math.pi * i / n
            rr = r - WALL_T / 2
            box(WALL_T / 2, seg / 2, h / 2, [rr * math.cos(a), rr * math.sin(a), 0.0], a)
        inner = (r - WALL_T, r - WALL_T)
    else:
        s = o.size / 2
        box(s, s, FLOOR_T / 2, [0, 0, -h / 2 + FLOOR_T / 2])
        for sx, sy, along_x in ((1, 0, False), (-1, 0, False), (0, 1, True), (0, -1, True)):
            if along_x:
                box(s, WALL_T / 2, h / 2, [0, sy * (s - WALL_T / 2), 0])
            else:
                box(WALL_T / 2, s, h / 2, [sx * (s - WALL_T / 2), 0, 0])
        inner = (s - WALL_T, s - WALL_T)
    col = c.createCollisionShapeArray(types, radii=radii, halfExtents=half, lengths=lengths,
                                      collisionFramePositions=pos, collisionFrameOrientations=orns)
    vis = c.createVisualShapeArray(types, radii=radii, halfExtents=half, lengths=lengths,
                                   visualFramePositions=pos, visualFrameOrientations=orns)
    # containers are fixed to the table (mass 0): a dynamic compound bowl costs ~6x the physics time
    body = c.createMultiBody(0.0, col, vis, basePosition=o.position, baseOrientation=orn)
    c.changeVisualShape(body, -1, rgbaColor=rgba)
    c.changeDynamics(body, -1, lateralFriction=o.friction, restitution=0.0, spinningFriction=0.001)
    boxes = insert_boxes(scene, o)
    extra: tuple[int, ...] = ()
    if boxes:  # offcenter_drop: a fixed insert inside the container, a separate static body named like it
        types, half, radii, lengths, pos, orns = [], [], [], [], [], []
        for hx, hy, hz, xyz in boxes[:16]:
            box(hx, hy, hz, xyz)
        col = c.createCollisionShapeArray(types, radii=radii, halfExtents=half, lengths=lengths,
                                          collisionFramePositions=pos, collisionFrameOrientations=orns)
        vis = c.createVisualShapeArray(types, radii=radii, halfExtents=half, lengths=lengths,
                                       visualFramePositions=pos, visualFrameOrientations=orns)
        ins = c.createMultiBody(0.0, col, vis, basePosition=o.position, baseOrientation=orn)
        c.changeVisualShape(ins, -1, rgbaColor=[v * 0.8 for v in rgba[:3]] + [1.0])
        c.changeDynamics(ins, -1, lateralFriction=o.friction, restitution=0.0)
        extra = (ins,)
    return body, inner, extra


def bevelled_box_vertices(size: float, height: float, wall: float, top: float) -> list[list[float]]:
    """Convex hull vertices (about the bbox centre) of a block with vertical walls up to ``wall`` and a
    pyramid-like bevel narrowing to a ``top`` wide square at the top."""
    s, t, h = size / 2, top / 2, height / 2
    v = []
    for sx in (-1, 1):
        for sy in (-1, 1):
            v.append([sx * s, sy * s, -h])
            v.append([sx * s, sy * s, -h + wall])
            v.append([sx * t, sy * t, h])
    return v

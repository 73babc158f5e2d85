"""A PyBullet tabletop built from a :class:`hardware.scene.Scene`: bodies by name, world queries, cameras.

Frames and units (``shared/spec/corrections.md``): robot base frame at the origin, x forward, y left,
z up; the table top is the plane z = 0. Metres, radians, seconds, newtons, kilograms.

Every :class:`SimWorld` owns its own physics client (``p.DIRECT`` unless ``gui=True``), so several worlds
can live in one process. :meth:`SimWorld.load` rebuilds the whole simulation (``resetSimulation``) from the
scene, which is what makes runs deterministic: the same scene and the same commands give the same result.

The Panda arm (:class:`sim.panda.SimPanda`) lives inside the world: ``world.robot``.
Rendering is never done implicitly; call :meth:`SimWorld.render` when you want pixels.
"""
from __future__ import annotations

import contextlib
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import pybullet as p
import pybullet_data
from pybullet_utils import bullet_client

from hardware.base import RobotConfig, World
from hardware.scene import COLORS, FLOOR_T, WALL_T, Scene, SceneError, SceneObject
from sim.panda import PandaConfig, SimPanda
from sim.quirks import bevel_of, insert_boxes

TABLE_NAME = "table"
ROBOT_NAME = "robot"
BOWL_SEGMENTS = 12  # PyBullet compounds hold at most 16 child shapes


@dataclass
class CameraSpec:
    """A pinhole camera: eye and target in the base frame (m), vertical field of view (deg)."""

    eye: tuple[float, float, float]
    target: tuple[float, float, float]
    up: tuple[float, float, float] = (0.0, 0.0, 1.0)
    fov_deg: float = 55.0
    near: float = 0.02
    far: float = 3.0


@dataclass
class WorldConfig:
    """Simulation settings. ``physics_hz`` is the physics rate; the robot's control rate is in ``robot``."""

    gui: bool = False
    physics_hz: float = 180.0
    solver_iterations: int = 20
    gravity: float = -9.81
    robot: RobotConfig = field(default_factory=PandaConfig)
    scene_camera: CameraSpec = field(default_factory=lambda: CameraSpec(eye=(1.05, 0.0, 0.62), target=(0.48, 0.0, 0.02), fov_deg=52.0))
    # the user's view: from behind the robot (and a little to its right, so that the arm hides less of the
    # table), above it, looking forward (+x): the user's left (+y) is the image's left; camera "user"
    user_camera: CameraSpec = field(default_factory=lambda: CameraSpec(eye=(-0.3, -0.3, 1.3), target=(0.55, 0.0, 0.0), fov_deg=40.0))
    render_size: tuple[int, int] = (160, 120)
    finger_friction: float = 1.0
    table_friction: float = 0.8


@dataclass
class _Body:
    obj: SceneObject
    body: int
    inner: tuple[float, float] = (0.0, 0.0)  # containers: inner half extents (tray) or (radius, radius) (bowl)


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
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


class SimWorld(World):
    """The simulated table with its objects and the Panda; implements :class:`hardware.base.World`."""

    def __init__(self, scene: Scene | None = None, config: WorldConfig | None = None) -> None:
        self.config = config or WorldConfig()
        with _quiet_stdout():  # pybullet's C code prints "argv[0]=" on connect
            self.client = bullet_client.BulletClient(connection_mode=p.GUI if self.config.gui else p.DIRECT)
        self.client.setAdditionalSearchPath(pybullet_data.getDataPath())
        self.scene: Scene | None = None
        self._bodies: dict[str, _Body] = {}
        self._by_id: dict[int, str] = {}
        self.table_id = -1
        self.time_s = 0.0
        self.physics_steps = 0
        self.robot = SimPanda(self, self.config.robot)
        self.load(scene if scene is not None else Scene(objects=[]))

    # --- building ---------------------------------------------------------------------------------
    @property
    def dt(self) -> float:
        """Seconds per physics step."""
        return 1.0 / self.config.physics_hz

    def load(self, scene: Scene) -> None:
        """Rebuild everything (table, robot at home, objects) from ``scene``; time restarts at 0."""
        c = self.client
        c.resetSimulation()
        c.setPhysicsEngineParameter(
            fixedTimeStep=self.dt, numSolverIterations=self.config.solver_iterations,
            deterministicOverlappingPairs=1, numSubSteps=0,
        )
        c.setGravity(0, 0, self.config.gravity)
        self.time_s = 0.0
        self.physics_steps = 0
        self._bodies.clear()
        self._by_id.clear()
        col = c.createCollisionShape(p.GEOM_BOX, halfExtents=[0.7, 0.8, 0.025])
        vis = c.createVisualShape(p.GEOM_BOX, halfExtents=[0.7, 0.8, 0.025], rgbaColor=[0.72, 0.6, 0.45, 1])
        self.table_id = c.createMultiBody(0, col, vis, basePosition=[0.45, 0.0, -0.025])
        c.changeDynamics(self.table_id, -1, lateralFriction=self.config.table_friction)
        self._by_id[self.table_id] = TABLE_NAME
        self.robot._build()
        self._by_id[self.robot.body] = ROBOT_NAME
        for link in (-1, 0, 1):
            c.setCollisionFilterPair(self.table_id, self.robot.body, -1, link, 0)
        self.scene = scene
        for o in scene.objects:
            self._add(o)
        # let things settle onto the table without the clock running
        for _ in range(int(0.1 * self.config.physics_hz)):
            c.stepSimulation()

    def reset(self, scene: Scene | None = None) -> None:
        """Reload ``scene`` (or the current scene) from scratch."""
        self.load(scene if scene is not None else (self.scene or Scene(objects=[])))

    def _add(self, o: SceneObject) -> None:
        c = self.client
        rgba = list(COLORS[o.color])
        orn = c.getQuaternionFromEuler([0, 0, o.yaw])
        inner = (0.0, 0.0)
        if o.kind == "block":
            bevel = bevel_of(self.scene, o.name)
            if bevel is not None:
                verts = _bevelled_box_vertices(o.size, o.height, bevel[0], bevel[1])
                col = c.createCollisionShape(p.GEOM_MESH, vertices=verts)
                vis = c.createVisualShape(p.GEOM_BOX, halfExtents=[o.size / 2, o.size / 2, o.height / 2], rgbaColor=rgba)
            else:
                col = c.createCollisionShape(p.GEOM_BOX, halfExtents=[o.size / 2, o.size / 2, o.height / 2])
                vis = c.createVisualShape(p.GEOM_BOX, halfExtents=[o.size / 2, o.size / 2, o.height / 2], rgbaColor=rgba)
            body = c.createMultiBody(o.mass, col, vis, basePosition=o.position, baseOrientation=orn)
            c.changeDynamics(body, -1, lateralFriction=o.friction, spinningFriction=0.001, rollingFriction=0.0,
                             restitution=0.0, frictionAnchor=1)
        elif o.kind in ("bowl", "tray"):
            body, inner = self._container(o, orn, rgba)
        else:  # pragma: no cover - Scene validates kinds
            raise SceneError(f"cannot build kind {o.kind!r}")
        self._bodies[o.name] = _Body(o, body, inner)
        self._by_id[body] = o.name

    def _container(self, o: SceneObject, orn: Sequence[float], rgba: list[float]) -> tuple[int, tuple[float, float]]:
        """A bowl (disc floor + ring of wall boxes) or a tray (plate + four low walls), base at the bbox centre."""
        c = self.client
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
        boxes = insert_boxes(self.scene, o)
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
            self._by_id[ins] = o.name
        return body, inner

    # --- time ----------------------------------------------------------------------------------------
    def step(self, n: int = 1) -> None:
        """Advance physics ``n`` steps of :attr:`dt` seconds."""
        for _ in range(n):
            self.client.stepSimulation()
        self.physics_steps += n
        self.time_s += n * self.dt

    def settle(self, seconds: float = 0.3) -> None:
        """Let physics run with the robot holding its set-point (used after releases)."""
        self.robot.tick(max(1, int(round(seconds * self.robot.config.control_hz))))

    # --- World interface ---------------------------------------------------------------------------------
    def names(self) -> list[str]:
        return list(self._bodies)

    def _get(self, name: str) -> _Body:
        b = self._bodies.get(name)
        if b is None:
            raise SceneError(f"there is no {name}; I see: {', '.join(self._bodies) or 'nothing'}")
        return b

    def body(self, name: str) -> int:
        """PyBullet body id of object ``name``."""
        return self._get(name).body

    def name_of(self, body_id: int) -> str | None:
        return self._by_id.get(body_id)

    def object(self, name: str) -> SceneObject:
        return self._get(name).obj

    def pose(self, name: str) -> tuple[tuple[float, float, float], float]:
        pos, orn = self.client.getBasePositionAndOrientation(self._get(name).body)
        return (float(pos[0]), float(pos[1]), float(pos[2])), yaw_of(orn)

    def tilt(self, name: str) -> float:
        """Angle (rad) of the object's up axis from vertical."""
        return tilt_of(self.client.getBasePositionAndOrientation(self._get(name).body)[1])

    def dims(self, name: str) -> tuple[float, float, float]:
        o = self._get(name).obj
        return (o.size, o.size, o.height)

    def kind(self, name: str) -> str:
        return self._get(name).obj.kind

    def poses(self) -> dict[str, list[float]]:
        """name -> [x, y, z, yaw] of every object (m, rad)."""
        out = {}
        for n in self._bodies:
            (x, y, z), yaw = self.pose(n)
            out[n] = [x, y, z, yaw]
        return out

    def top_z(self, name: str) -> float:
        """Height (m) of the object's top surface (its bbox top, given its current pose)."""
        (_, _, z), _ = self.pose(name)
        return z + self._get(name).obj.height / 2

    def contacts(self, a: str) -> list[str]:
        """Names of what touches ``a``: other objects, ``"table"``, ``"robot"`` (sorted, unique)."""
        found: set[str] = set()
        for cp in self.client.getContactPoints(bodyA=self._get(a).body):
            n = self._by_id.get(cp[2])
            if n is not None and n != a:
                found.add(n)
        return sorted(found)

    def finger_contacts(self, a: str) -> tuple[bool, bool]:
        """Whether object ``a`` touches the left / right finger."""
        body = self._get(a).body
        left = bool(self.client.getContactPoints(bodyA=body, bodyB=self.robot.body, linkIndexB=self.robot.FINGERS[0]))
        right = bool(self.client.getContactPoints(bodyA=body, bodyB=self.robot.body, linkIndexB=self.robot.FINGERS[1]))
        return left, right

    def is_in(self, a: str, b: str) -> bool:
        """Whether ``a`` is inside container ``b``: its centre over ``b``'s inner footprint, its bottom below ``b``'s
        rim (so resting on an insert or on the rim does not count) and not held."""
        cb = self._get(b)
        if not cb.obj.is_container or a == b:
            return False
        (ax, ay, az), _ = self.pose(a)
        (bx, by, bz), byaw = self.pose(b)
        dx, dy = ax - bx, ay - by
        lx = math.cos(byaw) * dx + math.sin(byaw) * dy
        ly = -math.sin(byaw) * dx + math.cos(byaw) * dy
        if cb.obj.kind == "bowl":
            inside = math.hypot(lx, ly) < cb.inner[0]
        else:
            inside = abs(lx) < cb.inner[0] and abs(ly) < cb.inner[1]
        rim = bz + cb.obj.height / 2
        floor = bz - cb.obj.height / 2
        bottom = az - self._get(a).obj.height / 2
        return inside and floor - 0.005 < bottom < rim - 0.002 and self.held() != a

    def is_on(self, a: str, b: str) -> bool:
        """Whether ``a`` rests on top of ``b``: touching it, above it, centre over ``b``'s footprint."""
        if a == b:
            return False
        if b == TABLE_NAME:
            return TABLE_NAME in self.contacts(a) and self.held() != a
        ob = self._get(b).obj
        if b not in self.contacts(a) or self.held() == a:
            return False
        (ax, ay, az), _ = self.pose(a)
        (bx, by, bz), _ = self.pose(b)
        return az > bz + ob.height / 2 - 0.005 and math.hypot(ax - bx, ay - by) < ob.size / 2 + 0.005

    def held(self) -> str | None:
        """The object between the fingers: touching both fingers and not touching the table (lifted)."""
        for n, b in self._bodies.items():
            if b.obj.kind != "block":
                continue
            left, right = self.finger_contacts(n)
            if left and right and not self.client.getContactPoints(bodyA=b.body, bodyB=self.table_id):
                return n
        return None

    def grasped(self) -> str | None:
        """The block touching both fingers (lifted or not)."""
        for n, b in self._bodies.items():
            if b.obj.kind == "block" and all(self.finger_contacts(n)):
                return n
        return None

    # --- cameras -----------------------------------------------------------------------------------------
    def _camera(self, camera: str) -> CameraSpec:
        if camera == "scene":
            return self.config.scene_camera
        if camera == "user":
            return self.config.user_camera
        if camera == "wrist":
            (x, y, z), _yaw = self.robot.tcp_pose()
            hand = self.client.getLinkState(self.robot.body, self.robot.HAND)[0]
            return CameraSpec(eye=(hand[0] - 0.05, hand[1], hand[2] + 0.02), target=(x + 0.02, y, z - 0.3), up=(1, 0, 0), fov_deg=75.0, near=0.01)
        raise ValueError(f"unknown camera {camera!r}; cameras: scene, user, wrist")

    def _matrices(self, cam: CameraSpec, width: int, height: int) -> tuple[list[float], list[float]]:
        view = self.client.computeViewMatrix(cam.eye, cam.target, cam.up)
        proj = self.client.computeProjectionMatrixFOV(cam.fov_deg, width / height, cam.near, cam.far)
        return view, proj

    def render(self, camera: str | CameraSpec = "scene", width: int | None = None, height: int | None = None) -> dict[str, np.ndarray]:
        """Pixels from ``camera`` ("scene": facing the robot; "user": from behind it, the user's view, so the
        user's left is the image's left; "wrist"; or a :class:`CameraSpec`): ``rgb`` (H, W, 3) uint8,
        ``depth`` (H, W) float32 metres, ``seg`` (H, W) int32 PyBullet body ids (-1 background).
        ER_TINY_RENDERER, so it works headless."""
        w, h = width or self.config.render_size[0], height or self.config.render_size[1]
        cam = camera if isinstance(camera, CameraSpec) else self._camera(camera)
        view, proj = self._matrices(cam, w, h)
        _, _, rgba, zbuf, seg = self.client.getCameraImage(w, h, view, proj, renderer=p.ER_TINY_RENDERER)
        rgba = np.asarray(rgba, dtype=np.uint8).reshape(h, w, 4)
        zbuf = np.asarray(zbuf, dtype=np.float32).reshape(h, w)
        depth = cam.far * cam.near / (cam.far - (cam.far - cam.near) * zbuf)
        seg = np.asarray(seg, dtype=np.int32).reshape(h, w)
        return {"rgb": rgba[:, :, :3].copy(), "depth": depth.astype(np.float32), "seg": seg.astype(np.int32)}

    def object_crop(self, name: str, size: int = 64, margin: float = 0.25, width: int = 320, height: int = 240,
                    frame: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """RGB crop (size x size x 3 uint8) of object ``name`` seen by the scene camera.

        Uses the segmentation mask of a scene render (pass ``frame`` to reuse one rendered at
        ``width`` x ``height``); falls back to the projected bounding box when the object is hidden.
        """
        import cv2

        b = self._get(name)
        fr = frame if frame is not None else self.render("scene", width, height)
        hh, ww = fr["seg"].shape
        ys, xs = np.nonzero(fr["seg"] == b.body)
        if len(xs) >= 4:
            x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        else:
            x0, x1, y0, y1 = self._project_box(name, ww, hh)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        half = max(x1 - x0, y1 - y0) * (0.5 + margin) + 1
        xa, xb = int(max(0, cx - half)), int(min(ww, cx + half))
        ya, yb = int(max(0, cy - half)), int(min(hh, cy + half))
        crop = fr["rgb"][ya:yb, xa:xb]
        if crop.size == 0:
            crop = fr["rgb"]
        return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)

    def project(self, camera: str | CameraSpec, points: Sequence[Sequence[float]], width: int, height: int) -> np.ndarray:
        """Pixel coordinates (N, 2) as (column, row) of base-frame ``points`` (m) in a ``width`` x ``height``
        render of ``camera``."""
        cam = camera if isinstance(camera, CameraSpec) else self._camera(camera)
        view, proj = self._matrices(cam, width, height)
        V = np.asarray(view).reshape(4, 4).T
        P = np.asarray(proj).reshape(4, 4).T
        out = []
        for x, y, z in points:
            v = P @ V @ np.array([x, y, z, 1.0])
            out.append(((v[0] / v[3] + 1) * width / 2, (1 - v[1] / v[3]) * height / 2))
        return np.asarray(out, dtype=np.float64)

    @staticmethod
    def top_camera(centre: Sequence[float], half_width: float, height: float = 1.2, clip_above: float = 0.09) -> CameraSpec:
        """A camera straight above ``centre`` (x, y in m) seeing about ``half_width`` m either side; forward (+x)
        is the image's top and the user's left (+y) the image's left. Nothing higher than ``clip_above`` m is
        drawn (its near plane cuts it), so the arm hovering over the spot does not hide it."""
        z = height
        fov = 2 * math.degrees(math.atan(half_width / (z - 0.04)))
        return CameraSpec(eye=(centre[0], centre[1], z), target=(centre[0], centre[1], 0.0), up=(1.0, 0.0, 0.0),
                          fov_deg=fov, near=z - clip_above, far=z + 0.5)

    def _project_box(self, name: str, w: int, h: int) -> tuple[int, int, int, int]:
        cam = self.config.scene_camera
        view, proj = self._matrices(cam, w, h)
        V = np.asarray(view).reshape(4, 4).T
        P = np.asarray(proj).reshape(4, 4).T
        (x, y, z), _ = self.pose(name)
        sx, sy, sz = self.dims(name)
        pts = []
        for dx in (-sx / 2, sx / 2):
            for dy in (-sy / 2, sy / 2):
                for dz in (-sz / 2, sz / 2):
                    v = P @ V @ np.array([x + dx, y + dy, z + dz, 1.0])
                    pts.append(((v[0] / v[3] + 1) * w / 2, (1 - v[1] / v[3]) * h / 2))
        a = np.array(pts)
        return (int(np.clip(a[:, 0].min(), 0, w - 1)), int(np.clip(a[:, 0].max(), 1, w)),
                int(np.clip(a[:, 1].min(), 0, h - 1)), int(np.clip(a[:, 1].max(), 1, h)))

    def close(self) -> None:
        try:
            self.client.disconnect()
        except Exception:  # noqa: BLE001 - already gone
            pass

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass


class FrameRecorder:
    """A ``SkillControl`` tick hook that renders ``camera`` every ``every_s`` simulated seconds into ``frames``.

    ``SkillControl(on_tick=FrameRecorder(world))``; then ``save_strip(recorder.frames, "out.png")``.
    Rendering is the slow part (ER_TINY_RENDERER): keep frames small and sparse.
    """

    def __init__(self, world: SimWorld, camera: str = "scene", every_s: float = 0.5, size: tuple[int, int] = (160, 120),
                 max_frames: int = 64) -> None:
        self.world, self.camera, self.size, self.max_frames = world, camera, size, max_frames
        self.every = max(1, int(round(every_s * world.robot.config.control_hz)))
        self.frames: list[np.ndarray] = []

    def __call__(self, tick: int, state: Any, control: Any) -> None:
        if tick % self.every == 0 and len(self.frames) < self.max_frames:
            self.frames.append(self.world.render(self.camera, *self.size)["rgb"])


def caption(frame: np.ndarray, text: str, lines: int = 3, scale: float = 0.4) -> np.ndarray:
    """``frame`` (H, W, 3 uint8 RGB) with a white band below it holding ``text``, wrapped to the width
    (at most ``lines`` lines; ``\n`` starts a new line)."""
    import cv2

    h, w = frame.shape[:2]
    font, thick = cv2.FONT_HERSHEY_SIMPLEX, 1
    line_h = int(22 * scale / 0.4)
    wrapped: list[str] = []
    for para in text.split("\n"):
        cur = ""
        for word in para.split():
            cand = f"{cur} {word}".strip()
            if cv2.getTextSize(cand, font, scale, thick)[0][0] > w - 8 and cur:
                wrapped.append(cur)
                cur = word
            else:
                cur = cand
        wrapped.append(cur)
    wrapped = wrapped[:lines]
    band = np.full((line_h * lines + 6, w, 3), 255, dtype=np.uint8)
    for i, line in enumerate(wrapped):
        cv2.putText(band, line, (4, line_h * (i + 1)), font, scale, (0, 0, 0), thick, cv2.LINE_AA)
    return np.vstack([frame, band])


def save_strip(frames: Sequence[np.ndarray], path: str | Path, max_per_row: int = 8,
               labels: Sequence[str] | None = None, label_lines: int = 3) -> Path:
    """Save RGB frames (H, W, 3 uint8, same size) side by side as one PNG (rows of ``max_per_row``); with
    ``labels`` (one per frame) each frame gets its caption below it (:func:`caption`)."""
    import cv2

    if not frames:
        raise ValueError("no frames to save")
    if labels is not None:
        if len(labels) != len(frames):
            raise ValueError(f"{len(labels)} labels for {len(frames)} frames")
        h0, w0 = frames[0].shape[:2]
        frames = [caption(cv2.resize(f, (w0, h0)), t, label_lines) for f, t in zip(frames, labels)]
    h, w = frames[0].shape[:2]
    rows = []
    for i in range(0, len(frames), max_per_row):
        row = [cv2.resize(f, (w, h)) for f in frames[i:i + max_per_row]]
        row += [np.full_like(row[0], 255)] * (max_per_row - len(row)) if len(frames) > max_per_row else []
        rows.append(np.hstack(row))
    img = np.vstack(rows)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return out


def _bevelled_box_vertices(size: float, height: float, wall: float, top: float) -> list[list[float]]:
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


__all__ = ["SimWorld", "WorldConfig", "CameraSpec", "FrameRecorder", "save_strip", "yaw_of", "tilt_of", "TABLE_NAME", "ROBOT_NAME"]

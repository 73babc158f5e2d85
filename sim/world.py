"""A PyBullet tabletop built from a :class:`hardware.scene.Scene`: the world, its clock and its queries.

Building bodies is :mod:`sim.bullet`; cameras, renders and frame strips are :mod:`sim.camera`.

Frames and units (``shared/spec/corrections.md``): robot base frame at the origin, x forward, y left,
z up; the table top is the plane z = 0. Metres, radians, seconds, newtons, kilograms.

Every :class:`SimWorld` owns its own physics client (``p.DIRECT`` unless ``gui=True``), so several worlds
can live in one process. :meth:`SimWorld.load` rebuilds the whole simulation (``resetSimulation``) from the
scene, which is what makes runs deterministic: the same scene and the same commands give the same result.

The Panda arm (:class:`sim.panda.SimPanda`) lives inside the world: ``world.robot``.
Rendering is never done implicitly; call :meth:`SimWorld.render` when you want pixels.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pybullet as p
import pybullet_data
from pybullet_utils import bullet_client

from hardware.base import RobotConfig, World
from hardware.scene import Scene, SceneError, SceneObject
from sim.bullet import Body, build_object, build_table, quiet_stdout, tilt_of, yaw_of
from sim.camera import Cameras, CameraSpec
from sim.panda import PandaConfig, SimPanda

TABLE_NAME = "table"
ROBOT_NAME = "robot"


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


class SimWorld(World):
    """The simulated table with its objects and the Panda; implements :class:`hardware.base.World`.

    One job, like panda-gym's ``PyBullet`` facade: it owns one physics client and answers the ``World``
    queries about it (poses, contacts, containment), which is why it has more than 20 small methods. Bodies
    are built by :mod:`sim.bullet`; pixels come from its :class:`sim.camera.Cameras` (``self.cameras``)."""

    def __init__(self, scene: Scene | None = None, config: WorldConfig | None = None) -> None:
        self.config = config or WorldConfig()
        with quiet_stdout():  # pybullet's C code prints "argv[0]=" on connect
            self.client = bullet_client.BulletClient(connection_mode=p.GUI if self.config.gui else p.DIRECT)
        self.client.setAdditionalSearchPath(pybullet_data.getDataPath())
        self.scene: Scene | None = None
        self._bodies: dict[str, Body] = {}
        self._by_id: dict[int, str] = {}
        self.table_id = -1
        self.time_s = 0.0
        self.physics_steps = 0
        self.cameras = Cameras(self)
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
        self.table_id = build_table(c, self.config.table_friction)
        self._by_id[self.table_id] = TABLE_NAME
        self.robot._build()
        self._by_id[self.robot.body] = ROBOT_NAME
        for link in (-1, 0, 1):
            c.setCollisionFilterPair(self.table_id, self.robot.body, -1, link, 0)
        self.scene = scene
        for o in scene.objects:
            b = build_object(c, o, scene)
            self._bodies[o.name] = b
            for body_id in (b.body, *b.extra):
                self._by_id[body_id] = o.name
        # let things settle onto the table without the clock running
        for _ in range(int(0.1 * self.config.physics_hz)):
            c.stepSimulation()

    def reset(self, scene: Scene | None = None) -> None:
        """Reload ``scene`` (or the current scene) from scratch."""
        self.load(scene if scene is not None else (self.scene or Scene(objects=[])))

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

    def _get(self, name: str) -> Body:
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

    # --- cameras (sim.camera.Cameras) ---------------------------------------------------------------------
    def render(self, camera: str | CameraSpec = "scene", width: int | None = None, height: int | None = None) -> dict[str, np.ndarray]:
        """Pixels from ``camera`` ("scene": facing the robot; "user": from behind it, the user's view, so the
        user's left is the image's left; "wrist"; or a :class:`CameraSpec`): ``rgb`` (H, W, 3) uint8,
        ``depth`` (H, W) float32 metres, ``seg`` (H, W) int32 PyBullet body ids (-1 background)."""
        return self.cameras.render(camera, width, height)

    def object_crop(self, name: str, size: int = 64, margin: float = 0.25, width: int = 320, height: int = 240,
                    frame: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """RGB crop (size x size x 3 uint8) of object ``name`` as the scene camera sees it (:meth:`Cameras.object_crop`)."""
        return self.cameras.object_crop(name, size, margin, width, height, frame)

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


__all__ = ["SimWorld", "WorldConfig", "yaw_of", "tilt_of", "TABLE_NAME", "ROBOT_NAME"]

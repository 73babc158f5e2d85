"""The simulated Franka Panda: Cartesian set-points -> IK -> joint position control, and a force-limited gripper.

Frames and units (``shared/spec/corrections.md``): the robot base frame is the world frame of the
simulation, base at the origin, table top at z = 0. The TCP is ``panda_grasptarget`` (between the
fingertips; the fingertips reach 1.1 cm below it). ``yaw`` = 0 points the gripper down with the fingers
closing along base y; positive yaw turns it counter-clockwise seen from above. A parallel gripper is
symmetric under a half turn, so yaw is wrapped into (-pi/2, pi/2].

Control: :meth:`SimPanda.servo` sets the TCP set-point (clipped to the workspace and to
``max_speed``); :meth:`SimPanda.tick` advances one control tick (``physics_hz / control_hz`` physics
steps). The finger motors' force limit *is* the commanded grip force, so the grip's friction depends on it.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Sequence

import pybullet as p

from hardware.base import Robot, RobotConfig, RobotError, RobotState, ServoCommand

if TYPE_CHECKING:  # pragma: no cover
    from sim.world import SimWorld

ARM_FORCES = (87.0, 87.0, 87.0, 87.0, 12.0, 12.0, 12.0)
REST_POSE = (0.0, -0.3, 0.0, -2.2, 0.0, 1.9, 0.785)
LOWER = (-2.8973, -1.7628, -2.8973, -3.0718, -2.8973, -0.0175, -2.8973)
UPPER = (2.8973, 1.7628, 2.8973, -0.0698, 2.8973, 3.7525, 2.8973)


def wrap_gripper_yaw(yaw: float) -> float:
    """Wrap a gripper yaw into (-pi/2, pi/2] (a parallel gripper is symmetric under a half turn)."""
    y = math.remainder(yaw, math.pi)
    return math.pi / 2 if math.isclose(y, -math.pi / 2) else y


@dataclass
class PandaConfig(RobotConfig):
    """The simulated Panda's settings: every :class:`RobotConfig` field (its hand-geometry defaults are the
    Panda hand's) plus the inverse-kinematics iterations per control tick."""

    ik_iterations: int = 5  # damped-least-squares IK iterations per tick


class SimPanda(Robot):
    """Franka Panda in a :class:`sim.world.SimWorld` (create the world; it creates its robot as ``world.robot``)."""

    ARM = tuple(range(7))
    FINGERS = (9, 10)
    HAND = 8
    TCP = 11
    _home_q: tuple[float, ...] | None = None

    def __init__(self, world: "SimWorld", config: RobotConfig | None = None) -> None:
        self.world = world
        # a plain RobotConfig gets the Panda's own fields at their defaults
        self.config = config if isinstance(config, PandaConfig) else PandaConfig(**asdict(config or RobotConfig()))
        self.body = -1
        self.substeps = max(1, int(round(world.config.physics_hz / self.config.control_hz)))
        self._target: tuple[float, float, float] = tuple(self.config.home_tcp)  # type: ignore[assignment]
        self._target_yaw = 0.0
        self._grip = (self.config.gripper_max_width, 20.0)
        self._last_q: tuple[float, ...] | None = None
        self._bias = [0.0, 0.0, 0.0]  # Cartesian correction added to IK targets (m)
        self.bias_gain = 0.3
        self.bias_max = 0.012
        self.ik_iterations = self.config.ik_iterations

    # --- construction -------------------------------------------------------------------------------
    def _build(self) -> None:
        """(Re)load the arm into the world's fresh simulation and put it at home."""
        c = self.world.client
        self.body = c.loadURDF("franka_panda/panda.urdf", [0, 0, 0], [0, 0, 0, 1], useFixedBase=True,
                               flags=p.URDF_ENABLE_CACHED_GRAPHICS_SHAPES)
        for f in self.FINGERS:
            c.changeDynamics(self.body, f, lateralFriction=self.world.config.finger_friction, spinningFriction=0.001,
                             frictionAnchor=1)
        # couple the fingers (a real Panda hand is one mechanism): they move symmetrically, self-centring the grasp
        gear = c.createConstraint(self.body, self.FINGERS[0], self.body, self.FINGERS[1], p.JOINT_GEAR, [1, 0, 0], [0, 0, 0], [0, 0, 0])
        c.changeConstraint(gear, gearRatio=-1, erp=0.1, maxForce=200)
        if SimPanda._home_q is None:
            self._last_q = None
            for j, q in zip(self.ARM, REST_POSE):
                c.resetJointState(self.body, j, q)
            q = self._ik(self.config.home_tcp, 0.0, iterations=200)
            SimPanda._home_q = tuple(q)
        self.home()

    def _ik(self, pos: Sequence[float], yaw: float, iterations: int | None = None) -> list[float]:
        c = self.world.client
        orn = c.getQuaternionFromEuler([math.pi, 0.0, yaw])
        lower = list(LOWER) + [0.0, 0.0]
        upper = list(UPPER) + [0.04, 0.04]
        ranges = [u - l for l, u in zip(lower, upper)]
        rest = list(SimPanda._home_q or REST_POSE) + [0.02, 0.02]
        q = c.calculateInverseKinematics(self.body, self.TCP, list(pos), orn, lowerLimits=lower, upperLimits=upper,
                                         jointRanges=ranges, restPoses=rest,
                                         maxNumIterations=iterations or self.ik_iterations, residualThreshold=1e-5)
        self._last_q = tuple(q[:7])
        return list(q[:7])

    # --- Robot interface ---------------------------------------------------------------------------------
    def tcp_pose(self) -> tuple[tuple[float, float, float], float]:
        """TCP position (m) and yaw (rad) from forward kinematics."""
        ls = self.world.client.getLinkState(self.body, self.TCP, computeForwardKinematics=True)
        x, y, z, w = ls[5]
        # gripper x axis in the world: first column of the rotation matrix
        r00 = 1 - 2 * (y * y + z * z)
        r10 = 2 * (x * y + w * z)
        return (float(ls[4][0]), float(ls[4][1]), float(ls[4][2])), math.atan2(r10, r00)

    def gripper_width(self) -> float:
        c = self.world.client
        return float(sum(c.getJointState(self.body, f)[0] for f in self.FINGERS))

    def state(self) -> RobotState:
        pos, yaw = self.tcp_pose()
        js = self.world.client.getJointStates(self.body, list(self.ARM))
        return RobotState(tcp_position=pos, tcp_yaw=yaw, gripper_width=self.gripper_width(),
                          joints=tuple(float(s[0]) for s in js), time_s=self.world.time_s)

    def servo(self, position: Sequence[float], yaw: float) -> ServoCommand:
        if len(position) != 3 or not all(math.isfinite(v) for v in position) or not math.isfinite(yaw):
            raise RobotError(f"servo needs a finite [x, y, z] and yaw, got {position!r}, {yaw!r}")
        cfg = self.config
        clipped = False
        pos = [min(max(float(v), lo), hi) for v, lo, hi in zip(position, cfg.workspace_min, cfg.workspace_max)]
        if any(abs(a - b) > 1e-9 for a, b in zip(pos, position)):
            clipped = True
        step = math.dist(pos, self._target)
        max_step = cfg.max_speed / cfg.control_hz
        if step > max_step:
            k = max_step / step
            pos = [t + k * (v - t) for v, t in zip(pos, self._target)]
            clipped = True
        yaw_w = wrap_gripper_yaw(yaw)
        # Outer integral loop on the TCP error while the set-point holds still: removes the steady error of the
        # few-iteration IK (up to ~1 cm near the base) and of gravity sag, so grasps and drops land where aimed.
        iterations = None
        if math.dist(pos, self._target) < 1e-6:
            actual = self.tcp_pose()[0]
            self._bias = [min(max(b + self.bias_gain * (t - a), -self.bias_max), self.bias_max)
                          for b, t, a in zip(self._bias, pos, actual)]
            if math.dist(pos, actual) > 0.002:
                iterations = 4 * self.ik_iterations  # holding still but off: afford a more exact solution
        else:
            self._bias = [0.95 * b for b in self._bias]  # the IK error changes along the way: forget slowly
        q = self._ik([v + b for v, b in zip(pos, self._bias)], yaw_w, iterations)
        self.world.client.setJointMotorControlArray(
            self.body, list(self.ARM), p.POSITION_CONTROL, targetPositions=q, forces=list(ARM_FORCES),
            positionGains=[0.25] * 7, velocityGains=[1.0] * 7)
        self._target = (pos[0], pos[1], pos[2])
        self._target_yaw = yaw_w
        return ServoCommand(tcp_position=self._target, tcp_yaw=yaw_w, joint_targets=tuple(q), clipped=clipped)

    def set_gripper(self, width: float, force: float) -> None:
        cfg = self.config
        if not (math.isfinite(width) and math.isfinite(force)):
            raise RobotError(f"gripper needs finite width and force, got {width!r}, {force!r}")
        w = min(max(float(width), 0.0), cfg.gripper_max_width)
        f = min(max(float(force), 0.0), cfg.gripper_max_force)
        self._grip = (w, f)
        self.world.client.setJointMotorControlArray(
            self.body, list(self.FINGERS), p.POSITION_CONTROL, targetPositions=[w / 2, w / 2], forces=[f, f],
            positionGains=[0.05, 0.05], velocityGains=[1.0, 1.0])

    def tick(self, n: int = 1) -> None:
        self.world.step(n * self.substeps)

    def hold(self) -> None:
        """Make the current measured pose the set-point (the arm stays where it is)."""
        pos, yaw = self.tcp_pose()
        self._target = pos
        self.servo(pos, yaw)

    def home(self) -> None:
        c = self.world.client
        q = SimPanda._home_q or REST_POSE
        self._last_q = tuple(q)
        self._bias = [0.0, 0.0, 0.0]
        for j, v in zip(self.ARM, q):
            c.resetJointState(self.body, j, v, 0.0)
        for f in self.FINGERS:
            c.resetJointState(self.body, f, self.config.gripper_max_width / 2, 0.0)
        c.setJointMotorControlArray(self.body, list(self.ARM), p.POSITION_CONTROL, targetPositions=list(q),
                                    forces=list(ARM_FORCES), positionGains=[0.25] * 7, velocityGains=[1.0] * 7)
        self.set_gripper(self.config.gripper_max_width, 20.0)
        self._target, self._target_yaw = self.tcp_pose()
        self._target_yaw = wrap_gripper_yaw(self._target_yaw)

    @property
    def setpoint(self) -> tuple[tuple[float, float, float], float]:
        """Last commanded TCP set-point and yaw."""
        return self._target, self._target_yaw

    @property
    def grip(self) -> tuple[float, float]:
        """Last commanded gripper (width m, force N)."""
        return self._grip

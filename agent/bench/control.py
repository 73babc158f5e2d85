"""``robocorrect bench control``: does the control loop keep its rate while the policy grounds corrections?

``--robot sim`` (default): the simulated Panda runs in real time (``--rate 1``: one simulated second per wall
second, 60 Hz control ticks). ``--robot fake-ur|fake-franka|fake-xarm``: the real vendor adapter
(``hardware/ur.py``, ``franka.py``, ``xarm.py``) streams to its SDK fake (``hardware/fakes/``, every call bound
against the installed SDK's real signatures) and paces itself on the wall clock at the driver's own rate
(UR 125 Hz, Franka 60 Hz, xArm 100 Hz; ``--hz`` to change it); the objects are bookkept by a
:class:`hardware.fixed_world.StaticWorld`. Either arm sits behind the safety layer (:class:`SafeRobot`, with its
watchdog thread on the real-time drivers) inside a real :class:`agent.session.TeachingSession` with the embedded
policy, doing
"put the red block in the green bowl" over and over while a scripted user says a correction every
``--every`` seconds of motion ("shift it left a touch", "shift it right a touch", ...) until ``--corrections`` of
them have been grounded while the arm moved. Every control tick's wall-clock time is recorded at the robot
(a :class:`TimedRobot` between the safety layer and the arm); the figures are the tick periods inside motions:
``nominal_tick_ms`` (control period / rate), ``tick_ms_p50``, ``tick_ms_p99``, ``tick_ms_max``, how many
periods were over 1.2 x nominal, and the grounding latency. ``--inline`` grounds inside the tick instead
(the old behaviour) for comparison. ``--tick-cost`` measures instead what one control tick (servo + tick)
costs on this machine with and without the safety layer, unpaced (``tick_us_bare``, ``tick_us_safe``: mean
microseconds over ``--ticks`` ticks of a 5 cm circle; for fake-* also without binding the SDK calls to the real
signatures, ``tick_us_unchecked``). The control loop runs under ``SCHED_FIFO`` where the OS allows it (as on a
real-time robot PC; ``scheduler`` in the figures; ``--no-rt`` keeps the default), the grounding worker at a lower
priority than the rest. With ``--json`` the last line is one JSON object.

    robocorrect bench control --corrections 100 --json
    robocorrect bench control --robot fake-ur --corrections 100 --json
"""
from __future__ import annotations

import argparse
import contextlib
import json
import time
from typing import Any, Callable, Optional, Sequence

from hardware.base import Robot, RobotState, ServoCommand, World
from hardware.errors import UsageError

ROBOTS = ("sim", "fake-ur", "fake-franka", "fake-xarm")
TASK = "put the red block in the green bowl"
WORDS = ("shift it left a touch", "shift it right a touch", "two centimetres further forward", "come back towards me a little")


class TimedRobot(Robot):
    """A robot that records the wall-clock time (``time.perf_counter``, s) of every tick it passes on."""

    def __init__(self, inner: Robot) -> None:
        self.inner = inner
        self.config = inner.config
        self.real_time = inner.real_time
        self.ticks: list[float] = []

    @property
    def is_connected(self) -> bool:
        return self.inner.is_connected

    def connect(self) -> None:
        self.inner.connect()

    def disconnect(self) -> None:
        self.inner.disconnect()

    def stop(self) -> None:
        self.inner.stop()

    @property
    def setpoint(self) -> Optional[tuple[tuple[float, float, float], float]]:
        return self.inner.setpoint

    def state(self) -> RobotState:
        return self.inner.state()

    def servo(self, position: Sequence[float], yaw: float) -> ServoCommand:
        return self.inner.servo(position, yaw)

    def set_gripper(self, width: float, force: float) -> None:
        self.inner.set_gripper(width, force)

    def tick(self, n: int = 1) -> None:
        self.inner.tick(n)
        self.ticks.append(time.perf_counter())

    def home(self) -> None:
        self.inner.home()

    def hold(self) -> None:
        self.inner.hold()


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--robot", default="sim", choices=ROBOTS,
                        help="sim (the simulated Panda in real time, default) or a real vendor adapter over its SDK fake")
    parser.add_argument("--hz", type=float, default=None,
                        help="control rate of a fake-* driver (default: the driver's own: UR 125, Franka 60, xArm 100)")
    parser.add_argument("--corrections", type=int, default=100,
                        help="corrections grounded while the arm moves (default 100; 0: one episode without any, the baseline)")
    parser.add_argument("--every", type=float, default=0.25, help="seconds of motion between two corrections (default 0.25)")
    parser.add_argument("--rate", type=float, default=1.0,
                        help="simulated seconds per wall second (default 1 = real time; sim only, the drivers run in real time)")
    parser.add_argument("--inline", action="store_true", help="ground inside the control tick (the old way), for comparison")
    from agent.factory import add_policy_arguments

    add_policy_arguments(parser)
    parser.add_argument("--no-rt", action="store_true",
                        help="keep the default scheduler (default: the control loop asks for SCHED_FIFO where the OS allows it)")
    parser.add_argument("--tick-cost", action="store_true",
                        help="measure the CPU cost of one tick, with and without the safety layer, unpaced (no policy)")
    parser.add_argument("--ticks", type=int, default=3000, help="ticks per variant for --tick-cost (default 3000)")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def _arm(kind: str, scene: Any, hz: Optional[float]) -> tuple[TimedRobot, World, Callable[[Any], None], Callable[[], None], Any]:
    """The timed arm, its world, the world's reset, the clean-up and (fake-*) the fake SDK handle."""
    if kind == "sim":
        from sim.world import SimWorld

        if hz is not None:
            raise UsageError("--hz is for the fake-* drivers; the simulated arm ticks at 60 Hz")
        world = SimWorld(scene)
        return TimedRobot(world.robot), world, world.reset, world.close, None
    from hardware.fakes.factory import make_fake_robot
    from hardware.fixed_world import StaticWorld

    if hz is not None and hz <= 0:
        raise UsageError(f"--hz must be positive, got {hz}")
    fake = make_fake_robot(kind, check=True, keep=False, **({"control_hz": hz} if hz else {}))
    timed = TimedRobot(fake.robot)
    sworld = StaticWorld(scene, timed)
    return timed, sworld, sworld.reset, fake.robot.disconnect, fake


def bench(corrections: int = 100, every_s: float = 0.25, rate: float = 1.0, inline: bool = False,
          policy_name: str = "embedded", max_episodes: int = 200, robot_kind: str = "sim",
          hz: Optional[float] = None, real_time: bool = True, policy_args: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """Run the benchmark and return its figures (see the module docstring)."""
    from agent.channel import CallbackChannel, PollContext
    from agent.demo import demo_scene
    from agent.factory import make_policy
    from agent.session import SessionConfig, TeachingSession
    from hardware.runtime import real_time_priority, real_time_switch_interval
    from hardware.safe_robot import SafeRobot

    if corrections < 0 or every_s <= 0 or rate <= 0:
        raise UsageError("--corrections must be >= 0 (0: one episode without any, the baseline), --every and --rate > 0")
    if robot_kind not in ROBOTS:
        raise UsageError(f"--robot must be one of {', '.join(ROBOTS)}, got {robot_kind!r}")
    if robot_kind != "sim":
        rate = 1.0  # a driver paces itself on the wall clock
    scene = demo_scene(0)
    robot, world, reset, close, fake = _arm(robot_kind, scene, hz)
    switch_s = real_time_switch_interval(robot.config.control_hz)  # as robot run does on a real-time arm
    safe = SafeRobot(robot)  # what every session does (ensure_safe); explicit here to read its counters
    try:
        policy = make_policy(policy_name, **(policy_args or {}))
        safe.connect()
        session = TeachingSession(safe, world, policy, reset_world=reset, scene=scene,
                                  config=SessionConfig(frames=False, real_time_factor=rate if robot_kind == "sim" else None,
                                                       ground_in_worker=not inline, confirm_wait_s=0.0, max_steps=60))
    except BaseException:
        close()
        raise
    every = max(1, int(round(every_s * robot.config.control_hz)))
    said = {"n": 0, "last": -every}
    segments: list[tuple[int, int]] = []  # (first, end) tick indices of each motion
    open_at: list[Optional[int]] = [None]

    def mark(ev: Any) -> None:
        if ev.kind == "step_start":
            open_at[0] = len(robot.ticks)
        elif ev.kind in ("step_end", "stopped") and open_at[0] is not None:
            segments.append((open_at[0], len(robot.ticks)))
            open_at[0] = None

    session.subscribe(mark)

    def user(ctx: PollContext) -> Optional[str]:
        if ctx.phase == "moving" and said["n"] < corrections and len(robot.ticks) - said["last"] >= every:
            said["last"] = len(robot.ticks)
            said["n"] += 1
            return WORDS[said["n"] % len(WORDS)]
        return "done" if ctx.phase == "idle" else None

    grounded: list[float] = []
    t0 = time.perf_counter()
    episodes = successes = 0
    rt = real_time_priority() if real_time else contextlib.nullcontext(False)
    try:
        with rt as fifo:
            while (said["n"] < corrections or episodes == 0) and episodes < max_episodes:
                summary = session.run_episode(TASK, CallbackChannel(user, source="bench"), scene=scene)
                episodes += 1
                successes += bool(summary.success)
                grounded += [c.latency_s for c in session.corrections if c.during_motion and c.kind == "correction"]
    finally:
        session.grounding.close()
        safe.watchdog.close()
        close()
    wall = time.perf_counter() - t0
    periods = [1000 * (robot.ticks[k] - robot.ticks[k - 1]) for a, b in segments for k in range(a + 1, b)]
    nominal = 1000 * robot.control_dt / rate
    p99 = _pct(periods, 99)
    return {
        "robot": robot_kind,
        "driver": type(robot.inner).__name__,
        "mode": "inline" if inline else "worker",
        "nominal_tick_ms": round(nominal, 3),
        "tick_ms_p50": round(_pct(periods, 50), 3),
        "tick_ms_p99": round(p99, 3),
        "tick_ms_max": round(max(periods), 3) if periods else float("nan"),
        "ticks": len(periods),
        "ticks_over_120pct": sum(1 for p in periods if p > 1.2 * nominal),
        "p99_within_20pct": bool(p99 <= 1.2 * nominal),
        "corrections": len(grounded),
        "grounding_ms_p50": round(1000 * _pct(grounded, 50), 2),
        "grounding_ms_p99": round(1000 * _pct(grounded, 99), 2),
        "episodes": episodes,
        "successes": successes,
        "safety_layer": True,
        "safety_cut_setpoints": safe.cut,
        "watchdog_stops": safe.watchdog.fired,
        "sdk_calls_checked": fake.checked if fake is not None else None,
        "rate": rate,
        "switch_interval_ms": round(1000 * switch_s, 3),
        "scheduler": "fifo" if fifo else "default",
        "wall_s": round(wall, 1),
    }


def _circle(robot: Robot, n: int) -> float:
    """Mean microseconds per servo + tick over ``n`` ticks of a 5 cm circle at z = 0.25 m (base frame)."""
    import math

    t0 = time.perf_counter()
    for k in range(n):
        a = 2 * math.pi * k / 240
        robot.servo((0.45 + 0.05 * math.cos(a), 0.05 * math.sin(a), 0.25), 0.0)
        robot.tick()
    return 1e6 * (time.perf_counter() - t0) / n


def tick_cost(robot_kind: str = "sim", ticks: int = 3000, rounds: int = 3) -> dict[str, Any]:
    """What one tick costs with and without :class:`SafeRobot` (and, for fake-*, the SDK signature checks): the
    variants run in turn, ``rounds`` times, and each keeps its fastest round (the least disturbed by other load)."""
    from hardware.safe_robot import SafeRobot

    if robot_kind not in ROBOTS or ticks < 10 or rounds < 1:
        raise UsageError(f"--robot must be one of {', '.join(ROBOTS)} and --ticks >= 10")
    variants = [("bare", False, True), ("safe", True, True)] + ([("unchecked", True, False)] if robot_kind != "sim" else [])
    arms: list[tuple[str, Robot, Callable[[], None]]] = []
    out: dict[str, Any] = {"robot": robot_kind, "ticks": ticks, "rounds": rounds}
    try:
        for name, safe, check in variants:
            if robot_kind == "sim":
                from sim.world import SimWorld

                world = SimWorld(None)
                bare, close = world.robot, world.close
            else:
                from hardware.fakes.factory import make_fake_robot

                fake = make_fake_robot(robot_kind, check=check, keep=False, sleep=lambda s: None)
                bare, close = fake.robot, fake.robot.disconnect
            robot: Robot = SafeRobot(bare) if safe else bare
            arms.append((name, robot, close))
            robot.connect()
            _circle(robot, 60)  # warm up, reach the circle
        for _ in range(rounds):
            for name, robot, _close in arms:
                us = round(_circle(robot, ticks), 1)
                out[f"tick_us_{name}"] = min(out.get(f"tick_us_{name}", us), us)
    finally:
        for _name, robot, close in arms:
            if isinstance(robot, SafeRobot):
                robot.watchdog.close()
            close()
    out["safety_layer_us"] = round(out["tick_us_safe"] - out["tick_us_bare"], 1)
    return out


def run(args: argparse.Namespace) -> int:
    from agent.factory import parse_policy_args

    if args.tick_cost:
        r = tick_cost(args.robot, args.ticks)
        print(f"one tick ({r['robot']}): {r['tick_us_bare']:.0f} us bare, {r['tick_us_safe']:.0f} us behind the safety layer"
              + (f" ({r['tick_us_unchecked']:.0f} us without the SDK signature checks)" if "tick_us_unchecked" in r else ""))
        if args.json:
            print(json.dumps(r))
        return 0
    r = bench(args.corrections, args.every, args.rate, args.inline, args.policy, robot_kind=args.robot, hz=args.hz,
              real_time=not args.no_rt, policy_args=parse_policy_args(args.policy_arg, args.policy))
    print(f"control loop ({r['robot']}, {r['driver']}, {r['mode']} grounding): nominal {r['nominal_tick_ms']:.2f} ms, p50 {r['tick_ms_p50']:.2f} ms, "
          f"p99 {r['tick_ms_p99']:.2f} ms, max {r['tick_ms_max']:.2f} ms over {r['ticks']} ticks; "
          f"{r['corrections']} corrections grounded while moving (p50 {r['grounding_ms_p50']:.1f} ms)")
    if args.json:
        print(json.dumps(r))
    return 0

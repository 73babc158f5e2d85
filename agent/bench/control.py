"""``robocorrect bench control``: does the control loop keep its rate while the policy grounds corrections?

The simulated Panda runs in real time (``--rate 1``: one simulated second per wall second, 60 Hz control
ticks) through a real :class:`agent.session.TeachingSession` with the embedded policy, doing
"put the red block in the green bowl" over and over while a scripted user says a correction every
``--every`` seconds of motion ("shift it left a touch", "shift it right a touch", ...) until ``--corrections`` of
them have been grounded while the arm moved. Every control tick's wall-clock time is recorded at the robot
(a :class:`TimedRobot` around the simulated arm); the figures are the tick periods inside motions:
``nominal_tick_ms`` (control period / rate), ``tick_ms_p50``, ``tick_ms_p99``, ``tick_ms_max``, how many
periods were over 1.2 x nominal, and the grounding latency. ``--inline`` grounds inside the tick instead
(the old behaviour) for comparison. With ``--json`` the last line is one JSON object.

    robocorrect bench control --corrections 100 --json
"""
from __future__ import annotations

import argparse
import json
import time
from typing import Any, Optional, Sequence

from hardware.base import Robot, RobotState, ServoCommand

TASK = "put the red block in the green bowl"
WORDS = ("shift it left a touch", "shift it right a touch", "two centimetres further forward", "come back towards me a little")


class TimedRobot(Robot):
    """A robot that records the wall-clock time (``time.perf_counter``, s) of every tick it passes on."""

    def __init__(self, inner: Robot) -> None:
        self.inner = inner
        self.config = inner.config
        self.ticks: list[float] = []

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
    parser.add_argument("--corrections", type=int, default=100,
                        help="corrections grounded while the arm moves (default 100; 0: one episode without any, the baseline)")
    parser.add_argument("--every", type=float, default=0.25, help="seconds of motion between two corrections (default 0.25)")
    parser.add_argument("--rate", type=float, default=1.0, help="simulated seconds per wall second (default 1 = real time)")
    parser.add_argument("--inline", action="store_true", help="ground inside the control tick (the old way), for comparison")
    from agent.factory import add_policy_arguments

    add_policy_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def bench(corrections: int = 100, every_s: float = 0.25, rate: float = 1.0, inline: bool = False,
          policy_name: str = "embedded", max_episodes: int = 200, policy_args: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """Run the benchmark and return its figures (see the module docstring)."""
    from agent.channel import CallbackChannel, PollContext
    from agent.demo import demo_scene
    from agent.factory import make_policy
    from agent.session import SessionConfig, TeachingSession
    from sim.world import SimWorld

    if corrections < 0 or every_s <= 0 or rate <= 0:
        from hardware.errors import UsageError

        raise UsageError("--corrections must be >= 0 (0: one episode without any, the baseline), --every and --rate > 0")
    scene = demo_scene(0)
    world = SimWorld(scene)
    robot = TimedRobot(world.robot)
    policy = make_policy(policy_name, **(policy_args or {}))
    session = TeachingSession(robot, world, policy, reset_world=world.reset, scene=scene,
                              config=SessionConfig(frames=False, real_time_factor=rate, ground_in_worker=not inline,
                                                   confirm_wait_s=0.0, max_steps=60))
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
    episodes = 0
    try:
        while (said["n"] < corrections or episodes == 0) and episodes < max_episodes:
            session.run_episode(TASK, CallbackChannel(user, source="bench"), scene=scene)
            episodes += 1
            grounded += [c.latency_s for c in session.corrections if c.during_motion and c.kind == "correction"]
    finally:
        session.grounding.close()
        world.close()
    wall = time.perf_counter() - t0
    periods = [1000 * (robot.ticks[k] - robot.ticks[k - 1]) for a, b in segments for k in range(a + 1, b)]
    nominal = 1000 * robot.control_dt / rate
    p99 = _pct(periods, 99)
    return {
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
        "rate": rate,
        "wall_s": round(wall, 1),
    }


def run(args: argparse.Namespace) -> int:
    from agent.factory import parse_policy_args

    r = bench(args.corrections, args.every, args.rate, args.inline, args.policy,
              policy_args=parse_policy_args(args.policy_arg, args.policy))
    print(f"control loop ({r['mode']} grounding): nominal {r['nominal_tick_ms']:.2f} ms, p50 {r['tick_ms_p50']:.2f} ms, "
          f"p99 {r['tick_ms_p99']:.2f} ms, max {r['tick_ms_max']:.2f} ms over {r['ticks']} ticks; "
          f"{r['corrections']} corrections grounded while moving (p50 {r['grounding_ms_p50']:.1f} ms)")
    if args.json:
        print(json.dumps(r))
    return 0

"""``robocorrect robot``: a real (or simulated) arm described by a robot config file (``hardware/config.py``).

    robocorrect robot check --config robot.toml [--json]
        connect, read the state, check it against the file's workspace and keep-out zones, disconnect.
        Moves nothing.
    robocorrect robot run --config robot.toml --task "put the red block in the green bowl" [--scene table.json]
        one teaching episode on the configured arm, behind the safety layer; corrections are read from
        stdin, one per line, until its end. The world comes from the camera (``[camera]`` with a calibration file) or from
        a measured scene file (``--scene``). Corrections said during motion are grounded off the control loop.
    robocorrect robot limits [--config robot.toml] [--json]
        the safety limits every command passes: the file's, or without --config the ones ``robocorrect sim``,
        ``demo`` and every session give the simulated arm (hardware.safe_robot.default_limits). Moves nothing.

Exit status: 0 when the check passes / the episode succeeds, 1 otherwise, 2 for a bad file or option.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
from typing import Any, Optional, TextIO

from hardware.base import Robot, World
from hardware.config import RobotFile, load_robot_file
from hardware.scene import Scene
from hardware.errors import UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="robot_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="connect, read the state, move nothing", description="connect, read the state, move nothing")
    check.add_argument("--config", required=True, help="robot config file (TOML, see hardware/config.py)")
    check.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    check.set_defaults(_run=run_check)
    run_ = sub.add_parser("run", help="a teaching episode on the configured arm", description="a teaching episode on the configured arm")
    run_.add_argument("--config", required=True, help="robot config file (TOML)")
    run_.add_argument("--task", required=True, help="the task, e.g. 'put the red block in the green bowl'")
    run_.add_argument("--scene", default=None, help="measured scene JSON (hardware.scene.Scene) when there is no camera")
    from agent.factory import add_policy_arguments

    add_policy_arguments(run_)
    run_.add_argument("--log", default=None, help="episode log folder")
    run_.add_argument("--voice", nargs="?", const="mic", default=None, metavar="WAV",
                      help="speak corrections (hands-free microphone; 'ptt': push-to-talk, Enter starts and ends an "
                           "utterance), or replay a WAV file; 'stop' halts at once "
                           "(the simulated arm then runs in real time, as a real one does)")
    run_.set_defaults(_run=run_run)
    lim = sub.add_parser("limits", help="print the safety limits in use", description="print the safety limits in use")
    lim.add_argument("--config", default=None, help="robot config file (TOML); default: the simulated arm's default limits")
    lim.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    lim.set_defaults(_run=run_limits)


def run(args: argparse.Namespace) -> int:  # the subcommands set their own _run
    raise UsageError("robocorrect robot needs an action: check or run")


def build_robot(rf: RobotFile) -> tuple[Robot, Optional[World]]:
    """The configured arm (not connected, not wrapped) and, for the simulated arm, its world."""
    if rf.driver == "sim":
        from hardware.base import RobotConfig
        from sim.world import SimWorld, WorldConfig

        try:
            cfg = RobotConfig(**rf.driver_settings())
        except TypeError as e:
            raise UsageError(f"{rf.path}: bad sim setting: {e}") from None
        world = SimWorld(None, WorldConfig(robot=cfg))
        return world.robot, world
    from hardware.factory import make_robot

    return make_robot(rf.driver, **rf.driver_settings()), None


def _close(robot: Robot, world: Optional[World]) -> None:
    robot.disconnect()
    if world is not None:
        world.close()  # type: ignore[attr-defined]


def check_state(rf: RobotFile, robot: Robot) -> dict[str, Any]:
    """Read the state once and compare it with the file's limits; returns a JSON-able report."""
    st = robot.state()
    lim = rf.safety_limits()
    problems = []
    for i, (v, lo, hi) in enumerate(zip(st.tcp_position, lim.box_min, lim.workspace_max)):
        if not lo <= v <= hi:
            problems.append(f"the TCP is outside the workspace on {'xyz'[i]} ({v:.3f} m not in [{lo:.3f}, {hi:.3f}])")
    for z in lim.keep_out:
        if z.contains(st.tcp_position):
            problems.append(f"the TCP is inside the keep-out zone {z.name!r}")
    for i, (q, lo, hi) in enumerate(zip(st.joints, lim.joint_lower, lim.joint_upper)):
        if q < lo + lim.joint_margin or q > hi - lim.joint_margin:
            problems.append(f"joint {i + 1} ({q:.3f} rad) is within the margin of its limit")
    if lim.max_force is not None and st.tcp_force is not None and st.tcp_force > lim.max_force:
        problems.append(f"the contact force {st.tcp_force:.1f} N exceeds the limit")
    return {"driver": rf.driver, "address": rf.address, "connected": robot.is_connected,
            "tcp_position_m": [round(v, 4) for v in st.tcp_position], "tcp_yaw_rad": round(st.tcp_yaw, 4),
            "gripper_width_m": round(st.gripper_width, 4), "joints_rad": [round(q, 4) for q in st.joints],
            "tcp_force_n": None if st.tcp_force is None else round(st.tcp_force, 2), "problems": problems,
            "ok": not problems}


def run_limits(args: argparse.Namespace) -> int:
    """Print the safety limits of ``--config`` (watchdog off for a simulated arm, as ``robot run`` does) or,
    without it, :func:`hardware.safe_robot.default_limits` of the simulated arm's config."""
    from hardware.safe_robot import default_limits, describe_limits

    if args.config:
        rf = load_robot_file(args.config)
        limits = rf.safety_limits()
        if rf.driver == "sim":
            limits.watchdog_s = 0
        source = f"{rf.path} ({rf.driver})"
    else:
        from hardware.base import RobotConfig

        limits = default_limits(RobotConfig())
        source = "the simulated arm's defaults (robocorrect sim, demo, every session without a robot file)"
    d = {"source": source, **describe_limits(limits)}
    if args.json:
        print(json.dumps(d))
        return 0
    print(f"safety limits: {source}")
    for k, v in d.items():
        if k != "source":
            print(f"  {k} = {v}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    rf = load_robot_file(args.config)
    robot, world = build_robot(rf)
    try:
        robot.connect()
        report = check_state(rf, robot)
    finally:
        _close(robot, world)
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{rf.driver} at {rf.address or '-'}: connected")
        x, y, z = report["tcp_position_m"]
        print(f"TCP ({x:.3f}, {y:.3f}, {z:.3f}) m, yaw {report['tcp_yaw_rad']:.3f} rad; gripper {report['gripper_width_m']:.3f} m")
        if report["joints_rad"]:
            print("joints (rad): " + ", ".join(f"{q:.3f}" for q in report["joints_rad"]))
        for p in report["problems"]:
            print(f"problem: {p}")
        print("ok: nothing was moved" if report["ok"] else "not ok: fix the problems above before running; nothing was moved")
    return 0 if report["ok"] else 1


def _make_world(rf: RobotFile, robot: Robot, scene: Optional[str]) -> tuple[World, Scene]:
    """The world the session sees and the scene it starts from: measured poses (``--scene``) or the camera's."""
    if scene:
        from hardware.fixed_world import StaticWorld

        w = StaticWorld(scene, robot)
        return w, w.scene
    if rf.camera is None or not rf.camera.calibration:
        raise UsageError(f"{rf.path}: no [camera] with a calibration file; pass --scene FILE with measured object poses")
    from hardware.perception.world import CameraWorld

    cw = CameraWorld.from_config(rf.camera)
    return cw, cw.scene()


def run_run(args: argparse.Namespace, stdin: Optional[TextIO] = None) -> int:
    from agent.channel import Channel
    from agent.factory import parse_policy_args, policy_from_args
    from agent.session import SessionConfig, TeachingSession
    from hardware.safe_robot import SafeRobot
    from memory.episodes import EpisodeLog

    parse_policy_args(args.policy_arg, args.policy)  # a bad --policy-arg is one error line, before the arm connects
    rf = load_robot_file(args.config)
    arm, sim_world = build_robot(rf)
    if sim_world is None or args.voice:  # the arm runs in real time: the control loop must get the interpreter back fast
        from hardware.runtime import real_time_switch_interval

        real_time_switch_interval(rf.limits.control_hz)
    limits = rf.safety_limits()
    if sim_world is not None:
        limits.watchdog_s = 0  # the simulation waits for its next command; a slow CPU is no stalled arm
    robot = SafeRobot(arm, limits)
    stdin = stdin or sys.stdin
    voice = None
    try:
        robot.connect()
        world: World
        if sim_world is not None:
            if args.scene:
                sim_world.load(Scene.load(args.scene))  # type: ignore[attr-defined]
            world, scene = sim_world, sim_world.scene  # type: ignore[attr-defined]
        else:
            world, scene = _make_world(rf, robot, args.scene)
        # a real arm keeps moving while the policy thinks: ground corrections off the control loop
        config = (SessionConfig(real_time_factor=1.0) if args.voice and sim_world is not None
                  else SessionConfig(ground_in_worker=True if sim_world is None else None))
        session = TeachingSession(robot, world, policy_from_args(args), log=EpisodeLog(args.log), scene=scene,
                                  config=config)
        channel = Channel()

        def feed() -> None:
            for line in stdin:
                if voice is not None and voice.key(line):  # push-to-talk: Enter alone starts / ends an utterance
                    continue
                if line.strip():
                    channel.put(line.strip())
            channel.close()  # end of input: no more corrections will come

        threading.Thread(target=feed, name="stdin", daemon=True).start()
        if args.voice:
            from agent.voice import start_terminal_voice

            voice = start_terminal_voice(args.voice, session, lambda: channel, print, scene, session.log)
        from hardware.runtime import real_time_priority

        real_time = sim_world is None or bool(args.voice)
        with real_time_priority() if real_time else contextlib.nullcontext(False):  # SCHED_FIFO where the OS allows it
            summary = session.run_episode(args.task, channel)
        print(json.dumps({"status": summary.status, "success": summary.success}))
        return 0 if summary.success else 1
    finally:
        if voice is not None:
            voice.close()
        _close(robot, sim_world)

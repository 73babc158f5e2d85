"""``robocorrect sim``: teach the simulated arm from the terminal.

Type a task ("put the red block in the green bowl"); while the robot works, type corrections ("a bit to
the left", "slower", "stop", "undo", "done", "give up", "don't do that again"). The robot runs in a
worker thread and the main thread reads stdin, so typing works while the arm moves. Lines can also be
piped in (non-tty stdin): each line is then handed over, one at a time, when the robot waits for the
user (plan done, stopped or failed), as a person reading the screen would.

Between episodes: ``scene`` lists the objects, ``new [SEED]`` draws a new table, ``help``, ``quit``; any other
line must read as a task about the table ("put the red block in the green bowl"): anything else ("hello",
"a bit more" after an episode ended) gets a question back and the arm does not move. The session says
when an episode ends and, while the robot waits, what for (the last chance to correct before a success
ends the episode; a correction or 'continue' after a stop or a failure).

Memory is off unless ``--kb DIR`` names a knowledge base folder (``--kb default``: ``$ROBOCORRECT_HOME/kb``
or ``~/.robocorrect/kb``).
With ``--gui`` the PyBullet window shows the arm; otherwise camera frames are saved in the episode log
and their paths printed. Exit code: 0 when the last episode succeeded (or none ran), 1 when it did not;
errors are ``hardware.errors.RobocorrectError`` s (one ``error:`` line from the CLI, 2 for bad options). Frames and units: ``shared/spec/corrections.md``.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from typing import Any, Optional, TextIO

HELP = """type a task, e.g.  put the red block in the green bowl
while it runs:      a bit to the left · lower · slower · grip harder · stop · continue · undo
                    done · give up · don't do that again
between tasks:      scene · new [SEED] · episodes · help · quit"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", default=None, help="start with this task (then keep reading corrections)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random table (default 0)")
    parser.add_argument("--scene", default=None, help="a scene JSON file (hardware.scene.Scene) instead of a random table")
    parser.add_argument("--gui", action="store_true", help="open the PyBullet window")
    from agent.factory import add_policy_arguments

    add_policy_arguments(parser)
    parser.add_argument("--kb", default=None, metavar="DIR",
                        help="knowledge base folder: memory on ('default' for $ROBOCORRECT_HOME/kb or ~/.robocorrect/kb); "
                             "without it memory is off")
    parser.add_argument("--log", default=None, help="episode log folder (default $ROBOCORRECT_HOME/episodes or ~/.robocorrect/episodes)")
    parser.add_argument("--confirm-wait", type=float, default=None,
                        help="seconds to wait for a last correction once the goal holds (default 6 on a terminal, 1 when piped)")
    parser.add_argument("--no-frames", action="store_true", help="do not save camera frames")
    parser.add_argument("--rate", type=float, default=None,
                        help="simulated seconds per wall-clock second (default 1 = real time on a terminal, as fast as possible when piped)")
    parser.add_argument("--show-limits", action="store_true",
                        help="print the safety limits the simulated arm runs behind (robocorrect robot limits) and go on")
    parser.add_argument("--voice", nargs="?", const="mic", default=None, metavar="WAV",
                        help="speak corrections: the microphone, hands-free; 'ptt' push-to-talk (Enter starts and ends "
                             "an utterance); or replay WAV ('ptt:WAV' push-to-talk); tasks are still typed")


class _UI:
    """Prints session events with rich (plain text when stdout is not a terminal)."""

    def __init__(self, console: Any, log_root: Any, show_frames: bool) -> None:
        self.c = console
        self.log_root = log_root
        self.show_frames = show_frames
        self.prompt = False  # print the task prompt again when an episode ends (a terminal)

    def scene(self, scene: Any) -> None:
        from rich.table import Table

        t = Table(title="scene", show_header=True, header_style="bold")
        for col in ("name", "kind", "size (cm)", "x (cm)", "y (cm)"):
            t.add_column(col)
        for o in scene.objects:
            t.add_row(o.name, o.kind, f"{100 * o.size:.0f}", f"{100 * o.position[0]:.0f}", f"{100 * o.position[1]:+.0f}")
        self.c.print(t)
        self.c.print("[dim]frame: x forward (away from the robot), y to its left; 'left' means the robot's left[/dim]")

    def plan(self, plan: list[dict[str, Any]], title: str = "plan") -> None:
        from skills.schema import describe_call

        self.c.print(f"[bold]{title}[/bold]")
        for i, call in enumerate(plan):
            self.c.print(f"  {i}. {describe_call(call)}")

    def __call__(self, ev: Any) -> None:
        k = ev.kind
        if k == "plan":
            if ev.data.get("episode_id"):
                self.c.print(f"[dim]episode {ev.data['episode_id']}[/dim]")
            self.plan(ev.data["plan"])
        elif k == "knowledge":
            self.c.print(f"[magenta]memory:[/magenta] {ev.message}")
        elif k == "step_start":
            self.c.print(f"[cyan]▶ {ev.message}[/cyan]")
        elif k in ("step_end", "stopped"):
            ok = ev.data.get("outcome", {}).get("success")
            style = "green" if ok else "yellow" if k == "stopped" else "red"
            self.c.print(f"[{style}]  {ev.message}[/{style}]")
            if self.show_frames and self.log_root is not None and ev.data.get("frame"):
                self.c.print(f"  [dim]camera: {self.log_root / ev.data['frame']}[/dim]")
        elif k in ("correction", "undo"):
            r = ev.data["result"]
            tag = " [dim](while moving)[/dim]" if r.during_motion else ""
            self.c.print(f"[bold]you:[/bold] {r.utterance}{tag}")
            if r.changes:
                for ch in r.changes:
                    self.c.print(f"  [yellow]change:[/yellow] {ch}")
            elif r.action in ("stop", "finish", "continue"):
                self.c.print(f"  [yellow]{ {'stop': 'stopping', 'finish': 'ending the episode', 'continue': 'going on'}[r.action]}[/yellow]")
            else:
                self.c.print("  no change")
            if r.next and not r.finished:
                self.c.print(f"  [dim]next: {r.next}[/dim]")
        elif k == "question":
            r = ev.data["result"]
            self.c.print(f"[bold]you:[/bold] {r.utterance}")
            self.c.print(f"  [red]robot:[/red] {r.question}")
        elif k == "note":
            self.c.print(f"[magenta]{ev.message}[/magenta]")
        elif k == "waiting":
            self.c.print(f"[dim]robot: {ev.message}[/dim]")
        elif k == "finished":
            style = "green" if ev.data.get("success") else "red"
            self.c.print(f"[bold {style}]{ev.message}[/bold {style}]")
            frames = ev.data.get("frames") or []
            if self.show_frames and frames and self.log_root is not None:
                self.c.print(f"[dim]camera frames: {self.log_root / frames[0]} … ({len(frames)} in {(self.log_root / frames[-1]).parent})[/dim]")
            self.c.print("the episode has ended; type a new task (or 'quit')")
            if self.prompt:
                self.c.print("[bold]task>[/bold] ", end="")


def _make_scene(args: argparse.Namespace, seed: int) -> Any:
    from hardware.scene import Scene
    from sim.scene import random_scene

    if args.scene:
        return Scene.load(args.scene)
    return random_scene(seed, n_blocks=2, n_bowls=2)


def _example_task(scene: Any) -> str:
    """A task about this table, to show in questions."""
    blocks = [o.name for o in scene.objects if o.kind == "block"]
    places = [o.name for o in scene.objects if o.kind in ("bowl", "tray")]
    return f"put the {blocks[0]} in the {places[0]}" if blocks and places else "put the red block in the green bowl"


def run(args: argparse.Namespace, stdin: Optional[TextIO] = None, console: Any = None) -> int:
    from rich.console import Console

    from agent.channel import Channel, GatedChannel
    from agent.factory import policy_from_args
    from agent.session import SessionConfig, SessionError, TeachingSession
    from agent.words import task_question
    from hardware.errors import UsageError
    from hardware.scene import SceneError
    from memory.episodes import EpisodeLog
    from sim.world import SimWorld, WorldConfig

    if args.rate is not None and args.rate <= 0:
        raise UsageError(f"--rate must be positive (simulated seconds per wall second), got {args.rate}")
    stdin = stdin or sys.stdin
    interactive = stdin.isatty()
    con = console or Console(highlight=False)
    if args.gui and sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        raise UsageError("--gui needs a display (DISPLAY is not set); without --gui, camera frames are saved instead")
    try:
        scene = _make_scene(args, args.seed)
    except SceneError as e:
        raise UsageError(str(e)) from None
    policy = policy_from_args(args)  # UsageError: unknown name or option; PolicyError: unknown name, missing checkpoint
    kb = None
    if args.kb and args.kb.lower() != "none":
        from memory.kb_cli import open_kb

        kb = open_kb(None if args.kb.lower() == "default" else args.kb, create=True)
    try:
        log = EpisodeLog(args.log)
    except BaseException:
        if kb is not None:
            kb.close()
        raise
    if log.repaired:
        con.print(f"[dim]marked {len(log.repaired)} unfinished episode(s) as aborted[/dim]")
    world = SimWorld(scene, WorldConfig(gui=args.gui))
    confirm = args.confirm_wait if args.confirm_wait is not None else (6.0 if interactive else 1.0)
    rate = args.rate if args.rate is not None else (1.0 if interactive or args.gui else None)
    session = TeachingSession.for_sim(world, policy, kb=kb, log=log,
                                      config=SessionConfig(frames=not args.no_frames, confirm_wait_s=confirm,
                                                           real_time_factor=rate or None))
    ui = _UI(con, log.root, show_frames=not args.gui and not args.no_frames)
    ui.prompt = interactive
    session.subscribe(ui)

    worker: Optional[threading.Thread] = None
    channel: Optional[Channel] = None
    results: list[Any] = []

    ended = threading.Event()  # set when the current episode has finished (its thread may still be learning)
    session.subscribe(lambda ev: ended.set() if ev.kind == "finished" else None)

    def start_episode(task: str) -> None:
        nonlocal worker, channel
        ended.clear()
        channel = Channel() if interactive else GatedChannel()
        ch = channel

        def body() -> None:
            try:
                results.append(session.run_episode(task, ch, scene=scene))
            except SessionError as e:
                con.print(f"[red]{e}[/red]")
            except Exception as e:  # noqa: BLE001 - keep the terminal alive; the log marks the episode aborted
                con.print(f"[red]the session failed: {type(e).__name__}: {e}[/red]")

        worker = threading.Thread(target=body, name="robot", daemon=True)
        worker.start()

    def busy() -> bool:
        """An episode is under way (one that has ended no longer takes lines, even while its thread winds down)."""
        return worker is not None and worker.is_alive() and not ended.is_set()

    con.print("[bold]robocorrect sim[/bold] — " + ("type 'help' for what you can say" if interactive else "reading piped input"))
    if getattr(args, "show_limits", False):  # every session drives its arm through the safety layer (hardware/safe_robot.py)
        con.print("safety limits: " + ", ".join(f"{k} {v}" for k, v in session.robot.describe().items()  # type: ignore[attr-defined]
                                                if k not in ("refused", "cut_setpoints", "watchdog_stops", "fault")))
    con.print(f"memory: on ({kb.path})" if kb is not None else "memory: off (start with --kb DIR to remember what you teach)")
    ui.scene(scene)
    voice = None
    if getattr(args, "voice", None):
        from agent.voice import start_terminal_voice

        voice = start_terminal_voice(args.voice, session, lambda: channel if busy() else None, con.print, scene, log)
    if args.task:
        start_episode(args.task)
    try:
        while True:
            if interactive and not busy():
                con.print("[bold]task>[/bold] ", end="")
            line = stdin.readline()
            if not line:
                break
            text = line.strip()
            if voice is not None and voice.key(text):  # push-to-talk: Enter alone starts / ends an utterance
                continue
            if not text or text.startswith("#"):
                continue
            if busy():
                assert channel is not None
                channel.put(text, source="keyboard")
                if interactive:
                    continue
                while busy() and channel.pending():  # piped: hand lines over one at a time, as they are taken
                    time.sleep(0.01)
                left = channel.poll(None) if channel.pending() else None
                if left is None:
                    continue
                text = left.text  # the episode ended before it took this line: it is the next task
            if worker is not None:
                worker.join()  # the last episode has ended; let its thread wind down (learning, last frame)
            word = text.lower()
            if word in ("quit", "exit", "q"):
                break
            if word == "help":
                con.print(HELP)
            elif word == "scene":
                ui.scene(scene)
            elif word == "episodes":
                for r in log.list(limit=10):
                    con.print(f"  {r['id']}  {r['status']:<8} {r['task']}")
            elif word.split()[0] == "new" and len(word.split()) <= 2:
                parts = word.split()
                seed = int(parts[1]) if len(parts) == 2 and parts[1].isdigit() else args.seed + 1
                args.seed = seed
                scene = _make_scene(args, seed)
                world.reset(scene)
                ui.scene(scene)
            elif (question := task_question(text, [w for o in scene.objects for w in (o.name, o.kind, o.color)],
                                            example=_example_task(scene))):
                con.print(f"[bold]you:[/bold] {text}")
                con.print(f"  [red]robot:[/red] {question}")
            else:
                start_episode(text)
        if channel is not None:
            channel.close()
        if worker is not None:
            worker.join()
    except KeyboardInterrupt:
        if busy() and channel is not None:
            channel.put("stop")
            channel.put("give up")
            channel.close()
            worker.join(timeout=5)  # type: ignore[union-attr]
        con.print("interrupted")
        return 130
    finally:
        if voice is not None:
            voice.close()
        world.close()
        log.close()
        if kb is not None:
            kb.close()
    if not results:
        return 0 if not args.task else 1
    return 0 if results[-1].success else 1

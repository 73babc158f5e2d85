"""One robot served to browsers: its teaching session, the episode thread, the camera, and who controls it.

The loop is the terminal's (``robocorrect sim``, :mod:`agent.repl`): a task starts
:meth:`agent.session.TeachingSession.run_episode` in a worker thread with a fresh :class:`agent.channel.Channel`;
while it runs, every line (typed, or heard by push-to-talk) is ``channel.put`` and the session takes it at
its next control tick; the stop button puts "stop", which the session reads at its next tick and halts the
skill there (``SkillControl.request_stop``, within one control tick). Between episodes a line must read as a
task about the table (``agent.words.task_question``), else the page gets the question back.

Control: one browser controls the robot (the first to connect, or the first to ask once it is free); the
others watch and are told who controls it. Every command is checked here, server-side: who sent it, its
kind, its text (a string of at most ``MAX_TEXT`` characters); a refusal is one ``{"type": "error", "error":
...}`` message and changes nothing.
"""
from __future__ import annotations

import collections
import copy
import dataclasses
import threading
import time
from typing import Any, Callable, Optional

from agent.channel import Channel
from agent.session import SessionError, SessionEvent, TeachingSession
from agent.words import task_question
from hardware.base import Robot, World
from hardware.scene import Scene

MAX_TEXT = 300  # characters in one task or correction


class CommandError(Exception):
    """A command the controller refuses (the message goes to the page as ``error``); nothing changed."""


def event_json(ev: SessionEvent) -> dict[str, Any]:
    """A session event as the page gets it: ``{"type": "event", "kind", "message", "t", "data"}``; a
    correction result becomes its words and numbers (utterance, changes, action, next, question, ...)."""
    data: dict[str, Any] = {}
    for k, v in ev.data.items():
        if k == "result":
            r = v
            data["result"] = {"utterance": r.utterance, "kind": r.kind, "level": r.level, "step": r.step,
                              "changes": list(r.changes), "action": r.action, "next": r.next, "question": r.question,
                              "during_motion": r.during_motion, "finished": r.finished, "summary": r.summary(),
                              "latency_s": round(r.latency_s, 3)}
        elif k in ("plan", "base_plan", "changes", "notes", "step", "call", "outcome", "frame", "episode_id",
                   "success", "status", "timeout_s", "goal_holds", "late_change", "error"):
            data[k] = v
    return {"type": "event", "kind": ev.kind, "message": ev.message, "t": ev.t, "data": data}


class RobotController:
    """See the module docstring. ``session`` drives ``robot`` in ``world``; ``publish(msg, to=None)`` sends a
    JSON message to every page (or one); ``make_scene(seed)`` draws a new table (None: the table cannot change,
    e.g. a real arm); ``voice`` transcribes push-to-talk audio (:class:`agent.web.speech_in.PushToTalk`)."""

    def __init__(self, session: TeachingSession, robot: Robot, world: World, scene: Scene,
                 publish: Callable[..., None], make_scene: Optional[Callable[[int], Scene]] = None,
                 seed: int = 0, kind: str = "sim", memory: str = "off") -> None:
        self.session, self.robot, self.world, self.scene = session, robot, world, scene
        self.publish, self.make_scene, self.seed, self.kind, self.memory = publish, make_scene, seed, kind, memory
        self.channel: Optional[Channel] = None
        self.worker: Optional[threading.Thread] = None
        self.ended = threading.Event()
        self.controller_id: Optional[str] = None
        self.last_tick: Optional[int] = None
        self._tick_t: Optional[float] = None
        self.tick_gaps: "collections.deque[float]" = collections.deque(maxlen=5000)  # s between control ticks
        self.last_stop: dict[str, Any] = {}
        self.change_log: list[dict[str, Any]] = []  # every correction of this server's life, newest last
        self._lock = threading.RLock()
        self.on_scene: Callable[[], None] = lambda: None
        session.subscribe(self._on_event)
        session.tick_listeners.append(self._on_tick)

    # --- control ---------------------------------------------------------------------------------
    def join(self, client: str) -> str:
        """A page connected: it controls the robot when nobody does, else it watches. Returns its role."""
        with self._lock:
            if self.controller_id is None:
                self.controller_id = client
        return self.role(client)

    def leave(self, client: str) -> None:
        with self._lock:
            if self.controller_id == client:
                self.controller_id = None
                self.publish({"type": "control", "controller": None,
                              "message": "the controlling page left: the robot is free, press 'take control' to teach"})

    def role(self, client: str) -> str:
        return "control" if self.controller_id == client else "watch"

    def take(self, client: str) -> None:
        with self._lock:
            if self.controller_id not in (None, client):
                raise CommandError("another page controls this robot; you are watching (it must close or release first)")
            self.controller_id = client
        self.publish({"type": "control", "controller": client, "message": "a page took control of the robot"})

    def release(self, client: str) -> None:
        self.require_control(client)
        self.leave(client)

    def require_control(self, client: str) -> None:
        """Raise :class:`CommandError` unless page ``client`` controls the robot."""
        if self.controller_id != client:
            raise CommandError("you are watching: another page controls this robot" if self.controller_id
                               else "nobody controls this robot: press 'take control' first")

    # --- commands (from the page) ----------------------------------------------------------------
    def command(self, client: str, msg: Any) -> Optional[dict[str, Any]]:
        """Run one command ``{"op": ...}`` from page ``client``; returns a reply for that page (or None).
        Raises :class:`CommandError` for anything invalid (nothing changed)."""
        if not isinstance(msg, dict):
            raise CommandError("a command is a JSON object with an 'op'")
        op = msg.get("op")
        allowed = {"text": {"text"}, "stop": set(), "new": {"seed"}, "take": set(), "release": set(), "state": set()}
        if op not in allowed:
            raise CommandError(f"unknown op {op!r}; ops: {', '.join(allowed)}")
        extra = set(msg) - {"op"} - allowed[op]
        if extra:
            raise CommandError(f"op {op!r} takes no {', '.join(sorted(extra))}")
        if op == "state":
            return {"type": "state", **self.snapshot()}
        if op == "take":
            self.take(client)
            return None
        self.require_control(client)
        if op == "release":
            self.release(client)
        elif op == "stop":
            return {"type": "info", "message": self.stop()}
        elif op == "new":
            seed = msg.get("seed")
            if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2 ** 31):
                raise CommandError("seed must be a whole number in [0, 2^31)")
            self.new_scene(seed)
        else:
            text = msg.get("text")
            if not isinstance(text, str):
                raise CommandError("text must be a string")
            return self.text(text, source="web")
        return None

    def text(self, text: str, source: str = "web") -> Optional[dict[str, Any]]:
        """A typed (or heard) line: a correction while an episode runs, else a task."""
        text = " ".join(text.split())
        if not text:
            raise CommandError("type a task or a correction")
        if len(text) > MAX_TEXT or not text.isprintable():
            raise CommandError(f"a line is at most {MAX_TEXT} printable characters")
        with self._lock:
            if self.busy():
                assert self.channel is not None
                self.channel.put(text, source=source)
                return None
            if self.worker is not None:
                self.worker.join(timeout=30)  # the last episode has ended; let its thread wind down
            words = [w for o in self.scene.objects for w in (o.name, o.kind, o.color)]
            question = task_question(text, words, example=self._example_task())
            if question:
                return {"type": "question", "utterance": text, "question": question}
            self._start(text)
        return None

    def stop(self) -> str:
        """Halt the moving skill at its next control tick (the channel is polled every tick)."""
        with self._lock:
            if not self.busy() or self.channel is None:
                return "nothing is running"
            self.last_stop = {"requested_tick": self.last_tick if self.session.running else None,
                              "requested_t": time.time(), "step": self.session.running_step}
            self.channel.put("stop", source="web-stop")
        return "stopping"

    def new_scene(self, seed: Optional[int]) -> None:
        with self._lock:
            if self.busy():
                raise CommandError("an episode is running: finish it (done / give up) before a new table")
            if self.make_scene is None:
                raise CommandError("this robot's table cannot be redrawn from here")
            if self.worker is not None:
                self.worker.join(timeout=30)
            self.seed = self.seed + 1 if seed is None else seed
            self.scene = self.make_scene(self.seed)
            reset = self.session.reset_world
            if reset is not None:
                reset(self.scene)
            self.session.default_scene = self.scene
        self.on_scene()
        self.publish({"type": "state", **self.snapshot()})

    # --- the episode thread ----------------------------------------------------------------------
    def busy(self) -> bool:
        """An episode is under way (one that has ended no longer takes lines, even while its thread winds down)."""
        return self.worker is not None and self.worker.is_alive() and not self.ended.is_set()

    def _start(self, task: str) -> None:
        self.ended.clear()
        ch = self.channel = Channel()

        def body() -> None:
            try:
                self.session.run_episode(task, ch, scene=self.scene)
            except SessionError as e:
                self.publish({"type": "error", "error": str(e)})
                self.ended.set()
            except Exception as e:  # noqa: BLE001 - keep serving; the log marks the episode aborted
                self.publish({"type": "error", "error": f"the session failed: {type(e).__name__}: {e}"})
                self.ended.set()
            finally:
                self.publish({"type": "state", **self.snapshot()})

        self.worker = threading.Thread(target=body, name="robot", daemon=True)
        self.worker.start()

    def _example_task(self) -> str:
        blocks = [o.name for o in self.scene.objects if o.kind == "block"]
        places = [o.name for o in self.scene.objects if o.kind in ("bowl", "tray")]
        return f"put the {blocks[0]} in the {places[0]}" if blocks and places else "put the red block in the green bowl"

    def _on_tick(self, tick: int, state: Any) -> None:
        now = time.perf_counter()
        if tick > 0 and self._tick_t is not None and tick == (self.last_tick or 0) + 1:
            self.tick_gaps.append(now - self._tick_t)
        self.last_tick, self._tick_t = tick, now

    def tick_gap_stats(self) -> dict[str, float]:
        """Wall-clock ms between consecutive control ticks of the recent motions (p50, p99, max)."""
        g = sorted(self.tick_gaps)
        if not g:
            return {}
        return {"p50": round(1000 * g[len(g) // 2], 1), "p99": round(1000 * g[min(len(g) - 1, int(0.99 * len(g)))], 1),
                "max": round(1000 * g[-1], 1), "n": len(g)}

    def _on_event(self, ev: SessionEvent) -> None:
        msg = event_json(ev)
        if ev.kind == "finished":
            self.ended.set()
        if ev.kind == "stopped" and self.last_stop and self.last_stop.get("halted_tick") is None:
            self.last_stop["halted_tick"] = ev.data.get("outcome", {}).get("ticks")
            msg["data"]["stop"] = dict(self.last_stop)
        if ev.kind in ("correction", "undo") and "result" in msg["data"]:
            r = msg["data"]["result"]
            self.change_log.append({"t": ev.t, "utterance": r["utterance"], "changes": r["changes"], "action": r["action"],
                                    "during_motion": r["during_motion"], "episode_id": self.session.episode_id})
        self.publish(msg)
        self.publish({"type": "state", **self.snapshot()})

    # --- what the page shows ---------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """The robot's state for the page: task, plan (running step, cursor), scene objects (m, base frame),
        knowledge applied, status, who controls."""
        s = self.session
        objects = []
        for o in self.scene.objects:
            pos = list(o.position)
            try:
                pos = [round(float(v), 4) for v in self.world.pose(o.name)[0]]
            except Exception:  # noqa: BLE001 - an object the world lost keeps its scene position
                pass
            objects.append({"name": o.name, "kind": o.kind, "color": o.color, "size": o.size, "position": pos})
        knowledge = [{"id": e.get("id"), "text": e.get("text"), "confidence": e.get("confidence")}
                     for e in (s.knowledge or []) if isinstance(e, dict)]
        return {
            "robot": self.kind, "seed": self.seed, "memory": self.memory, "task": s.task, "status": s.status,
            "episode_id": s.episode_id, "busy": self.busy(), "plan": copy.deepcopy(s.plan), "cursor": s.cursor,
            "running_step": s.running_step, "paused": s.paused, "next": s.next_action() if s.started else "",
            "objects": objects, "knowledge_notes": list(s.knowledge_notes or []), "knowledge": knowledge,
            "controller": self.controller_id, "last_stop": dict(self.last_stop), "change_log": self.change_log[-50:],
            "tick_gaps_ms": self.tick_gap_stats(),
        }


def jsonable(x: Any) -> Any:
    """Dataclasses and tuples as plain JSON values."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return jsonable(dataclasses.asdict(x))
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    return x

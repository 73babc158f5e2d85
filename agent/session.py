"""The teaching session: one robot, one policy, the knowledge base (when there is one) and the episode log.

No terminal code here: the CLI (``robocorrect sim``), the demo, benchmarks and tests drive the same
object, and every UI learns what happened from structured :class:`SessionEvent` /
:class:`CorrectionResult` values.

Flow (frames and units: ``shared/spec/corrections.md``; metres, radians, newtons, base frame):

1. :meth:`TeachingSession.start` — task in, plan out: ``policy.plan`` (without knowledge: ``base_plan``),
   then knowledge retrieved from the knowledge base and applied (``memory.knowledge.apply_knowledge``, the
   same for every policy: ``initial_plan``); both go to the episode log. The knowledge is also given to
   ``policy.ground`` with every correction.
2. :meth:`TeachingSession.step` — runs the next skill call through ``skills.library.run_skill``; the
   attached channel is polled before every control tick. ``stop`` halts within one tick (the
   ``SkillControl`` flag is set before any model runs); other corrections are grounded at once with
   ``step`` = the running step and change the rest of the motion through ``control.replace_args``, or,
   when the running step's skill, object or target change, stop it and redo it from the new plan.
3. :meth:`TeachingSession.correct` — any utterance, any time: session words (stop, undo, done, give up,
   continue, "don't do that again", praise) are handled here; everything else is grounded by the policy.
   After a step, a change to a step that already ran makes the session redo it (rewinding to the pick
   when a place must be redone); after a failure the same step runs again with the new arguments, with
   the world re-read (the object may have moved).
4. :meth:`TeachingSession.finish` — ends the episode (success / failure) and closes its log record.

:meth:`TeachingSession.run_episode` runs the whole loop against a :class:`agent.channel.Channel`.
"""
from __future__ import annotations

import copy
import math
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from agent.channel import Channel, PollContext
from agent.policy import Grounding, Policy, PolicyError
from skills.base import Outcome, SkillControl
from skills.schema import NAMED_SPOTS, SKILLS, SkillArgError, describe_call, diff_plans, validate_call, validate_plan
from hardware.errors import RobocorrectError

# --- session words (handled before any model runs) ----------------------------------------------
_STOP = re.compile(r"^(stop|halt|freeze|wait|hold on|hold it|whoa|emergency stop|stop stop)( (it|now|right now|there|moving|please))*$")
_UNDO = re.compile(r"^(undo|undo (that|it|the last (change|correction))|revert( that)?|take that back|cancel (that|the last (change|correction)))( please)?$")
_DONE = re.compile(r"^(done|(we are|we're|i am|i'm|all) done|that'?s it|that is it|finished|finish|end( the episode)?|task (done|complete))( please| thanks| thank you)?$")
_GIVE_UP = re.compile(r"^(give up|i give up|abort|forget it|never ?mind|let'?s stop here|quit)( please)?$")
_DONT_AGAIN = re.compile(r"^(please )?(don'?t|do not|never) do (that|this|it) again( please)?$")
_RESUME = re.compile(r"^(continue|go on|go ahead|resume|carry on|proceed|ok go|okay go|go|try again|retry|again please)( please)?$")
_PRAISE = re.compile(r"^(good|great|perfect|nice|excellent|well done|good job|nice job|great job|good robot|thanks|thank you|"
                     r"yes|yes that'?s (it|right)|that'?s (right|good|perfect|great)|exactly|looks good|ok|okay|correct)( thanks| thank you)?$")


def normalize(text: str) -> str:
    """Lower-case, punctuation dropped (apostrophes kept), spaces collapsed."""
    t = re.sub(r"[^\w\s'.-]", " ", text.lower()).replace("’", "'")
    t = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", t)
    return re.sub(r"\s+", " ", t).strip()


def classify(text: str) -> str:
    """'stop', 'undo', 'done', 'give_up', 'dont_again', 'resume', 'praise' or 'correction'."""
    t = normalize(text)
    for name, rx in (("stop", _STOP), ("undo", _UNDO), ("done", _DONE), ("give_up", _GIVE_UP),
                     ("dont_again", _DONT_AGAIN), ("resume", _RESUME), ("praise", _PRAISE)):
        if rx.match(t):
            return name
    return "correction"


class SessionError(RobocorrectError, RuntimeError):
    """A session used out of order (step before start, step after finish); the message says what to do."""


@dataclass
class SessionConfig:
    """Settings of a teaching session.

    ``frames``: save camera frames (start, after each step, end) in the episode log; ``frame_size``
    (width, height) px. ``knowledge_k``: entries retrieved per task. ``max_steps``: skill calls per
    episode before :meth:`TeachingSession.run_episode` gives up. ``idle_timeout_s``: how long
    ``run_episode`` waits for the user when it cannot go on alone (None: until the channel closes).
    ``confirm_wait_s``: after the plan is done and the goal holds, how long to wait for a last
    correction before ending as a success. ``per_phase``: at most this many utterances are handled
    before / after one step (a talkative source cannot stall the robot). ``learn``: when the session has
    a knowledge base and a log, each ended episode is given to ``kb.ingest`` (memory on).
    ``real_time_factor``: pace a simulated robot at this many simulated seconds per wall-clock second
    (1.0 = real time, so that a person can react while the arm moves); None runs as fast as it can.
    """

    frames: bool = True
    frame_size: tuple[int, int] = (320, 240)
    knowledge_k: int = 8
    max_steps: int = 30
    idle_timeout_s: Optional[float] = None
    confirm_wait_s: float = 0.0
    per_phase: int = 4
    learn: bool = True
    real_time_factor: Optional[float] = None


@dataclass
class SessionEvent:
    """Something a UI may show: ``kind`` is 'plan', 'knowledge', 'step_start', 'step_end', 'correction',
    'stopped', 'question', 'undo', 'note' or 'finished'; ``message`` says it in words; ``data`` carries
    the numbers (plan, outcome dict, changes, ...)."""

    kind: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)
    t: float = field(default_factory=time.time)


@dataclass
class CorrectionResult:
    """What one utterance did.

    ``kind``: the session word ('stop', 'undo', 'done', 'give_up', 'dont_again', 'resume', 'praise') or
    'correction'; ``level``: the grounding level (skill / plan / stop / none); ``step``: the step it was
    grounded against; ``changes``: what changed, in words and numbers (``skills.schema.diff_plans``);
    ``before`` / ``after``: the plans; ``action``: what the session does about it ('replace_args' the
    running motion, 'redo' a step, 'continue', 'stop', 'finish', 'ask', 'none'); ``next``: what the robot
    will do next, in words; ``question``: set when the utterance could not be grounded (nothing changed);
    ``during_motion``: it arrived while a skill moved; ``finished``: the episode ended because of it.
    """

    utterance: str
    kind: str
    level: str
    step: int
    changes: list[str] = field(default_factory=list)
    before: list[dict[str, Any]] = field(default_factory=list)
    after: list[dict[str, Any]] = field(default_factory=list)
    action: str = "none"
    next: str = ""
    question: Optional[str] = None
    during_motion: bool = False
    finished: bool = False
    parsed: dict[str, Any] = field(default_factory=dict)
    latency_s: float = 0.0

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def summary(self) -> str:
        """One line: the changes (or the question / action) and what comes next."""
        if self.question:
            return self.question
        what = "; ".join(self.changes) if self.changes else {"stop": "stopped", "finish": "episode ended"}.get(self.action, "no change")
        nxt = f"redo from {self.next}" if self.action == "redo" else self.next
        return f"{what} — next: {nxt}" if nxt else what


@dataclass
class EpisodeSummary:
    """What :meth:`TeachingSession.run_episode` returns."""

    episode_id: Optional[str]
    success: Optional[bool]
    status: str
    steps: int
    corrections: int
    final_plan: list[dict[str, Any]]
    wall_s: float
    reason: str = ""


@dataclass
class _Change:
    """One undoable plan change."""

    before: list[dict[str, Any]]
    cursor_before: int
    steps_run: int
    label: str
    paused_before: bool = False
    history_len: int = 0


def _key(call: dict[str, Any]) -> tuple[str, str]:
    a = call.get("args", {})
    return call["skill"], a.get("object") or a.get("target") or ""


def _first_diff(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> Optional[int]:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return None if len(a) == len(b) else min(len(a), len(b))


class TeachingSession:
    """One robot, one policy, optional knowledge base and episode log; see the module docstring.

    ``robot``: a ``hardware.base.Robot``; ``world``: a ``hardware.base.World`` (a ``sim.world.SimWorld``
    is both: pass ``world.robot`` and ``world``). ``policy``: an ``agent.policy.Policy``, or None to
    replay given plans only (corrections other than the session words then get a question).
    ``kb``: a ``memory.kb.KnowledgeBase`` or None.
    ``log``: a ``memory.episodes.EpisodeLog`` or None (nothing logged). ``run_skill``: the executor,
    default ``skills.library.run_skill``.
    """

    def __init__(self, robot: Any, world: Any, policy: Optional[Policy], kb: Any = None, log: Any = None,
                 config: SessionConfig | None = None, run_skill: Callable[..., Outcome] | None = None) -> None:
        self.robot = robot
        self.world = world
        self.policy = policy
        self.kb = kb
        self.log = log
        self.config = config or SessionConfig()
        self._run_skill = run_skill
        self.listeners: list[Callable[[SessionEvent], None]] = []
        self.events: list[SessionEvent] = []
        self.channel: Optional[Channel] = None
        self._lock = threading.RLock()
        self._reset_state()

    @classmethod
    def for_sim(cls, world: Any, policy: Optional[Policy], **kw: Any) -> "TeachingSession":
        """A session on a ``sim.world.SimWorld`` (its robot is ``world.robot``)."""
        return cls(world.robot, world, policy, **kw)

    def _reset_state(self) -> None:
        self.task: str = ""
        self.scene: Any = None
        self.plan: list[dict[str, Any]] = []
        self.base_plan: list[dict[str, Any]] = []
        self.initial_plan: list[dict[str, Any]] = []
        self.knowledge: list[dict[str, Any]] = []
        self.knowledge_notes: list[str] = []
        self._knowledge_by_key: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.history: list[dict[str, Any]] = []
        self.corrections: list[CorrectionResult] = []
        self.outcomes: list[tuple[int, Outcome]] = []
        self.cursor = 0
        self.last_step = -1
        self.last_outcome: Optional[Outcome] = None
        self.paused = False
        self.started = False
        self.finished = False
        self.success: Optional[bool] = None
        self.status = "idle"
        self.finish_reason = ""
        self.episode_id: Optional[str] = None
        self.frames: list[str] = []
        self.last_ingest: Optional[dict[str, Any]] = None
        self._undo: list[_Change] = []
        self._running: Optional[tuple[int, SkillControl]] = None
        self._after_motion: Optional[tuple[str, Any]] = None  # ('redo', index) | ('finish', success)
        self._pace: Optional[tuple[float, float]] = None  # (wall s, sim s) when the running step started

    # --- events ----------------------------------------------------------------------------------
    def subscribe(self, fn: Callable[[SessionEvent], None]) -> None:
        """Call ``fn(event)`` for every :class:`SessionEvent` (from the thread running the session)."""
        self.listeners.append(fn)

    def _emit(self, kind: str, message: str, **data: Any) -> SessionEvent:
        ev = SessionEvent(kind, message, data)
        self.events.append(ev)
        for fn in list(self.listeners):
            fn(ev)
        return ev

    # --- helpers ---------------------------------------------------------------------------------
    @property
    def running_step(self) -> Optional[int]:
        """Index of the step whose motion is under way, or None."""
        r = self._running
        return r[0] if r else None

    @property
    def steps_run(self) -> int:
        return len(self.outcomes)

    def scene_contract(self) -> dict[str, Any]:
        """The scene as the policy sees it, with positions re-read from the world (objects may have moved)."""
        if self.scene is None:
            return {"objects": []}
        c = self.scene.to_contract()
        for o in c["objects"]:
            try:
                pos, _yaw = self.world.pose(o["name"])
                o["position"] = [round(float(v), 4) for v in pos]
            except Exception:  # noqa: BLE001 - an object the world lost keeps its scene position
                pass
        return c

    def next_action(self) -> str:
        """What the robot will do next, in words."""
        if self.finished:
            return "nothing (the episode has ended)"
        if self.cursor >= len(self.plan):
            return "nothing left in the plan; say 'done', or correct what you see"
        s = f"step {self.cursor}: {describe_call(self.plan[self.cursor])}"
        return s + (" (waiting: say 'continue' or correct me)" if self.paused else "")

    def _executor(self) -> Callable[..., Outcome]:
        if self._run_skill is None:
            from skills.library import run_skill

            self._run_skill = run_skill
        return self._run_skill

    def _frame(self, label: str) -> None:
        if not (self.config.frames and self.log is not None and self.episode_id):
            return
        render = getattr(self.world, "render", None)
        if render is None:
            return
        w, h = self.config.frame_size
        try:
            img = render(width=w, height=h)
        except TypeError:
            img = render()
        if isinstance(img, dict):
            img = img["rgb"]
        rel = self.log.save_frame(self.episode_id, img, label)
        self.frames.append(rel)

    def _require_active(self) -> None:
        if not self.started:
            raise SessionError("no episode: call start(task, scene) first")
        if self.finished:
            raise SessionError(f"the episode has ended ({self.status}); call start() for a new one")

    # --- start -----------------------------------------------------------------------------------
    def _object_images(self) -> Optional[dict[str, Any]]:
        """RGB crops of every scene object from one scene-camera render (for appearance-based memory), or None."""
        crop = getattr(self.world, "object_crop", None)
        render = getattr(self.world, "render", None)
        if crop is None or render is None or self.scene is None:
            return None
        frame = render("scene", 320, 240)
        return {o.name: crop(o.name, width=320, height=240, frame=frame) for o in self.scene.objects}

    def _retrieve(self, contract: dict[str, Any], plan: Optional[list[dict[str, Any]]],
                  images: Optional[dict[str, Any]] = None) -> list[dict[str, Any]]:
        if self.kb is None:
            return []
        got = self.kb.retrieve(self.task, contract, plan=plan, images=images, k=self.config.knowledge_k)
        return [e.to_dict() if hasattr(e, "to_dict") else dict(e) for e in got]

    def _apply_knowledge(self, plan: list[dict[str, Any]], contract: dict[str, Any], knowledge: list[dict[str, Any]]
                         ) -> tuple[list[dict[str, Any]], list[str], dict[int, list[Any]]]:
        """``(new plan, notes, {step index: ids of the entries that changed it})``."""
        if not knowledge:
            return copy.deepcopy(plan), [], {}
        from memory.knowledge import apply_knowledge_detailed

        new, notes, applied = apply_knowledge_detailed(copy.deepcopy(plan), contract, knowledge, task=self.task or None)
        return validate_plan(new, contract), list(notes), dict(applied)

    def start(self, task: str, scene: Any = None, episode_id: str | None = None,
              plan: Optional[list[dict[str, Any]]] = None) -> list[dict[str, Any]]:
        """Plan ``task`` in ``scene`` (a ``hardware.scene.Scene``; the world is reset to it when it can be) and
        open the episode log record. Returns the initial plan (knowledge applied).

        ``plan``: use this base plan instead of asking the policy (replaying an evaluation case or a
        logged episode); knowledge is still applied to it.
        """
        if self._running is not None:
            raise SessionError("a skill is still moving; stop it before starting a new task")
        if not isinstance(task, str) or not task.strip():
            raise SessionError("a task is a sentence, e.g. 'put the red block in the green bowl'")
        if self.started and not self.finished:
            self.finish(None, reason="a new task was started", status="aborted")
        self._reset_state()
        if scene is not None and hasattr(self.world, "reset"):
            self.world.reset(scene)
        self.scene = scene if scene is not None else getattr(self.world, "scene", None)
        if self.scene is None:
            raise SessionError("the session needs a scene (hardware.scene.Scene) to describe the world to the policy")
        if plan is None and self.policy is None:
            raise SessionError("this session has no policy: give start() a plan")
        self.task = task.strip()
        contract = self.scene_contract()
        images = self._object_images() if self.kb is not None else None
        knowledge = self._retrieve(contract, None, images)
        try:
            # The policy plans without knowledge (base_plan); knowledge is then applied here, deterministically
            # and the same way for every policy (memory.knowledge.apply_knowledge), giving the initial plan.
            base = self.policy.plan(contract, self.task, ()) if plan is None else copy.deepcopy(plan)
            base = validate_plan(base, contract)
        except (PolicyError, SkillArgError) as e:
            self._reset_state()
            raise SessionError(f"I cannot plan {task.strip()!r}: {e}") from e
        if self.kb is not None:
            seen = {e.get("id") for e in knowledge}
            knowledge += [e for e in self._retrieve(contract, base, images) if e.get("id") not in seen]
        self.knowledge = knowledge
        self.base_plan = copy.deepcopy(base)
        self.plan, self.knowledge_notes, applied = self._apply_knowledge(base, contract, knowledge)
        self.initial_plan = copy.deepcopy(self.plan)
        by_id = {e.get("id"): e for e in knowledge}
        # which entries changed which step (by skill and object / target), for "don't do that again"
        self._knowledge_by_key = {_key(self.plan[i]): [by_id[k] for k in ids if k in by_id] for i, ids in applied.items()}
        self.started, self.status = True, "running"
        if self.log is not None:
            scene_d = self.scene.to_dict() if hasattr(self.scene, "to_dict") else self.scene
            used = [{"id": e.get("id"), "text": e.get("text"), "effect": e.get("effect")} for e in knowledge]
            self.episode_id = self.log.begin(self.task, scene_d, getattr(self.policy, "name", None) or "none",
                                             self.base_plan, self.initial_plan, used, episode_id=episode_id,
                                             meta={"knowledge_notes": self.knowledge_notes})
        self._frame("start")
        if self.knowledge_notes:
            self._emit("knowledge", "; ".join(self.knowledge_notes), notes=self.knowledge_notes,
                       changes=diff_plans(self.base_plan, self.plan))
        self._emit("plan", "plan: " + " → ".join(describe_call(c) for c in self.plan), plan=copy.deepcopy(self.plan),
                   base_plan=copy.deepcopy(self.base_plan), episode_id=self.episode_id)
        return copy.deepcopy(self.plan)

    # --- stepping --------------------------------------------------------------------------------
    def _on_tick(self, tick: int, state: Any, control: SkillControl) -> None:
        rtf = self.config.real_time_factor
        if rtf:
            if self._pace is None:
                self._pace = (time.perf_counter(), float(state.time_s))
            wall0, sim0 = self._pace
            ahead = (float(state.time_s) - sim0) / rtf - (time.perf_counter() - wall0)
            if ahead > 0:
                time.sleep(ahead)
        ch = self.channel
        if ch is None or self._running is None:
            return
        i = self._running[0]
        u = ch.poll(PollContext("moving", step=i, tick=tick, plan=self.plan, session=self))
        if u is not None:
            self.correct(u.text, tick=tick)

    def _held(self) -> Optional[str]:
        try:
            return self.world.held()
        except Exception:  # noqa: BLE001
            return None

    def step(self) -> Outcome:
        """Run the next step of the plan (the channel, when attached, is polled every control tick)."""
        with self._lock:
            self._require_active()
            if self.cursor >= len(self.plan):
                raise SessionError("the plan is done; correct it, or finish the episode")
            if self._running is not None:
                raise SessionError("a step is already running")
            i = self.cursor
            call = self.plan[i]
            prelude = self._prelude(call)
            control = SkillControl(on_tick=self._on_tick)
            self._running = (i, control)
            self._pace = None
            self._after_motion = None
            self.paused = False
        self._emit("step_start", f"step {i}: {describe_call(call)}", step=i, call=copy.deepcopy(call))
        t_start = time.time()
        try:
            for pre in prelude:
                held = self._held()
                self._emit("note", f"putting the {held} down first ({pre['skill']})", call=pre)
                out = self._executor()(pre, self.robot, self.world, SkillControl())
                if self.log is not None and self.episode_id:
                    self.log.log(self.episode_id, "note", {"before_step": i, "call": pre, "outcome": out.to_dict()})
            outcome = self._executor()(copy.deepcopy(call), self.robot, self.world, control)
        except SkillArgError as e:
            outcome = Outcome(skill=call["skill"], success=False, message=str(e), args=dict(call.get("args", {})))
        finally:
            with self._lock:
                self._running = None
        executed = {"skill": call["skill"], "args": dict(outcome.args or self.plan[i]["args"])} if i < len(self.plan) else call
        if self.log is not None and self.episode_id:
            self.log.log_step(self.episode_id, i, executed, outcome, t=t_start)
        self.outcomes.append((i, outcome))
        self.last_step, self.last_outcome = i, outcome
        self._frame(f"after_step_{i}")
        after, self._after_motion = self._after_motion, None
        if outcome.success:
            self.cursor = i + 1
        else:
            self.paused = after is None  # wait for the user, unless a correction during motion said what to do
        msg = f"step {i} {call['skill']}: " + ("ok" if outcome.success else "stopped" if outcome.stopped else f"failed ({outcome.failure})")
        if outcome.message:
            msg += f" — {outcome.message}"
        self._emit("stopped" if outcome.stopped else "step_end", msg, step=i, outcome=outcome.to_dict(),
                   frame=self.frames[-1] if self.frames else None)
        if after is not None:
            what, val = after
            if what == "redo":
                self.cursor = self._rewind_target(int(val))
                self.paused = False
            elif what == "finish":
                self.finish(val if val is not None else self.goal_satisfied(), reason="said during motion")
        return outcome

    def _prelude(self, call: dict[str, Any]) -> list[dict[str, Any]]:
        """Calls that must run first: an object still held before a new pick is put down first."""
        if call["skill"] == "pick" and self._held():
            return [{"skill": "open_gripper", "args": {}}]
        return []

    def _rewind_target(self, j: int) -> int:
        """The step to run again so that step ``j`` can be redone: a place whose object is no longer held
        goes back to the pick of that object."""
        j = max(0, min(j, len(self.plan)))
        if j < len(self.plan) and self.plan[j]["skill"] in ("place",) and not self._held():
            for k in range(j - 1, -1, -1):
                if self.plan[k]["skill"] == "pick":
                    return k
        return j

    # --- goal ------------------------------------------------------------------------------------
    def goal_spec(self) -> list[tuple[str, str]]:
        """(object, target) pairs the final plan should achieve: each place after its pick."""
        pairs: list[tuple[str, str]] = []
        held: Optional[str] = None
        for c in self.plan:
            a = c.get("args", {})
            if c["skill"] == "pick":
                held = a.get("object")
            elif c["skill"] == "place" and held:
                pairs.append((held, a.get("target")))
                held = None
        return pairs

    def _holds(self, obj: str, target: str) -> bool:
        w = self.world
        if target in NAMED_SPOTS and target not in w.names():
            (x, y, z), _ = w.pose(obj)
            sx, sy = NAMED_SPOTS[target]
            return math.hypot(x - sx, y - sy) < 0.06 and z < 0.1 and self._held() != obj
        for fn in ("is_in", "is_on"):
            f = getattr(w, fn, None)
            if f is not None:
                try:
                    if f(obj, target):
                        return True
                except Exception:  # noqa: BLE001 - e.g. is_in on a non-container
                    continue
        if not hasattr(w, "is_in") and not hasattr(w, "is_on"):
            (x, y, z), _ = w.pose(obj)
            (tx, ty, tz), _ = w.pose(target)
            dx, dy, dz = w.dims(target)
            return abs(x - tx) < dx / 2 and abs(y - ty) < dy / 2 and z < tz + dz + 0.05 and self._held() != obj
        return False

    def goal_satisfied(self) -> bool:
        """Whether every (object, target) pair of :meth:`goal_spec` holds in the world now."""
        pairs = self.goal_spec()
        return bool(pairs) and all(self._holds(o, t) for o, t in pairs)

    # --- corrections -----------------------------------------------------------------------------
    def _push_change(self, before: list[dict[str, Any]], cursor_before: int, label: str) -> None:
        self._undo.append(_Change(copy.deepcopy(before), cursor_before, self.steps_run, label, self.paused, len(self.history)))

    def _result(self, text: str, kind: str, level: str, step: int, before: list[dict[str, Any]], action: str,
                during: bool, question: str | None = None, parsed: dict[str, Any] | None = None,
                changes: list[str] | None = None, t0: float = 0.0) -> CorrectionResult:
        after = copy.deepcopy(self.plan)
        r = CorrectionResult(
            utterance=text, kind=kind, level=level, step=step,
            changes=changes if changes is not None else (diff_plans(before, after) if before != after else []),
            before=copy.deepcopy(before), after=after, action=action, next=self.next_action(), question=question,
            during_motion=during, finished=self.finished, parsed=parsed or {},
            latency_s=time.perf_counter() - t0 if t0 else 0.0,
        )
        return r

    def _record(self, r: CorrectionResult) -> CorrectionResult:
        """Log and announce a result; plan-changing ones go to the episode log as corrections."""
        self.corrections.append(r)
        if self.log is not None and self.episode_id and not self.finished:
            # "don't do that again" already weakened the knowledge here (kb.weaken); it is logged as an utterance
            # plus a plan change, not as a correction, so that kb.ingest does not weaken the same entries twice
            if r.changed and r.kind != "dont_again":
                self.log.log_correction(self.episode_id, {
                    "utterance": r.utterance, "step": r.step, "level": r.level, "before": r.before, "after": r.after,
                    "changes": r.changes, "parsed": {**r.parsed, "kind": r.kind, "action": r.action},
                    "t": time.time(), "during_motion": r.during_motion,
                })
            else:
                self.log.log(self.episode_id, "utterance", {
                    "utterance": r.utterance, "kind": r.kind, "level": r.level, "step": r.step, "action": r.action,
                    "question": r.question, "during_motion": r.during_motion, "changes": r.changes,
                })
                if r.changed:
                    self.log.log_plan(self.episode_id, r.after, reason=f"{r.utterance!r}: {'; '.join(r.changes)}")
        kind = "question" if r.question else "undo" if r.kind == "undo" else "correction"
        self._emit(kind, r.summary(), result=r)
        return r

    def correct(self, utterance: str, tick: int | None = None) -> CorrectionResult:
        """Handle one utterance now (during motion or not) and say what changed and what comes next."""
        t0 = time.perf_counter()
        with self._lock:
            self._require_active()
            text = utterance.strip()
            kind = classify(text)
            running = self._running
            during = running is not None
            ref = running[0] if running else (self.last_step if self.last_step >= 0 else self.cursor)
            ref = max(0, min(ref, len(self.plan) - 1)) if self.plan else 0
            before = copy.deepcopy(self.plan)
            if not text:
                return self._result(text, "correction", "none", ref, before, "ask", during,
                                    question="I heard nothing; say a correction, 'stop', 'undo', 'done' or 'give up'")

            if kind == "stop":
                if running:
                    running[1].request_stop()  # the skill returns before its next tick
                self.paused = True
                return self._record(self._result(text, kind, "stop", ref, before, "stop", during, t0=t0,
                                                 parsed={"tick": tick}))
            if kind in ("done", "give_up") or (kind == "praise" and not during and self.cursor >= len(self.plan)
                                                and self.goal_satisfied()):
                success = False if kind == "give_up" else None if running else self.goal_satisfied()
                if running:
                    # "give up" halts now; "done" lets the running step end, then judges the goal
                    if kind == "give_up":
                        running[1].request_stop()
                    self._after_motion = ("finish", success)
                    r = self._result(text, kind, "none", ref, before, "finish", during, t0=t0)
                    return self._record(r)
                r = self._result(text, kind, "none", ref, before, "finish", during, t0=t0)
                r.finished, r.next = True, "nothing (the episode ends)"
                self._record(r)
                self.finish(success, reason=f"user said {text!r}")
                return r
            if kind == "praise":
                return self._record(self._result(text, kind, "none", ref, before, "none", during, t0=t0))
            if kind == "resume":
                self.paused = False
                return self._record(self._result(text, kind, "none", ref, before, "continue", during, t0=t0))
            if kind == "undo":
                return self._undo_last(text, ref, before, during, t0)
            if kind == "dont_again":
                return self._dont_again(text, ref, before, during, t0)
            return self._ground(text, ref, before, during, t0)

    def _apply_new_plan(self, new: list[dict[str, Any]], ref: int, during: bool, rewind: bool = True) -> str:
        """Install ``new`` as the plan and decide what the robot does about it; returns the action.

        ``rewind`` False: a change to a step that already ran is kept for the record but not redone."""
        old = self.plan
        self.plan = copy.deepcopy(new)
        fd = _first_diff(old, new)
        if fd is None:
            return "none"
        running = self._running
        if running is not None:
            i, control = running
            same_shape = len(old) == len(new) and all(_key(a) == _key(b) for a, b in zip(old, new))
            if same_shape and fd >= i:
                if old[i] != new[i]:
                    control.replace_args(dict(new[i]["args"]))
                    return "replace_args"
                return "continue"
            # the running step itself (or what came before it) changed shape: stop and redo from there
            control.request_stop()
            self._after_motion = ("redo", min(fd, i))
            return "redo"
        self.paused = False
        if not rewind:
            return "continue"
        if fd < self.cursor or (fd == self.cursor and self.last_outcome is not None and not self.last_outcome.success
                                and self.last_step == self.cursor):
            self.cursor = self._rewind_target(fd)
            return "redo"
        return "continue"

    def _ground(self, text: str, ref: int, before: list[dict[str, Any]], during: bool, t0: float) -> CorrectionResult:
        contract = self.scene_contract()
        if self.policy is None:
            return self._record(self._result(text, "correction", "none", ref, before, "ask", during, t0=t0,
                                             question="no policy is loaded, so I can only stop, continue, undo, finish or give up"))
        try:
            g: Grounding = self.policy.ground(contract, self.task, copy.deepcopy(self.plan), ref, list(self.history),
                                              self.knowledge, text)
        except PolicyError as e:
            return self._record(self._result(text, "correction", "none", ref, before, "ask", during, t0=t0,
                                             question=f"I could not understand {text!r}: {e}"))
        if g.needs_clarification:
            return self._record(self._result(text, "correction", g.level, ref, before, "ask", during, t0=t0,
                                             question=g.question, parsed=g.parsed))
        if g.level == "stop":
            if self._running:
                self._running[1].request_stop()
            self.paused = True
            return self._record(self._result(text, "stop", "stop", ref, before, "stop", during, t0=t0, parsed=g.parsed))
        try:
            new = validate_plan(g.plan, contract)
        except SkillArgError as e:
            return self._record(self._result(text, "correction", g.level, ref, before, "ask", during, t0=t0,
                                             question=f"that would make an unsafe plan ({e}); nothing changed",
                                             parsed=g.parsed))
        if g.level == "plan":
            new = self._retune_retargeted(new, contract)
        if new == self.plan:
            self.history.append({"utterance": text, "step": ref})
            r = self._result(text, "correction", g.level, ref, before, "none", during, t0=t0, parsed=g.parsed)
            if g.level != "none":
                r.question = r.question or "I understood that, but it changes nothing in the plan"
            return self._record(r)
        cursor_before = self.cursor
        self._push_change(before, cursor_before, text)
        self.history.append({"utterance": text, "step": ref})
        action = self._apply_new_plan(new, ref, during)
        return self._record(self._result(text, "correction", g.level, ref, before, action, during, t0=t0,
                                         parsed=g.parsed))

    def _retune_retargeted(self, new: list[dict[str, Any]], contract: dict[str, Any]) -> list[dict[str, Any]]:
        """Steps whose object or target a correction changed ("no, the blue one") drop the tuning that was
        meant for the old object and take the skill's defaults plus the knowledge that matches the new one;
        otherwise a quirk learned for the red block would ride along onto the blue one and be learned again."""
        changed = [i for i, (a, b) in enumerate(zip(self.plan, new)) if a["skill"] == b["skill"] and _key(a) != _key(b)]
        if not changed:
            return new
        new = copy.deepcopy(new)
        for i in changed:
            keep = {k: v for k, v in new[i]["args"].items() if k in ("object", "target")}
            new[i] = validate_call({"skill": new[i]["skill"], "args": keep}, contract)
        if self.kb is not None:
            seen = {e.get("id") for e in self.knowledge}
            self.knowledge += [e for e in self._retrieve(contract, new) if e.get("id") not in seen]
        tuned, notes, applied = self._apply_knowledge(new, contract, self.knowledge)
        by_id = {e.get("id"): e for e in self.knowledge}
        for i in changed:
            new[i] = tuned[i]
            ids = applied.get(i, [])
            if ids:
                self._knowledge_by_key[_key(new[i])] = [by_id[k] for k in ids if k in by_id]
        return new

    def _undo_last(self, text: str, ref: int, before: list[dict[str, Any]], during: bool, t0: float) -> CorrectionResult:
        if not self._undo:
            return self._record(self._result(text, "undo", "none", ref, before, "ask", during, t0=t0,
                                             question="there is nothing to undo"))
        ch = self._undo.pop()
        del self.history[ch.history_len:]
        running = self._running
        self.plan = copy.deepcopy(ch.before)
        if running is not None:
            i, control = running
            if i < len(self.plan) and i < len(before) and _key(self.plan[i]) == _key(before[i]):
                if self.plan[i] != before[i]:
                    control.replace_args(dict(self.plan[i]["args"]))
                action = "replace_args"
            else:
                control.request_stop()
                self._after_motion = ("redo", min(i, len(self.plan)))
                action = "redo"
        elif self.steps_run == ch.steps_run:
            self.cursor = ch.cursor_before  # the change's redo has not run yet: nothing to redo
            self.paused = ch.paused_before
            action = "none"
        else:
            self.cursor = min(self.cursor, len(self.plan))
            action = "none"
        return self._record(self._result(text, "undo", "none", ref, before, action, during, t0=t0,
                                         parsed={"undid": ch.label}))

    def _dont_again(self, text: str, ref: int, before: list[dict[str, Any]], during: bool, t0: float) -> CorrectionResult:
        call = self.plan[ref] if self.plan else None
        entries = self._knowledge_by_key.get(_key(call), []) if call else []
        if not entries:
            return self._record(self._result(text, "dont_again", "none", ref, before, "ask", during, t0=t0,
                                             question="no learned knowledge changed this step; tell me what to change instead"))
        ids = [e.get("id") for e in entries]
        if self.kb is not None:
            for i in ids:
                self.kb.weaken(i)
        # Put the arguments those entries changed back to what the plan would be without them.
        touched = {ch.get("arg") for e in entries for ch in (e.get("effect") or {}).get("changes", [])}
        keep = [e for e in self.knowledge if e.get("id") not in ids]
        contract = self.scene_contract()
        # the step as planned before any knowledge (the base plan's, or the skill's defaults for a step that
        # was retargeted since), with the remaining knowledge applied in the context of the current plan
        untuned = next((c for c in self.base_plan if _key(c) == _key(call)), None) or validate_call(
            {"skill": call["skill"], "args": {k: v for k, v in call["args"].items() if k in ("object", "target")}}, contract)
        ref_call = self._apply_knowledge(self.plan[:ref] + [untuned] + self.plan[ref + 1:], contract, keep)[0][ref]
        new = copy.deepcopy(self.plan)
        for a in touched:
            if a in ref_call["args"]:
                new[ref]["args"][a] = copy.deepcopy(ref_call["args"][a])
        self.knowledge = keep
        for k in list(self._knowledge_by_key):
            self._knowledge_by_key[k] = [e for e in self._knowledge_by_key[k] if e.get("id") not in ids]
        action = "none"
        notes = [f"weakened #{i} '{e.get('text')}'" for i, e in zip(ids, entries)]
        if new != self.plan:
            self._push_change(before, self.cursor, text)
            action = self._apply_new_plan(new, ref, during, rewind=False)
        r = self._result(text, "dont_again", "skill" if new != before else "none", ref, before, action, during, t0=t0,
                         parsed={"weakened": ids})
        r.changes = notes + r.changes
        return self._record(r)

    # --- finishing -------------------------------------------------------------------------------
    def finish(self, success: Optional[bool], reason: str = "", status: str | None = None) -> None:
        """End the episode: success True / False (None: aborted). Idempotent."""
        with self._lock:
            if not self.started or self.finished:
                return
            if self._running is not None:
                self._running[1].request_stop()
            self._frame("end")
            self.finished = True
            self.success = success
            self.status = status or ("aborted" if success is None else "success" if success else "failure")
            self.finish_reason = reason
            if self.log is not None and self.episode_id:
                self.log.end(self.episode_id, success, final_plan=copy.deepcopy(self.plan), status=self.status, reason=reason)
        self._learn()
        self._emit("finished", f"episode {self.status}" + (f" ({reason})" if reason else ""), success=success,
                   status=self.status, episode_id=self.episode_id, frames=list(self.frames))

    def _learn(self) -> None:
        """Give the ended episode to the knowledge base (``kb.ingest``), when there are both a kb and a log."""
        if not (self.config.learn and self.kb is not None and self.log is not None and self.episode_id):
            return
        try:
            got = self.kb.ingest(self.log.load(self.episode_id), images=self._object_images())
        except Exception as e:  # noqa: BLE001 - learning must not lose the episode; say why it failed
            self._emit("note", f"could not learn from episode {self.episode_id}: {type(e).__name__}: {e}", error=str(e))
            return
        rep = got.to_dict() if hasattr(got, "to_dict") else {"report": got}
        parts = [f"{k} {', '.join(f'#{i}' for i in rep[k])}" for k in ("added", "merged", "confirmed", "weakened") if rep.get(k)]
        msg = "memory: " + ("; ".join(parts) if parts else rep.get("skipped") or "nothing new")
        self.last_ingest = rep
        self._emit("note", msg, ingest=rep)

    # --- the whole loop --------------------------------------------------------------------------
    def _ctx(self, phase: str, step: int, outcome: Any = None) -> PollContext:
        return PollContext(phase, step=step, plan=self.plan, outcome=outcome, session=self)

    def _drain(self, phase: str, step: int, outcome: Any = None) -> int:
        """Handle what the channel has to say now (at most ``config.per_phase`` utterances)."""
        n = 0
        while n < self.config.per_phase and not self.finished and self.channel is not None:
            u = self.channel.poll(self._ctx(phase, step, outcome))
            if u is None:
                break
            self.correct(u.text)
            n += 1
        return n

    def run_episode(self, task: str, channel: Channel, scene: Any = None, episode_id: str | None = None,
                    plan: Optional[list[dict[str, Any]]] = None) -> EpisodeSummary:
        """Start ``task`` and run it to the end, taking utterances from ``channel`` at every moment.

        Ends when the user says done / give up, when the plan is done and the goal holds and nobody
        corrects within ``config.confirm_wait_s``, when the robot cannot go on and nobody says anything
        within ``config.idle_timeout_s`` (failure), or after ``config.max_steps`` skill calls.
        """
        t0 = time.time()
        self.channel = channel
        try:
            self.start(task, scene, episode_id=episode_id, plan=plan)
            while not self.finished:
                if self.steps_run >= self.config.max_steps:
                    self.finish(self.goal_satisfied(), reason=f"step budget of {self.config.max_steps} used")
                    break
                if not self.paused and self.cursor < len(self.plan):
                    i = self.cursor
                    self._drain("before_step", i)
                    if self.finished or self.paused or self.cursor != i or self.cursor >= len(self.plan):
                        continue
                    out = self.step()
                    if self.finished:
                        break
                    self._drain("after_step", i, out)
                    continue
                # nothing to run on our own: the plan is done, or we wait after a stop / failure
                done_ok = self.cursor >= len(self.plan) and not self.paused and self.goal_satisfied()
                ctx = self._ctx("idle", min(self.cursor, len(self.plan) - 1))
                u = channel.get(ctx, timeout=self.config.confirm_wait_s if done_ok else self.config.idle_timeout_s)
                if u is None:
                    if done_ok:
                        self.finish(True, reason="the goal holds")
                    elif self.cursor >= len(self.plan) and not self.paused:
                        self.finish(False, reason="the plan is done but the goal does not hold")
                    else:
                        self.finish(False, reason="the robot could not go on and no correction came")
                    break
                self.correct(u.text)
        except BaseException:
            if self.started and not self.finished:
                self.finish(None, reason="the session crashed", status="aborted")
            raise
        finally:
            self.channel = None
        n_corr = sum(1 for c in self.corrections if c.changed)
        return EpisodeSummary(self.episode_id, self.success, self.status, self.steps_run, n_corr,
                              copy.deepcopy(self.plan), time.time() - t0, self.finish_reason)

"""The teaching session: one robot, one policy, the knowledge base (when there is one) and the episode log.

:class:`TeachingSession` composes the parts that each do one job: the words (``agent.words``), the plan
editor (``plan_editor``), the correction handler (``corrections``), the episode recorder (``recorder``), the
knowledge and learning hook (``learning``), the goal check (``goal``, asked of the ``World``) and the loop
that runs a whole episode against a channel (``runner``). See the package docstring for the flow.
"""
from __future__ import annotations

import copy
import dataclasses
import math
import threading
import time
from typing import Any, Callable, Optional

from agent.channel import Channel, PollContext
from agent.policy import Policy, PolicyError
from agent.session import goal
from agent.session.corrections import Corrector
from agent.session.grounding import GroundingWorker
from agent.session.learning import KnowledgeHook, object_images
from agent.session.plan_editor import PlanEditor
from agent.session.recorder import EpisodeRecorder
from agent.session.trial import Replay
from agent.words import classify
from agent.session.types import (CorrectionResult, EpisodeLogStore, EpisodeSummary, KnowledgeStore, Plan, SessionConfig,
                                 SessionError, SessionEvent)
from hardware.base import Robot, World
from hardware.safe_robot import ensure_safe
from hardware.scene import Scene
from skills.base import Outcome, SkillControl
from skills.library import run_skill as default_run_skill
from skills.schema import SkillArgError, describe_call, diff_plans, validate_plan

LATE_TOL = 0.004  # m: an offset change smaller than this is not checked for having reached the motion

RunSkill = Callable[[dict[str, Any], Robot, World, SkillControl], Outcome]


class TeachingSession:
    """One robot and world, one policy (None: replay given plans only; corrections other than the session
    words then get a question), an optional knowledge base (memory on) and episode log.

    ``reset_world``: called with the scene at :meth:`start` (a simulator reloads it); ``scene``: the scene
    when :meth:`start` is given none. ``run_skill``: the executor, default ``skills.library.run_skill``.
    ``replay``: where the world is a simulator, a replica in which learning re-runs a failed step with and
    without each part of its correction (:mod:`agent.session.trial`, :mod:`memory.rerun`).
    """

    def __init__(self, robot: Robot, world: World, policy: Optional[Policy], kb: Optional[KnowledgeStore] = None,
                 log: Optional[EpisodeLogStore] = None, config: SessionConfig | None = None,
                 run_skill: RunSkill | None = None, reset_world: Callable[[Scene], None] | None = None,
                 scene: Scene | None = None, replay: Replay | None = None) -> None:
        self.robot, self.world, self.policy, self.kb, self.log = ensure_safe(robot), world, policy, kb, log  # every arm behind the safety layer
        self.replay = replay
        self.config = config or SessionConfig()
        self.run_skill: RunSkill = run_skill or default_run_skill
        self.reset_world, self.default_scene = reset_world, scene
        self.listeners: list[Callable[[SessionEvent], None]] = []
        # called as fn(tick, robot_state) at every control tick of a running step, from the robot's thread,
        # after pacing and before the channel is polled (a UI's camera stream times its frames by it); keep it short
        self.tick_listeners: list[Callable[[int, Any], None]] = []
        self.events: list[SessionEvent] = []
        self.channel: Optional[Channel] = None
        self.lock = threading.RLock()
        self.corrector = Corrector(self)
        self.grounding = GroundingWorker(self)
        self._reset_state()

    @classmethod
    def for_sim(cls, world: Any, policy: Optional[Policy], **kw: Any) -> "TeachingSession":
        """A session on a ``sim.world.SimWorld``: its robot is ``world.robot``, :meth:`start` reloads it; learning
        re-runs failed steps in a replica world of the same class and settings (built on first use)."""
        def replica() -> Any:
            cfg = world.config
            if getattr(cfg, "gui", False):
                cfg = dataclasses.replace(cfg, gui=False)  # the replica is never shown
            w = type(world)(config=cfg)
            return w.robot, w, w.reset

        kw.setdefault("replay", Replay(replica, kw.get("run_skill") or default_run_skill))
        return cls(world.robot, world, policy, reset_world=world.reset, scene=world.scene, **kw)

    def _reset_state(self) -> None:
        self.task, self.scene = "", None
        self.editor = PlanEditor()
        self.learning = KnowledgeHook(self.kb, self.config)
        self.recorder = EpisodeRecorder(self.log, self.world, self.config)
        self.corrections: list[CorrectionResult] = []
        self.outcomes: list[tuple[int, Outcome]] = []
        self.last_step, self.last_outcome = -1, None
        self.paused = self.started = self.finished = False
        self.success: Optional[bool] = None
        self.status, self.finish_reason = "idle", ""
        self.running: Optional[tuple[int, SkillControl]] = None
        self.after_motion: Optional[tuple[str, Any]] = None  # ('redo', index) | ('finish', success)
        self.replaced: list[dict[str, Any]] = []  # the running step as it was before each replace_args
        self._pace: Optional[tuple[float, float]] = None  # (wall s, sim s) when the running step started

    # --- state read by UIs, benchmarks and tests ----------------------------------------------------
    plan = property(lambda self: self.editor.plan, lambda self, v: setattr(self.editor, "plan", v))
    cursor = property(lambda self: self.editor.cursor, lambda self, v: setattr(self.editor, "cursor", v))
    base_plan = property(lambda self: self.editor.base_plan)
    initial_plan = property(lambda self: self.editor.initial_plan)
    history = property(lambda self: self.editor.history)
    knowledge = property(lambda self: self.learning.knowledge)
    knowledge_notes = property(lambda self: self.learning.notes)
    last_ingest = property(lambda self: self.learning.last_ingest)
    episode_id = property(lambda self: self.recorder.episode_id)
    frames = property(lambda self: self.recorder.frames)
    steps_run = property(lambda self: len(self.outcomes))
    running_step = property(lambda self: self.running[0] if self.running else None, doc="Step whose motion is under way.")

    def subscribe(self, fn: Callable[[SessionEvent], None]) -> None:
        """Call ``fn(event)`` for every :class:`SessionEvent` (from the thread running the session)."""
        self.listeners.append(fn)

    def emit(self, kind: str, message: str, **data: Any) -> SessionEvent:
        ev = SessionEvent(kind, message, data)
        self.events.append(ev)
        for fn in list(self.listeners):
            fn(ev)
        return ev

    def scene_contract(self) -> dict[str, Any]:
        """The scene as the policy sees it, with positions re-read from the world (objects may have moved)."""
        if self.scene is None:
            return {"objects": []}
        c = self.scene.to_contract()
        names = set(self.world.names())
        for o in c["objects"]:
            if o["name"] in names:  # an object the world lost keeps its scene position
                pos, _yaw = self.world.pose(o["name"])
                o["position"] = [round(float(v), 4) for v in pos]
        return c

    def next_action(self) -> str:
        """What the robot will do next, in words."""
        if self.finished:
            return "nothing (the episode has ended)"
        if self.editor.done:
            return "nothing left in the plan; say 'done', or correct what you see"
        return self.editor.describe_next() + (" (waiting: say 'continue' or correct me)" if self.paused else "")

    def holding(self) -> bool:
        return self.world.held() is not None

    def goal_spec(self) -> list[tuple[str, str]]:
        """(object, target) pairs the plan should achieve: each place after its pick."""
        return self.editor.goal_pairs()

    def unmet_goal(self) -> list[str]:
        """What of the goal does not hold now, in words; [] when it holds."""
        return goal.unmet(self.world, self.goal_spec())

    def goal_satisfied(self) -> bool:
        """Whether every (object, target) pair of :meth:`goal_spec` holds in the world now."""
        return not self.unmet_goal()

    def _require_active(self) -> None:
        if not self.started:
            raise SessionError("no episode: call start(task, scene) first")
        if self.finished:
            raise SessionError(f"the episode has ended ({self.status}); call start() for a new one")

    # --- start -----------------------------------------------------------------------------------
    def start(self, task: str, scene: Scene | None = None, episode_id: str | None = None,
              plan: Optional[Plan] = None) -> Plan:
        """Plan ``task`` in ``scene`` (the world is reset to it when the session can) and open the episode
        log record. Returns the initial plan (knowledge applied). ``plan``: use this base plan instead of
        asking the policy (replaying a case or a logged episode); knowledge is still applied to it."""
        if self.running is not None:
            raise SessionError("a skill is still moving; stop it before starting a new task")
        if not isinstance(task, str) or not task.strip():
            raise SessionError("a task is a sentence, e.g. 'put the red block in the green bowl'")
        if self.started and not self.finished:
            self.finish(None, reason="a new task was started", status="aborted")
        self._reset_state()
        if scene is not None and self.reset_world is not None:
            self.reset_world(scene)
        self.scene = scene if scene is not None else self.default_scene
        if self.scene is None:
            raise SessionError("the session needs a scene (hardware.scene.Scene) to describe the world to the policy")
        if plan is None and self.policy is None:
            raise SessionError("this session has no policy: give start() a plan")
        pickup = getattr(self.policy, "between_episodes", None)  # Policy's default does nothing; a wrapper may lack it
        if pickup is not None:
            pickup()  # a policy promoted since the last episode is used from this one on (agent.learn.active)
        self.task = task.strip()
        contract = self.scene_contract()
        images = object_images(self.world, self.scene) if self.kb is not None else None
        first = self.learning.retrieve(self.task, contract, None, images)
        try:
            # The policy plans without knowledge (base_plan); knowledge is then applied here, deterministically
            # and the same way for every policy (memory.knowledge.apply_knowledge), giving the initial plan.
            base = validate_plan(self.policy.plan(contract, self.task, ()) if plan is None else copy.deepcopy(plan), contract)
        except (PolicyError, SkillArgError) as e:
            self._reset_state()
            raise SessionError(f"I cannot plan {task.strip()!r}: {e}") from e
        self.editor.load(base, self.learning.plan_for(self.task, contract, base, first, images))
        self.started, self.status = True, "running"
        self.recorder.begin(self.task, self.scene, self.policy.name if self.policy else "none", self.base_plan,
                            self.initial_plan, self.knowledge, self.knowledge_notes, episode_id)
        self.recorder.frame("start")
        if self.knowledge_notes:
            self.emit("knowledge", "; ".join(self.knowledge_notes), notes=self.knowledge_notes,
                      changes=diff_plans(self.base_plan, self.plan))
        self.emit("plan", "plan: " + " → ".join(describe_call(c) for c in self.plan), plan=copy.deepcopy(self.plan),
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
        for fn in list(self.tick_listeners):
            fn(tick, state)
        self.grounding.poll()  # a grounding that finished in the worker is handed over at this tick boundary
        ch, running = self.channel, self.running
        if ch is None or running is None:
            return
        u = ch.poll(PollContext("moving", step=running[0], tick=tick, plan=self.plan, session=self))
        if u is None:
            return
        if self.ground_in_worker and classify(u.text) == "correction":
            with self.lock:
                self._require_active()
                self.grounding.submit(u.text.strip())
        else:
            self.correct(u.text, tick=tick)

    @property
    def ground_in_worker(self) -> bool:
        """Corrections said during motion are grounded off the control loop (``config.ground_in_worker``;
        by default when the robot runs in real time)."""
        c = self.config
        return c.ground_in_worker if c.ground_in_worker is not None else c.real_time_factor is not None

    def step(self) -> Outcome:
        """Run the next step of the plan (the channel, when attached, is polled every control tick)."""
        with self.lock:
            self._require_active()
            if self.editor.done:
                raise SessionError("the plan is done; correct it, or finish the episode")
            if self.running is not None:
                raise SessionError("a step is already running")
            i, call = self.cursor, copy.deepcopy(self.plan[self.cursor])
            control = SkillControl(on_tick=self._on_tick)
            self.running, self._pace, self.after_motion, self.paused, self.replaced = (i, control), None, None, False, []
        self.emit("step_start", f"step {i}: {describe_call(call)}", step=i, call=copy.deepcopy(call))
        t_start = time.time()
        try:
            if call["skill"] == "pick" and self.world.held():  # an object still held is put down first
                pre = {"skill": "open_gripper", "args": {}}
                self.emit("note", f"putting the {self.world.held()} down first ({pre['skill']})", call=pre)
                out = self.run_skill(pre, self.robot, self.world, SkillControl())
                self.recorder.note({"before_step": i, "call": pre, "outcome": out.to_dict()})
            outcome = self.run_skill(copy.deepcopy(call), self.robot, self.world, control)
        except SkillArgError as e:
            outcome = Outcome(skill=call["skill"], success=False, message=str(e), args=dict(call.get("args", {})))
        finally:
            with self.lock:
                self.running = None
        late = self._late_change(i, outcome)
        executed = {"skill": call["skill"], "args": dict(late["args"] if late else outcome.args or call["args"])}
        self.recorder.step(i, executed, outcome, t_start)
        self.outcomes.append((i, outcome))
        self.last_step, self.last_outcome = i, outcome
        frame = self.recorder.frame(f"after_step_{i}")
        after, self.after_motion = self.after_motion, None
        if outcome.success:
            self.cursor = i + 1
        else:
            self.paused = after is None  # wait for the user, unless a correction during motion said what to do
        self.grounding.drain()  # what was said during the motion and is still being grounded applies now
        after = after or self.after_motion
        self.after_motion = None
        msg = f"step {i} {call['skill']}: " + ("ok" if outcome.success else "stopped" if outcome.stopped else f"failed ({outcome.failure})")
        self.emit("stopped" if outcome.stopped else "step_end", msg + (f" — {outcome.message}" if outcome.message else ""),
                  step=i, outcome=outcome.to_dict(), frame=frame)
        if late and after is None:
            self.emit("note", late["message"], late_change=True, step=i)
            self.recorder.note({"late_change": late["message"], "step": i})
            after = ("redo", i)
        if after is not None:
            if after[0] == "redo":
                self.cursor, self.paused = self.editor.rewind_target(int(after[1]), self.holding()), False
            elif after[0] == "finish":
                self.finish(after[1] if after[1] is not None else self.goal_satisfied(), reason="said during motion")
        return outcome

    def _late_change(self, i: int, outcome: Outcome) -> Optional[dict[str, Any]]:
        """A place re-aimed while it moved (``replace_args``) but landed where the old offset aimed: the change
        came after the arm had reached its aim and never reached the motion. Returns the args the motion
        really used and a message saying so, else None."""
        if not self.replaced or outcome.skill != "place" or outcome.error_xy is None or i >= len(self.plan):
            return None
        old, new = self.replaced[-1]["args"], self.plan[i]["args"]
        (ox, oy), (nx, ny), (lx, ly) = old["offset"][:2], new["offset"][:2], outcome.error_xy
        if math.hypot(nx - ox, ny - oy) < LATE_TOL or math.hypot(lx - nx, ly - ny) <= math.hypot(lx - ox, ly - oy):
            return None
        what = ", ".join(f"offset {ax} {100 * d:+.1f} cm" for ax, d in (("x", nx - ox), ("y", ny - oy)) if abs(d) >= 0.0005)
        return {"args": {**new, "offset": list(old["offset"])},
                "message": f"the change ({what}) came too late to reach this place: the {new['target']} step had already "
                           f"put the object down where it aimed before; redoing the place with the change"}

    # --- corrections -----------------------------------------------------------------------------
    def correct(self, utterance: str, tick: int | None = None) -> CorrectionResult:
        """Handle one utterance now (during motion or not) and say what changed and what comes next."""
        t0 = time.perf_counter()
        with self.lock:
            self._require_active()
            return self.corrector.handle(utterance.strip(), tick, t0)

    # --- finishing -------------------------------------------------------------------------------
    def finish(self, success: Optional[bool], reason: str = "", status: str | None = None) -> None:
        """End the episode: success True / False (None: aborted). Idempotent."""
        with self.lock:
            if not self.started or self.finished:
                return
            if self.running is not None:
                self.running[1].request_stop()
            self.recorder.frame("end")
            self.finished, self.success = True, success
            self.status = status or ("aborted" if success is None else "success" if success else "failure")
            self.finish_reason = reason
            self.recorder.end(success, self.plan, self.status, reason)
        try:
            trial = self.replay.bind(self.scene) if self.replay is not None and self.scene is not None else None
            msg = self.learning.learn(self.recorder.load() if self.learning.memory_on else None,
                                      object_images(self.world, self.scene) if self.learning.memory_on else None, trial)
        except Exception as e:  # noqa: BLE001 - learning must not lose the episode; say why it failed
            self.emit("note", f"could not learn from episode {self.episode_id}: {type(e).__name__}: {e}", error=str(e))
        else:
            if msg:
                self.emit("note", msg, ingest=self.last_ingest)
        self.emit("finished", f"episode {self.status}" + (f" ({reason})" if reason else ""), success=success,
                  status=self.status, episode_id=self.episode_id, frames=list(self.frames))

    def run_episode(self, task: str, channel: Channel, scene: Scene | None = None, episode_id: str | None = None,
                    plan: Optional[Plan] = None) -> EpisodeSummary:
        """Start ``task`` and run it to the end, taking utterances from ``channel`` at every moment
        (:func:`agent.session.runner.run_episode`)."""
        from agent.session.runner import run_episode

        return run_episode(self, task, channel, scene=scene, episode_id=episode_id, plan=plan)

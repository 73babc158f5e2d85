"""The simulated users on a teaching session's channel, for ``robocorrect bench teach``.

- :class:`ObservingChannel` (default): a :class:`sim.user.SimulatedUser` that gets only
  :class:`sim.observe.Observation` values, built here by a world-side :class:`sim.observe.Observer`; the user
  never holds the world, the scene's quirks or the session. It watches each running pick / place (every few
  control ticks), reacts once to each step's outcome, and speaks when the robot waits or is done. After each of
  its utterances it hears what the robot did (changed the plan, or asked), as a person would.
- :class:`OracleChannel` (``--oracle``): the user as it was, :class:`sim.oracle.OracleUser`, which reads the hidden
  quirk params and speaks before a step can fail.

Both record every utterance with the index of the session's correction result it produced, for scoring.
"""
from __future__ import annotations

import math
from typing import Any, Optional

from agent.bench.teach_metrics import DIRECTIONAL, _moved
from agent.channel import CallbackChannel, PollContext
from sim.observe import Observer
from sim.oracle import OracleUser, landing_error
from sim.speaker import Utterance
from sim.tasks import Task
from sim.user import SimulatedUser

WATCH_EVERY = 6  # control ticks between two looks at a running motion (the first look is at tick 1)


class _Recorder:
    """Common part: the channel, the give-up line, the (utterance, result index) records."""

    def __init__(self) -> None:
        self.records: list[tuple[Utterance, int]] = []
        self.said_give_up = False
        self.channel = CallbackChannel(self._speak, source="sim_user")

    @property
    def gave_up(self) -> bool:
        raise NotImplementedError

    def _emit(self, u: Optional[Utterance], ctx: PollContext) -> Optional[str]:
        if u is None:
            if self.gave_up and not self.said_give_up and ctx.phase != "moving":
                self.said_give_up = True
                return "give up"
            return None
        self.records.append((u, len(getattr(ctx.session, "corrections", []))))
        return u.text

    def _speak(self, ctx: PollContext) -> Optional[str]:
        raise NotImplementedError


def moved_sign(before: Any, after: Any, u: Utterance) -> Optional[int]:
    """Which way the robot changed the argument ``u`` was about, on its step (+1 / -1), as its announcement of the
    change says ("force 20 → 30"); None for another kind of utterance or no change of that argument."""
    i = u.step
    if u.intent not in DIRECTIONAL or i >= min(len(before), len(after)) or before[i]["skill"] != after[i]["skill"]:
        return None
    for sign in (1, -1):
        if _moved(before[i], after[i], u.arg or "offset", u.axis, sign):
            return sign
    return None


class ObservingChannel(_Recorder):
    """Adapter from the session's polls to an observing :class:`SimulatedUser` (see the module docstring)."""

    def __init__(self, user: SimulatedUser, observer: Observer) -> None:
        super().__init__()
        self.user = user
        self._observer = observer
        self._answered: Any = None
        self._heard = 0

    @property
    def gave_up(self) -> bool:
        return self.user.gave_up

    def _tell_user(self, session: Any) -> None:
        """Let the user hear what the robot did about each utterance it has processed since."""
        results = list(getattr(session, "corrections", []))
        while self._heard < len(self.records):
            u, idx = self.records[self._heard]
            if idx >= len(results):
                break
            r = results[idx]
            self.user.heard(u, changed=bool(r.before != r.after), asked=bool(r.question), question=r.question,
                            moved=moved_sign(r.before, r.after, u))
            self._heard += 1

    def _speak(self, ctx: PollContext) -> Optional[str]:
        session, plan = ctx.session, list(ctx.plan)
        self._tell_user(session)
        if self.user.gave_up:
            return self._emit(None, ctx)
        look = self._observer.look
        if ctx.phase == "moving":
            if ctx.tick % WATCH_EVERY != 1:
                return None
            return self._emit(self.user.watch(look("moving", ctx.step, plan)), ctx)
        if ctx.phase == "after_step" and ctx.outcome is not None:
            if ctx.outcome is self._answered:
                return None
            self._answered = ctx.outcome
            return self._emit(self.user.react(look("after_step", ctx.step, plan, ctx.outcome)), ctx)
        if ctx.phase == "idle" and session is not None:
            last = getattr(session, "last_outcome", None)
            done = getattr(session, "cursor", 0) >= len(plan) and not getattr(session, "paused", False)
            obs = look("idle", min(ctx.step, len(plan) - 1), plan, plan_done=done)
            if getattr(session, "paused", False) and last is not None and not last.success:
                u = self.user.at_end(obs, {})  # a restatement due
                if u is None:
                    # the robot waits after a failure the last words did not fix: look again and say something
                    u = self.user.react(look("after_step", session.last_step, plan, last))
                return self._emit(u, ctx)
            places = {c["args"].get("target"): i for i, c in enumerate(plan) if c["skill"] == "place"}
            return self._emit(self.user.at_end(obs, places), ctx)
        return None


class OracleChannel(_Recorder):
    """Adapter from the session's polls to the :class:`OracleUser` (``--oracle``): it speaks at the first control
    ticks of a step whose arguments break a requirement it knows, after failures, and when the plan is done and a
    placement wish is not met."""

    def __init__(self, user: OracleUser, task: Task, landing_slack: float) -> None:
        super().__init__()
        self.user = user
        self.task = task
        self.landing_slack = landing_slack
        self._answered: Any = None

    @property
    def gave_up(self) -> bool:
        return self.user.gave_up

    def _speak(self, ctx: PollContext) -> Optional[str]:
        plan = list(ctx.plan)
        if self.user.gave_up:
            return self._emit(None, ctx)
        if ctx.phase == "moving":
            if 0 <= ctx.step < len(plan):
                return self._emit(self.user.before_step(plan, ctx.step), ctx)
            return None
        if ctx.phase == "before_step" and ctx.step == 0 and getattr(ctx.session, "steps_run", 1) == 0:
            return self._emit(self.user.before_step(plan, 0), ctx)
        if ctx.phase == "after_step" and ctx.outcome is not None:
            if ctx.outcome is self._answered:
                return None
            self._answered = ctx.outcome
            return self._emit(self.user.after_step(plan, ctx.step, ctx.outcome), ctx)
        if ctx.phase == "idle":
            session = ctx.session
            last = getattr(session, "last_outcome", None)
            if session is not None and getattr(session, "paused", False) and last is not None and not last.success:
                return self._emit(self.user.after_step(plan, session.last_step, last), ctx)
            return self._emit(self._check_landing(ctx), ctx)
        return None

    def _check_landing(self, ctx: PollContext) -> Optional[Utterance]:
        """When the plan is done: is each object where the user wants it in its container?"""
        session, plan = ctx.session, list(ctx.plan)
        if session is None or getattr(session, "cursor", 0) < len(plan) or getattr(session, "paused", False):
            return None
        wishes = {c: (off, tol) for c, off, tol in self.task.wishes()}
        places = [i for i, c in enumerate(plan) if c["skill"] == "place"]
        for k, (obj, tgt) in enumerate(self.task.goal):
            if tgt not in wishes or k >= len(places):
                continue
            want, tol = list(wishes[tgt][0]), wishes[tgt][1]
            err = landing_error(session.world, obj, tgt, want)
            if err is None or math.hypot(*err) <= tol + self.landing_slack:
                continue
            from skills.base import Outcome

            landed = (want[0] - err[0], want[1] - err[1])
            return self.user.after_step(plan, places[k], Outcome("place", False, failure="missed_target", error_xy=landed))
        return None

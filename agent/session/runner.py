"""The whole episode loop: run the plan step by step and take the user's words from a channel at every
moment (before a step, while it moves, after it, and while the robot waits). While it waits, the session
says what for (a ``waiting`` event): the last chance to correct before a success ends the episode, or a
correction / 'continue' after a stop or a failure."""
from __future__ import annotations

import copy
import time
from typing import TYPE_CHECKING, Any, Optional

from agent.channel import Channel, PollContext
from agent.session.types import EpisodeSummary, Plan

if TYPE_CHECKING:
    from agent.session.core import TeachingSession
    from hardware.scene import Scene


def _ctx(s: "TeachingSession", phase: str, step: int, outcome: Any = None) -> PollContext:
    return PollContext(phase, step=step, plan=s.plan, outcome=outcome, session=s)


def _drain(s: "TeachingSession", phase: str, step: int, outcome: Any = None) -> int:
    """Handle what the channel has to say now (at most ``config.per_phase`` utterances)."""
    n = 0
    while n < s.config.per_phase and not s.finished and s.channel is not None:
        u = s.channel.poll(_ctx(s, phase, step, outcome))
        if u is None:
            break
        s.correct(u.text)
        n += 1
    return n


def _waiting_for(s: "TeachingSession", done_ok: bool, timeout: Optional[float]) -> str:
    if done_ok:
        when = f"in {timeout:g} s" if timeout else "now"
        return (f"the goal holds; the episode ends as a success {when} unless you correct me "
                "(say 'done' to end it now, or a correction)")
    if s.editor.done and not s.paused:
        unmet = "; ".join(s.unmet_goal())
        return f"the plan is done but {unmet}: correct me, or say 'done' or 'give up'"
    why = "stopped" if s.last_outcome is not None and s.last_outcome.stopped else "waiting"
    return f"{why} before {s.next_action()}: say 'continue', a correction, 'undo' or 'give up'"


def run_episode(s: "TeachingSession", task: str, channel: Channel, scene: "Scene | None" = None,
                episode_id: str | None = None, plan: Optional[Plan] = None) -> EpisodeSummary:
    """Start ``task`` on session ``s`` and run it to the end, taking utterances from ``channel``.

    Ends when the user says done / give up, when the plan is done and the goal holds and nobody corrects
    within ``config.confirm_wait_s``, when the robot cannot go on and nobody says anything within
    ``config.idle_timeout_s`` (failure), or after ``config.max_steps`` skill calls.
    """
    t0 = time.time()
    s.channel = channel
    try:
        s.start(task, scene, episode_id=episode_id, plan=plan)
        while not s.finished:
            if s.steps_run >= s.config.max_steps:
                s.finish(s.goal_satisfied(), reason=f"step budget of {s.config.max_steps} used")
                break
            if not s.paused and not s.editor.done:
                i = s.cursor
                _drain(s, "before_step", i)
                if s.finished or s.paused or s.cursor != i or s.editor.done:
                    continue
                out = s.step()
                if s.finished:
                    break
                _drain(s, "after_step", i, out)
                continue
            # nothing to run on our own: the plan is done, or we wait after a stop / failure
            done_ok = s.editor.done and not s.paused and s.goal_satisfied()
            timeout = s.config.confirm_wait_s if done_ok else s.config.idle_timeout_s
            s.emit("waiting", _waiting_for(s, done_ok, timeout), timeout_s=timeout, goal_holds=done_ok)
            u = channel.get(_ctx(s, "idle", min(s.cursor, len(s.plan) - 1)), timeout=timeout)
            if u is None:
                if done_ok:
                    s.finish(True, reason="the goal holds")
                elif s.editor.done and not s.paused:
                    s.finish(False, reason="the plan is done but " + "; ".join(s.unmet_goal()))
                else:
                    s.finish(False, reason="the robot could not go on and no correction came")
                break
            s.correct(u.text)
    except BaseException:
        if s.started and not s.finished:
            s.finish(None, reason="the session crashed", status="aborted")
        raise
    finally:
        s.channel = None
    n_corr = sum(1 for c in s.corrections if c.changed)
    return EpisodeSummary(s.episode_id, s.success, s.status, s.steps_run, n_corr, copy.deepcopy(s.plan),
                          time.time() - t0, s.finish_reason)

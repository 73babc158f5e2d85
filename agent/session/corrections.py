"""What one utterance does to an episode: session words (stop, undo, done, give up, continue, "don't do
that again", praise) are handled here before any model runs; everything else is grounded by the policy and
turned into a plan change plus an action on the robot (re-aim the running motion, stop and redo a step,
rewind, or nothing). Every result is recorded in the episode log and announced as an event."""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from agent.policy import Grounding, PolicyError
from agent.session.contradiction import is_bare_other, is_other_way, mirror
from agent.session.plan_editor import first_diff, same_shape
from agent.session.types import CorrectionResult, Plan
from agent.words import classify
from skills.schema import SkillArgError, validate_plan

if TYPE_CHECKING:
    from agent.session.core import TeachingSession


@dataclass
class Thought:
    """What the policy made of an utterance, before anything changed: a ``question`` to ask, a ``stop``
    (``level``), or ``new``: the validated new plan (grounded against ``plan`` in ``contract``)."""

    plan: Plan
    contract: dict[str, Any]
    level: str = "none"
    new: Plan = field(default_factory=list)
    question: Optional[str] = None
    parsed: dict[str, Any] = field(default_factory=dict)


class Corrector:
    """Handles utterances for one :class:`agent.session.TeachingSession` (which holds the state it edits)."""

    def __init__(self, session: "TeachingSession") -> None:
        self.s = session

    # --- results ---------------------------------------------------------------------------------
    def result(self, text: str, kind: str, level: str, step: int, before: Plan, action: str, during: bool,
               t0: float = 0.0, question: Optional[str] = None, parsed: Optional[dict] = None) -> CorrectionResult:
        from skills.schema import diff_plans

        after = copy.deepcopy(self.s.plan)
        return CorrectionResult(
            utterance=text, kind=kind, level=level, step=step,
            changes=diff_plans(before, after) if before != after else [],
            before=copy.deepcopy(before), after=after, action=action, next=self.s.next_action(), question=question,
            during_motion=during, finished=self.s.finished, parsed=parsed or {},
            latency_s=time.perf_counter() - t0 if t0 else 0.0,
        )

    def record(self, r: CorrectionResult) -> CorrectionResult:
        """Log and announce a result."""
        self.s.corrections.append(r)
        if not self.s.finished:
            self.s.recorder.utterance(r)
        kind = "question" if r.question else "undo" if r.kind == "undo" else "correction"
        self.s.emit(kind, r.summary(), result=r)
        return r

    # --- the entry point -------------------------------------------------------------------------
    def handle(self, text: str, tick: Optional[int], t0: float) -> CorrectionResult:
        s = self.s
        kind = classify(text)
        running = s.running
        during = running is not None
        ref = s.editor.ref_step(running[0] if running else None, s.last_step)
        before = copy.deepcopy(s.plan)
        if not text:
            return self.result(text, "correction", "none", ref, before, "ask", during,
                               question="I heard nothing; say a correction, 'stop', 'undo', 'done' or 'give up'")
        if kind == "stop":
            if running:
                running[1].request_stop()  # the skill returns before its next tick
            s.paused = True
            return self.record(self.result(text, kind, "stop", ref, before, "stop", during, t0, parsed={"tick": tick}))
        if kind in ("done", "give_up") or (kind == "praise" and not during and s.editor.done and s.goal_satisfied()):
            return self._finish(text, kind, ref, before, t0)
        if kind == "praise":
            return self.record(self.result(text, kind, "none", ref, before, "none", during, t0))
        if kind == "resume":
            s.paused = False
            if not running and not s.editor.done:
                # "try again" after a place that lost its object: the object must be picked again first
                s.cursor = s.editor.rewind_target(s.cursor, s.holding())
            return self.record(self.result(text, kind, "none", ref, before, "continue", during, t0))
        if kind == "undo":
            return self._undo(text, ref, before, during, t0)
        if kind == "dont_again":
            return self._dont_again(text, ref, before, during, t0)
        if is_other_way(text) or (is_bare_other(text) and self._can_turn_around()):
            return self._other_way(text, ref, before, during, t0)
        return self._ground(text, ref, before, during, t0)

    def _finish(self, text: str, kind: str, ref: int, before: Plan, t0: float) -> CorrectionResult:
        s = self.s
        running = s.running
        if running:
            # "give up" halts now; "done" lets the running step end, then judges the goal
            if kind == "give_up":
                running[1].request_stop()
            s.after_motion = ("finish", False if kind == "give_up" else None)
            return self.record(self.result(text, kind, "none", ref, before, "finish", True, t0))
        unmet = [] if kind == "give_up" else s.unmet_goal()
        r = self.result(text, kind, "none", ref, before, "finish", False, t0)
        r.finished, r.next = True, "nothing (the episode ends)"
        self.record(r)
        s.finish(False if kind == "give_up" else not unmet,
                 reason=f"user said {text!r}" + (f"; {', '.join(unmet)}" if unmet else ""))
        return r

    # --- plan changes ----------------------------------------------------------------------------
    def apply(self, new: Plan, during: bool, rewind: bool = True) -> str:
        """Install ``new`` as the plan and decide what the robot does about it; returns the action.

        ``rewind`` False: a change to a step that already ran is kept for the record but not redone."""
        s = self.s
        old = s.plan
        s.plan = copy.deepcopy(new)
        fd = first_diff(old, new)
        if fd is None:
            return "none"
        if s.running is not None:
            i, control = s.running
            if same_shape(old, new) and fd >= i:
                if old[i] != new[i]:
                    control.replace_args(dict(new[i]["args"]))
                    s.replaced.append(copy.deepcopy(old[i]))
                    return "replace_args"
                return "continue"
            # the running step itself (or what came before it) changed shape: stop and redo from there
            control.request_stop()
            s.after_motion = ("redo", min(fd, i))
            return "redo"
        s.paused = False
        if not rewind:
            return "continue"
        last = s.last_outcome
        if fd < s.cursor or (fd == s.cursor and last is not None and not last.success and s.last_step == s.cursor):
            s.cursor = s.editor.rewind_target(fd, s.holding())
            return "redo"
        return "continue"

    def _ground(self, text: str, ref: int, before: Plan, during: bool, t0: float) -> CorrectionResult:
        s = self.s
        return self.commit(self.think(text, ref, copy.deepcopy(s.plan), list(s.editor.history), list(s.knowledge),
                                      s.scene_contract()), text, ref, before, during, t0)

    def think(self, text: str, ref: int, plan: Plan, history: list[dict[str, Any]], knowledge: list[dict[str, Any]],
              contract: dict[str, Any]) -> Thought:
        """Ground ``text`` against ``plan`` with the policy and validate the answer; changes nothing in the
        session, so it may run in a worker thread while the arm moves (:mod:`agent.session.grounding`)."""
        s = self.s
        if s.policy is None:
            return Thought(plan, contract, question="no policy is loaded, so I can only stop, continue, undo, finish or give up")
        try:
            g: Grounding = s.policy.ground(contract, s.task, copy.deepcopy(plan), ref, history, knowledge, text)
        except PolicyError as e:
            return Thought(plan, contract, question=f"I could not understand {text!r}: {e}")
        if g.needs_clarification:
            return Thought(plan, contract, g.level, question=g.question, parsed=g.parsed)
        if g.level == "stop":
            return Thought(plan, contract, "stop", parsed=g.parsed)
        try:
            return Thought(plan, contract, g.level, new=validate_plan(g.plan, contract), parsed=g.parsed)
        except SkillArgError as e:
            return Thought(plan, contract, g.level, question=f"that would make an unsafe plan ({e}); nothing changed",
                           parsed=g.parsed)

    def commit(self, th: Thought, text: str, ref: int, before: Plan, during: bool, t0: float) -> CorrectionResult:
        """Install what :meth:`think` found (at a control tick boundary when the arm moves), and record it."""
        s = self.s
        if th.question is not None:
            return self.record(self.result(text, "correction", th.level, ref, before, "ask", during, t0,
                                           question=th.question, parsed=th.parsed))
        if th.level == "stop":
            if s.running:
                s.running[1].request_stop()
            s.paused = True
            self._then(th, text, ref, before)
            return self.record(self.result(text, "stop", "stop", ref, before, "stop", during, t0, parsed=th.parsed))
        new = th.new
        if th.level == "plan":
            new = s.editor.unself_place(new)
            new = s.learning.retune(new, s.editor.retargeted(new), s.initial_plan, th.contract, s.task)
        if new == s.plan:
            s.editor.history.append({"utterance": text, "step": ref})
            r = self.result(text, "correction", th.level, ref, before, "none", during, t0, parsed=th.parsed)
            if th.level != "none":
                r.question = r.question or "I understood that, but it changes nothing in the plan"
            return self.record(r)
        s.editor.push(before, s.cursor, s.steps_run, text, s.paused)
        s.editor.history.append({"utterance": text, "step": ref})
        action = self.apply(new, during)
        return self.record(self.result(text, "correction", th.level, ref, before, action, during, t0, parsed=th.parsed))

    def _then(self, th: Thought, text: str, ref: int, before: Plan) -> None:
        """A safety word that led a correction ("stop, move your arm up a bit"): the arm halts, and the correction
        the policy grounded after it (``parsed["then"]``) becomes the plan the paused step resumes with; one
        undo takes it back. An unsafe or empty one is dropped (the halt stands)."""
        s = self.s
        then = th.parsed.get("then") if isinstance(th.parsed, dict) else None
        if not then:
            return
        try:
            new = validate_plan(then["plan"], th.contract)
        except (SkillArgError, KeyError, TypeError):
            return
        if new == s.plan:
            return
        s.editor.push(before, s.cursor, s.steps_run, text, True)
        s.editor.history.append({"utterance": then.get("utterance", text), "step": ref})
        s.plan = copy.deepcopy(new)

    def _can_turn_around(self) -> bool:
        """Whether the last change moved an argument that "the other way" can turn around."""
        last = self.s.editor.last()
        return last is not None and mirror(last.before, self.s.plan) is not None

    def _other_way(self, text: str, ref: int, before: Plan, during: bool, t0: float) -> CorrectionResult:
        """"No, the other way": the last change turned around, on the step it changed
        (:mod:`agent.session.contradiction`)."""
        s = self.s
        last = s.editor.last()
        turned = mirror(last.before, s.plan) if last is not None else None
        if turned is None:
            return self.record(self.result(text, "correction", "none", ref, before, "ask", during, t0,
                                           question="the other way of what? I have made no change I can turn around; "
                                                    "say which way, e.g. 'a bit to the left'"))
        new, steps = turned
        try:
            new = validate_plan(new, s.scene_contract())
        except SkillArgError as e:
            return self.record(self.result(text, "correction", "none", ref, before, "ask", during, t0,
                                           question=f"turning the last change around would make an unsafe plan ({e}); nothing changed"))
        step = steps[0]
        s.editor.push(before, s.cursor, s.steps_run, text, s.paused)
        s.editor.history.append({"utterance": text, "step": step})
        action = self.apply(new, during)
        return self.record(self.result(text, "correction", "skill", step, before, action, during, t0,
                                       parsed={"other_way": {"of": last.label, "steps": steps}}))

    def _undo(self, text: str, ref: int, before: Plan, during: bool, t0: float) -> CorrectionResult:
        s = self.s
        ch = s.editor.pop()
        if ch is None:
            return self.record(self.result(text, "undo", "none", ref, before, "ask", during, t0,
                                           question="there is nothing to undo"))
        if s.running is None and s.steps_run == ch.steps_run:
            s.plan = copy.deepcopy(ch.before)
            s.cursor, s.paused = ch.cursor_before, ch.paused_before  # the change's redo has not run yet
            action = "none"
        else:
            # while a step moves: re-aim it, or stop and redo from the first step the undo changes; after steps
            # ran under the undone change: run them again as the restored plan says (the arm may hold the
            # object the undone change picked)
            paused = s.paused
            action = self.apply(copy.deepcopy(ch.before), during)
            s.cursor = min(s.cursor, len(s.plan))
            if action == "continue" and not during:
                s.paused, action = paused, "none"  # nothing to redo: wait as before
        return self.record(self.result(text, "undo", "none", ref, before, action, during, t0, parsed={"undid": ch.label}))

    def _dont_again(self, text: str, ref: int, before: Plan, during: bool, t0: float) -> CorrectionResult:
        s = self.s
        if not s.learning.memory_on:
            return self.record(self.result(text, "dont_again", "none", ref, before, "ask", during, t0,
                                           question="memory is off (no knowledge base), so nothing learned changed this "
                                                    "step and nothing will be remembered; tell me what to change instead"))
        entries = s.learning.entries_for(s.plan[ref] if s.plan else None)
        if not entries:
            return self.record(self.result(text, "dont_again", "none", ref, before, "ask", during, t0,
                                           question="no learned knowledge changed this step; tell me what to change instead"))
        new, ids = s.learning.forget(entries, s.plan, s.base_plan, ref, s.scene_contract(), s.task)
        action = "none"
        if new != s.plan:
            s.editor.push(before, s.cursor, s.steps_run, text, s.paused)
            action = self.apply(new, during, rewind=False)
        r = self.result(text, "dont_again", "skill" if new != before else "none", ref, before, action, during, t0,
                        parsed={"weakened": ids})
        r.changes = [f"weakened #{i} '{e.get('text')}'" for i, e in zip(ids, entries)] + r.changes
        return self.record(r)

"""Grounding off the control loop: a correction said while the arm moves is grounded by the policy in a worker
thread (``Corrector.think``, which changes nothing), and the new plan is handed to the running skill at the
next control-tick boundary after the answer is ready (``Corrector.commit``: ``replace_args``, or stop and
redo). The tick loop never waits for the model, so a real arm's servo loop keeps its rate while the policy
thinks. Session words (stop, undo, done, ...) need no model and are still handled within the tick they are
heard in; a stop is never queued behind a grounding.

One grounding is in flight at a time; corrections said meanwhile wait in order. When the plan changed while
the policy thought (an undo, say), the utterance is grounded again against the new plan."""
from __future__ import annotations

import collections
import copy
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from agent.session.corrections import Thought
from agent.session.types import CorrectionResult, Plan

if TYPE_CHECKING:
    from agent.session.core import TeachingSession


@dataclass
class _Pending:
    text: str
    ref: int
    plan: Plan
    t0: float
    future: "Future[Thought]"


class GroundingWorker:
    """Grounds corrections for one session in a worker thread; :meth:`poll` commits a finished one."""

    def __init__(self, session: "TeachingSession") -> None:
        self.s = session
        self._pool: Optional[ThreadPoolExecutor] = None
        self.pending: Optional[_Pending] = None
        self.backlog: collections.deque[str] = collections.deque()

    def submit(self, text: str) -> None:
        """Start grounding ``text`` against the plan now (or after the one in flight)."""
        if self.pending is not None:
            self.backlog.append(text)
            return
        s = self.s
        ref = s.editor.ref_step(s.running_step, s.last_step)
        plan = copy.deepcopy(s.plan)
        if self._pool is None:
            from hardware.runtime import lower_thread_priority  # the control loop's ticks come first on a busy CPU

            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="grounding", initializer=lower_thread_priority)
        fut = self._pool.submit(s.corrector.think, text, ref, copy.deepcopy(plan), list(s.editor.history),
                                list(s.knowledge), s.scene_contract())
        self.pending = _Pending(text, ref, plan, time.perf_counter(), fut)

    def poll(self, wait: bool = False) -> Optional[CorrectionResult]:
        """Commit the grounding in flight if it is done (``wait``: wait for it); returns its result."""
        p = self.pending
        if p is None or (not wait and not p.future.done()):
            return None
        th = p.future.result()
        self.pending = None
        s = self.s
        with s.lock:
            if s.finished:
                self.backlog.clear()
                return None
            if s.plan != p.plan:  # changed while the policy thought: ground it again against the plan as it is
                self.backlog.appendleft(p.text)
                r = None
            else:
                r = s.corrector.commit(th, p.text, p.ref, p.plan, True, p.t0)
        if self.backlog:
            self.submit(self.backlog.popleft())
        return r

    def drain(self) -> None:
        """Commit everything said during a motion that has just ended."""
        while self.pending is not None:
            self.poll(wait=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

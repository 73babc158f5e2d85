"""The one channel through which user utterances reach a teaching session.

Whatever produces words — a keyboard (``robocorrect sim``), speech recognition, a simulated user, a
scripted test — puts them into a :class:`Channel`; the :class:`agent.session.TeachingSession` polls it
between control ticks while a skill moves (``phase="moving"``), just before a step starts
(``"before_step"``), right after a step (``"after_step"``) and while it waits for the user
(``"idle"``). The session passes a :class:`PollContext` so that scripted and simulated sources can
decide *when* to speak; a plain queue ignores it.

Thread-safety: :meth:`Channel.put` may be called from any thread (the REPL's main thread reads stdin
while the robot moves in a worker thread).
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Sequence

PHASES = ("moving", "before_step", "after_step", "idle")


@dataclass
class Utterance:
    """Something the user said: ``text``, where it came from (``source``) and when (unix s)."""

    text: str
    source: str = "user"
    t: float = field(default_factory=time.time)
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class PollContext:
    """What the session is doing when it asks for words.

    ``phase``: one of :data:`PHASES`; ``step``: index of the running / about-to-run / just-run step
    (-1 before the first); ``tick``: control tick within the running skill (moving only);
    ``plan``: the current plan (read-only); ``outcome``: the just-run step's Outcome (after_step only);
    ``session``: the session itself, for sources that need the world (a simulated user).
    """

    phase: str
    step: int = -1
    tick: int = 0
    plan: Sequence[dict[str, Any]] = ()
    outcome: Any = None
    session: Any = None

    @property
    def skill(self) -> str | None:
        return self.plan[self.step]["skill"] if 0 <= self.step < len(self.plan) else None


class Channel:
    """A thread-safe queue of utterances; the base for every source.

    ``poll(ctx)`` never blocks (called every control tick); ``get(ctx, timeout)`` blocks while the
    session waits for the user; it returns None on timeout or once the channel is closed and empty.
    """

    def __init__(self) -> None:
        self._q: "queue.Queue[Utterance]" = queue.Queue()
        self._closed = threading.Event()

    # --- producers -------------------------------------------------------------------------------
    def put(self, text: str, source: str = "user", **meta: Any) -> Utterance:
        """Queue ``text`` (stripped; empty lines are ignored and return an empty Utterance)."""
        u = Utterance(text.strip(), source, meta=meta)
        if u.text:
            self._q.put(u)
        return u

    def close(self) -> None:
        """No more words will come (end of input); a waiting :meth:`get` returns None."""
        self._closed.set()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def pending(self) -> int:
        return self._q.qsize()

    # --- consumer (the session) ------------------------------------------------------------------
    def poll(self, ctx: PollContext | None = None) -> Optional[Utterance]:
        """The next utterance if one is ready for ``ctx``, else None (non-blocking)."""
        try:
            return self._q.get_nowait()
        except queue.Empty:
            return None

    def get(self, ctx: PollContext | None = None, timeout: float | None = None) -> Optional[Utterance]:
        """Wait up to ``timeout`` s (None: until something comes or the channel is closed)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            u = self.poll(ctx)
            if u is not None:
                return u
            if self.closed:
                return None
            wait = 0.05 if deadline is None else min(0.05, deadline - time.monotonic())
            if wait <= 0:
                return None
            try:
                u = self._q.get(timeout=wait)
            except queue.Empty:
                continue
            return u


class GatedChannel(Channel):
    """Queued lines are released only while the session waits for the user (phase ``idle``: the plan is
    done, or the robot stopped or failed and waits for a correction).

    Used for piped, non-interactive input, where every line is already there before the robot moves:
    each line then applies to what the robot has just finished, as it would for a person who watches
    and types when the robot waits.
    """

    def poll(self, ctx: PollContext | None = None) -> Optional[Utterance]:
        if ctx is not None and ctx.phase != "idle":
            return None
        return super().poll(ctx)


@dataclass
class Cue:
    """One scripted utterance and the moment it is said.

    ``at``: 'moving' (while step ``step`` runs, from control tick ``tick`` on), 'before_step',
    'after_step' (after step ``step``; ``failed`` True / False restricts to a failed / successful
    outcome), 'idle' (when the session waits for the user) or 'any' (any moment the robot is not
    moving). ``step`` None matches any step; ``skill`` restricts to a skill name.
    """

    text: str
    at: str = "any"
    step: int | None = None
    tick: int = 0
    failed: bool | None = None
    skill: str | None = None

    def __post_init__(self) -> None:
        if self.at not in PHASES + ("any",):
            raise ValueError(f"cue {self.text!r}: 'at' must be one of {', '.join(PHASES + ('any',))}, got {self.at!r}")

    def matches(self, ctx: PollContext) -> bool:
        if self.at == "any":
            if ctx.phase == "moving":
                return False
        elif self.at != ctx.phase:
            return False
        if self.step is not None and ctx.step != self.step:
            return False
        if self.skill is not None and ctx.skill != self.skill:
            return False
        if ctx.phase == "moving" and ctx.tick < self.tick:
            return False
        if self.failed is not None and ctx.phase == "after_step":
            ok = bool(getattr(ctx.outcome, "success", False))
            if self.failed == ok:
                return False
        return True


class ScriptedChannel(Channel):
    """Says its :class:`Cue` list in order, each when its moment comes (tests, the demo, benchmarks).

    A cue waits until the ones before it were said. Lines put with :meth:`put` (if any) come first.
    ``said`` records ``(cue, ctx.phase, ctx.step, ctx.tick)`` for every cue released.
    """

    def __init__(self, cues: Iterable[Cue | str]) -> None:
        super().__init__()
        self.cues: list[Cue] = [c if isinstance(c, Cue) else Cue(str(c)) for c in cues]
        self._next = 0
        self.said: list[tuple[Cue, str, int, int]] = []
        self._lock = threading.Lock()

    @property
    def remaining(self) -> list[Cue]:
        return self.cues[self._next:]

    @property
    def exhausted(self) -> bool:
        return self._next >= len(self.cues) and self.pending() == 0

    def poll(self, ctx: PollContext | None = None) -> Optional[Utterance]:
        u = super().poll(ctx)
        if u is not None:
            return u
        with self._lock:
            if self._next >= len(self.cues) or ctx is None:
                return None
            cue = self.cues[self._next]
            if not cue.matches(ctx):
                return None
            self._next += 1
            self.said.append((cue, ctx.phase, ctx.step, ctx.tick))
        return Utterance(cue.text, source="script", meta={"cue": cue.at, "tick": ctx.tick})

    def get(self, ctx: PollContext | None = None, timeout: float | None = None) -> Optional[Utterance]:
        # A script never waits: what it has to say now is said at once, or not now.
        return self.poll(ctx)


class CallbackChannel(Channel):
    """Asks a function for words at every poll: ``fn(ctx) -> str | None`` (a simulated user, e.g. the
    teaching benchmark's adapter around ``sim.user.SimulatedUser``, or the demo's scripted person)."""

    def __init__(self, fn: Callable[[PollContext], Optional[str]], source: str = "sim_user") -> None:
        super().__init__()
        self._fn = fn
        self._source = source

    def poll(self, ctx: PollContext | None = None) -> Optional[Utterance]:
        u = super().poll(ctx)
        if u is not None or ctx is None:
            return u
        text = self._fn(ctx)
        return Utterance(text, self._source) if text else None

    def get(self, ctx: PollContext | None = None, timeout: float | None = None) -> Optional[Utterance]:
        return self.poll(ctx)

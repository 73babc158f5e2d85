"""Real-time pacing of a control loop: :class:`Pacer` waits until the next tick of a fixed period."""
from __future__ import annotations

import time
from typing import Callable, Optional


class Pacer:
    """Wait for ticks of ``1 / hz`` s on ``clock`` (s); a loop that fell more than a period behind restarts its
    schedule instead of bursting."""

    def __init__(self, hz: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.dt = 1.0 / hz
        self.clock = clock
        self.sleep = sleep
        self._next: Optional[float] = None

    def reset(self) -> None:
        """Forget the schedule (after a pause or a blocking move)."""
        self._next = None

    def wait(self) -> None:
        """Sleep until the next tick."""
        now = self.clock()
        if self._next is None or now - self._next > self.dt:
            self._next = now + self.dt
        if self._next > now:
            self.sleep(self._next - now)
        self._next += self.dt


__all__ = ["Pacer"]

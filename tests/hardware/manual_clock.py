"""A clock the arm adapters' tests advance by hand: ``clock()`` is the time in s, ``clock.sleep(s)`` moves it on
(and records the sleep) without waiting."""
from __future__ import annotations


class ManualClock:
    def __init__(self, t0: float = 0.0) -> None:
        self.t = t0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s

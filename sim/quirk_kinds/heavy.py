"""``heavy``: 1.5 kg at friction 0.5; the default 20 N grip loses it. Measured at 180 Hz: drops at ≤ 28 N, holds
at ≥ 32 N; ``min_force`` 35 N keeps a margin."""
from __future__ import annotations

from sim.quirk_kinds._grip import GripQuirk


class Heavy(GripQuirk):
    name = "heavy"
    sizes = ("large",)  # thresholds measured on 5 cm blocks
    friction = 0.5
    mass = 1.5
    min_force = 35.0
    order = 30

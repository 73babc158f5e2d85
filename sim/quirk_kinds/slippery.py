"""``slippery``: low friction (0.25, 0.6 kg); the default 20 N grip loses it at the lift or on the way. Measured at
180 Hz: drops at ≤ 24 N, holds at ≥ 28 N; ``min_force`` 32 N keeps a margin."""
from __future__ import annotations

from sim.quirk_kinds._grip import GripQuirk


class Slippery(GripQuirk):
    name = "slippery"
    sizes = ("medium",)  # thresholds measured on 4 cm blocks
    friction = 0.25
    mass = 0.6
    min_force = 32.0
    order = 20

"""Shared by the container kinds that ask for a spot in a container (``offcenter_drop``, ``placement_pref``)."""
from __future__ import annotations

import math
from typing import Any, Optional

from hardware.scene import Quirk
from sim.quirk_kinds.base import CONTAINER, QuirkKind, Violation


class SpotQuirk(QuirkKind):
    """The place ``offset`` must be within ``params["tol"]`` (m) of ``params["offset"]`` ([dx, dy] m from the
    container's centre, base frame)."""

    on = CONTAINER
    args = (("place", "offset"),)

    def _ok(self, p: dict[str, Any], a: dict[str, Any]) -> bool:
        off = a["offset"]
        return math.hypot(float(off[0]) - p["offset"][0], float(off[1]) - p["offset"][1]) <= p["tol"]

    def fixing_args(self, quirk: Quirk) -> tuple[str, dict[str, Any]]:
        p = quirk.params
        return "place", {"offset": [p["offset"][0], p["offset"][1], 0.0]}

    def wanted_offset(self, quirk: Quirk) -> Optional[list[float]]:
        return [float(v) for v in quirk.params.get("offset", [0.0, 0.0])][:2]

    def _violations(self, quirk: Quirk, a: dict[str, Any], tol: Any) -> list[Violation]:
        want = self.wanted_offset(quirk) or [0.0, 0.0]
        off = a["offset"]
        ex, ey = want[0] - float(off[0]), want[1] - float(off[1])
        if math.hypot(ex, ey) <= float(quirk.params.get("tol", 0.015)):
            return []
        ax, e = ("x", ex) if abs(ex) >= abs(ey) else ("y", ey)
        return [Violation("offset", "offset", e, ax, reason=f"{self.name} {quirk.object}: offset off by ({ex:+.3f}, {ey:+.3f})")]

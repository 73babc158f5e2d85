"""The oracle user (``robocorrect bench teach --oracle``): the simulated user as it was before the observing user,
kept for comparison. It reads the scene's hidden quirk ``params`` and speaks *before* a step runs with the exact
direction and size (each quirk kind says what it asks for: ``QuirkKind.violations``); after a failed step it names
the requirement the step still breaks, else what a person would say about the failure (first "try again").

Its words come from :class:`sim.speaker.Speaker`; by default it never errs and has no word noise.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from hardware.scene import Scene
from sim.phrases import PhraseBank
from sim.quirk_kinds import call_args, get_kind
from sim.quirk_kinds.base import Violation
from sim.speaker import Speaker, Utterance


@dataclass
class OracleConfig:
    """``patience``: corrections per task before giving up. ``wrong_direction_rate``, ``word_noise``, ``number_rate``:
    see :class:`sim.speaker.Speaker`. ``praise``: say a confirm phrase when a corrected step then works.
    ``z_window``: how far below a bevelled block's ``max_dz`` the user still accepts a pick (m); ``margin_dz``: how
    far below ``max_dz`` the grasp must be before the user is content (m)."""

    patience: int = 8
    wrong_direction_rate: float = 0.0
    word_noise: float = 0.0
    number_rate: float = 0.25
    praise: bool = True
    z_window: float = 0.009
    margin_dz: float = 0.002
    seed: int = 0

    def __post_init__(self) -> None:
        if self.patience < 1:
            raise ValueError(f"patience must be at least 1 correction, got {self.patience}")
        for name in ("wrong_direction_rate", "word_noise", "number_rate"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {v}")


def _args(call: dict[str, Any]) -> dict[str, Any]:
    return call_args(call["skill"], call.get("args", {}))


class OracleUser:
    """The person teaching one task who knows ``scene``'s hidden quirks and the ``goal`` ([(object, target)])."""

    def __init__(self, scene: Scene, goal: Sequence[tuple[str, str]], bank: PhraseBank | None = None,
                 config: OracleConfig | None = None, rng: random.Random | None = None) -> None:
        self.scene = scene
        self.goal = [(str(o), str(t)) for o, t in goal]
        for o, t in self.goal:
            scene.get(o)
            if t not in scene.names:
                from skills.schema import NAMED_SPOTS

                if t not in NAMED_SPOTS:
                    scene.get(t)
        self.bank = bank or PhraseBank.load()
        self.config = config or OracleConfig()
        self.rng = rng or random.Random(self.config.seed)
        self.speaker = Speaker(self.bank, self.rng, self.config.number_rate, self.config.wrong_direction_rate, self.config.word_noise)
        self.corrections: list[Utterance] = []
        self.said: list[Utterance] = []
        self.gave_up = False
        self._corrected_steps: set[int] = set()
        self._unexplained: dict[int, int] = {}
        self._praised_steps: set[int] = set()

    @property
    def n_corrections(self) -> int:
        return len(self.corrections)

    # --- what is required ----------------------------------------------------------------------
    def _goal_for_step(self, plan: Sequence[dict[str, Any]], i: int) -> Optional[tuple[str, str]]:
        skill = plan[i]["skill"]
        if skill not in ("pick", "place"):
            return None
        k = sum(1 for s in plan[:i] if s["skill"] == skill)
        return self.goal[k] if k < len(self.goal) else None

    def held_object(self, plan: Sequence[dict[str, Any]], i: int) -> Optional[str]:
        for s in reversed(plan[:i]):
            if s["skill"] == "pick":
                return s.get("args", {}).get("object")
        return None

    def violations(self, plan: Sequence[dict[str, Any]], i: int) -> list[Violation]:
        """What is wrong with step ``i`` of ``plan`` by what the oracle knows, most important first."""
        call = plan[i]
        skill, args = call["skill"], call.get("args", {})
        g = self._goal_for_step(plan, i)
        if skill == "pick" and g and args.get("object") != g[0]:
            return [Violation("retarget_object", "object", value=g[0], reason=f"picks {args.get('object')}, wants {g[0]}")]
        if skill == "place" and g and args.get("target") != g[1]:
            return [Violation("retarget_target", "target", value=g[1], reason=f"places on {args.get('target')}, wants {g[1]}")]
        out: list[Violation] = []
        name = args.get("object") if skill == "pick" else args.get("target")
        for q in self.scene.quirks_for(name) if name in self.scene.names else []:
            out += get_kind(q.kind).violations(q, skill, args, self.config)
        if skill == "place":
            held = self.held_object(plan, i)
            for q in self.scene.quirks_for(held) if held else []:
                out += get_kind(q.kind).carry_violations(q, _args(call))
        return out

    def missing_pairs(self, plan: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
        n = min(sum(1 for s in plan if s["skill"] == "pick"), sum(1 for s in plan if s["skill"] == "place"))
        return self.goal[n:]

    def wanted_offset(self, target: Optional[str]) -> list[float]:
        """Where, relative to ``target``'s centre, things should land ([dx, dy] m; the centre by default)."""
        if target and target in self.scene.names:
            for q in self.scene.quirks_for(target):
                w = get_kind(q.kind).wanted_offset(q)
                if w is not None:
                    return w
        return [0.0, 0.0]

    # --- speaking ------------------------------------------------------------------------------
    def before_step(self, plan: Sequence[dict[str, Any]], i: int) -> Optional[Utterance]:
        """What the oracle says while step ``i`` is about to run; None when it looks right."""
        if self.gave_up:
            return None
        vs = self.violations(plan, i)
        if not vs and i == 0 and self.bank.has("add_step"):
            miss = self.missing_pairs(plan)
            if miss:
                vs = [Violation("add_step", "plan", value=f"{miss[0][0]}|{miss[0][1]}", reason="plan misses a goal pair")]
        return self._say(vs[0], i, after_outcome=False) if vs else None

    def after_step(self, plan: Sequence[dict[str, Any]], i: int, outcome: Any, world: Any = None) -> Optional[Utterance]:
        """What the oracle says after step ``i``'s outcome: praise once after a corrected step works; after a
        failure, the known requirement it breaks or what a person says about that failure."""
        if self.gave_up:
            return None
        if getattr(outcome, "success", False):
            if self.config.praise and i in self._corrected_steps and i not in self._praised_steps and self.bank.has("confirm"):
                self._praised_steps.add(i)
                u = self.speaker.say(Violation("confirm", "plan"), i, after_outcome=True)
                self.said.append(u)
                return u
            return None
        v = self._failure_violation(plan, i, outcome)
        return None if v is None else self._say(v, i, after_outcome=True)

    def _failure_violation(self, plan: Sequence[dict[str, Any]], i: int, outcome: Any) -> Optional[Violation]:
        known = self.violations(plan, i)
        if known:
            return known[0]
        call = plan[i]
        a = _args(call)
        code = getattr(outcome, "failure", None)
        self._unexplained[i] = self._unexplained.get(i, 0) + 1
        if call["skill"] == "pick" and code in ("missed_grasp", "slipped") and self._unexplained[i] == 1:
            return Violation("retry", "plan", reason=f"{code} although the arguments look right")
        if code == "missed_grasp":
            if self.scene.quirks_for(a.get("object", "")):
                return Violation("retry", "plan", reason="missed the grasp of a quirky block whose arguments look right")
            return Violation("offset", "offset", -0.01, "z", reason="missed the grasp")
        if code in ("slipped", "dropped"):
            if call["skill"] == "pick" and float(a.get("force", 20.0)) < 60:
                return Violation("force", "force", 10.0, reason=code)
            return Violation("speed", "speed", -0.3, reason=code)
        if code in ("knocked_over", "collision"):
            return Violation("height", "height", 0.05, reason=code)
        if code == "missed_target":
            err = getattr(outcome, "error_xy", None)
            if err is not None:
                want = self.wanted_offset(a.get("target"))
                ex, ey = want[0] - float(err[0]), want[1] - float(err[1])
                ax, e = ("x", ex) if abs(ex) >= abs(ey) else ("y", ey)
                if abs(e) > 0.003:
                    return Violation("offset", "offset", e, ax, reason=f"landed {err[0]:+.3f}, {err[1]:+.3f} m from the centre")
        return None

    def _say(self, v: Violation, i: int, after_outcome: bool) -> Optional[Utterance]:
        if self.n_corrections >= self.config.patience:
            self.gave_up = True
            return None
        u = self.speaker.say(v, i, after_outcome)
        self.corrections.append(u)
        self.said.append(u)
        self._corrected_steps.add(i)
        return u

    def stop(self, i: int) -> Optional[Utterance]:
        """Say "stop"."""
        return self._say(Violation("stop", "plan", reason="stop"), i, after_outcome=False)


def landing_error(world: Any, obj: str, target: str, want: list[float]) -> Optional[tuple[float, float]]:
    """(wanted - actual) xy of ``obj`` relative to ``target``'s centre (m, base frame), or None if unknown."""
    try:
        (ox, oy, _), _ = world.pose(obj)
        (tx, ty, _), _ = world.pose(target)
    except Exception:  # noqa: BLE001 - an object the world does not know
        return None
    return want[0] - (ox - tx), want[1] - (oy - ty)


__all__ = ["OracleConfig", "OracleUser", "landing_error"]

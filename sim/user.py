"""A simulated person who teaches the robot by talking, for the teaching benchmark: it sees what a person at
the table sees and nothing more.

Its only inputs are frozen :class:`sim.observe.Observation` values (where each object rests, what the gripper
holds, where a running pick or place is heading, what visibly went wrong), its goal (which object it wants
where) and its own wishes (a spot it wants things at in a container, blocks in a container squared up). It is never given the scene's quirks,
the world, or the session, so it cannot read friction, mass, pocket offsets or thresholds. It learns about a
physical quirk the way a person does: from what goes wrong.

When it speaks:

- **while a step moves** (:meth:`SimulatedUser.watch`): when it sees the gripper heading for the wrong object
  or container ("no, take the red one"), or, in a place, heading away from where it wants things (its wish, or a
  spot it saw work earlier in this task), or about to put a block down turned off the way it wants blocks in that
  container ("turn it left a little"); once per motion. After it gave a direction backwards and the robot
  followed, it says "no, the other way".
- **after a step** (:meth:`SimulatedUser.react`): after a failure, what a person says about it: sometimes vague
  ("you dropped it", "that's not right", "try again with a better grip"), else its best guess of what to change
  (a grip that slipped: harder; a grasp that popped out: lower; something knocked over: higher; a block resting
  on the rim or landing off: toward where it should go, trying another side of the container when it does not
  know where things go in). After a place that worked but left the block off its wished spot or turned off the
  way it wants, which way to move or turn it. After a corrected step then works, praise now and then; otherwise silence.
- **when the robot is done or waits** (:meth:`SimulatedUser.at_end`): a goal object not where it should be
  ("also put the X in the Y"), a wish not met.
- When the robot did not act on a correction (it asked a question or changed nothing:
  :meth:`SimulatedUser.heard`), it restates it in other words, once.

Rates (:class:`UserConfig`, echoed in the benchmark's JSON): wrong directions, vague phrases, spoken numbers,
word noise, praise. Frames: left is +y, forward is +x, up is +z, metres; a positive yaw turns counter-clockwise
seen from above, radians (``shared/spec/corrections.md``).
"""
from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from typing import Optional, Sequence

from sim.noise import add_word_noise  # noqa: F401 - re-exported for callers of the old module
from hardware.scene import BLOCK_SIZES
from sim.observe import AWAY, IN, NEAR, ON, ON_RIM, Observation, Seen
from sim.phrases import DEFAULT_PHRASES, PhraseBank, PhraseBankError  # noqa: F401 - re-exported
from sim.quirk_kinds.base import Violation
from sim.speaker import Speaker, Utterance, magnitude_word, spoken_amount  # noqa: F401 - re-exported

SIDES = ((1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0))  # +x, -x, +y, -y: sides of a container to try
SIDE_AIM = 0.035  # m from a bowl's centre where the user aims when trying one side (about half its inner radius)
BESIDE_GAP = 0.01  # m between two blocks when the user wants one put beside another that already takes the spot
PICK_FIXES = {  # what a person tries, in turn, after a pick fails this way
    "missed_grasp": ("lower", "lower", "harder", "lower", "harder"),
    "slipped": ("harder", "harder", "lower", "harder", "lower"),
    "dropped": ("harder", "harder", "lower", "harder", "lower"),
}


def spot_beside(aim: tuple[float, float], occupant: tuple[float, float], need: float) -> tuple[float, float]:
    """Where a person wants a block put when another block (centre ``occupant``, [dx, dy] m from the container's
    centre) rests within ``need`` m (half their sizes plus a gap) of the spot ``aim``: ``need`` from the occupant, on
    the aim's side of it, else on the side toward the container's centre; ``aim`` itself when it is free."""
    ax, ay = aim
    ox, oy = occupant
    dx, dy = ax - ox, ay - oy
    d = math.hypot(dx, dy)
    if d >= need:
        return ax, ay
    if d < 1e-3:
        dx, dy = -ox, -oy
        d = math.hypot(dx, dy)
        if d < 1e-3:
            dx, dy, d = 0.0, 1.0, 1.0
    return ox + dx / d * need, oy + dy / d * need


_QUOTED = "'[^']+'|\"[^\"]+\""  # 'aft' or "didn't"
_UNKNOWN = re.compile(rf"(?:do not|don't) know the words? ((?:(?:{_QUOTED})(?:,\s*|\s+and\s+)?)+)", re.I)


def unknown_words_named(question: Optional[str]) -> frozenset[str]:
    """The words a robot's question says it does not know ("I don't know the words 'aft', 'skosh'; ..."), lower case."""
    m = _UNKNOWN.search(question or "")
    words = (w.strip("'\"").lower() for w in re.findall(_QUOTED, m.group(1))) if m else ()
    return frozenset(w[:-2] if w.endswith("n't") else w for w in words)  # "didn't": the letter run "didn" (phrases.words_of)


@dataclass
class UserConfig:
    """How the simulated user behaves (probabilities in [0, 1]).

    ``patience``: corrections per task before it gives up. ``wrong_direction_rate``: a directional correction
    names the opposite direction (then "no, the other way"). ``vague_rate``: after a failure it only says that
    something is wrong. ``word_noise``: per-word speech-recogniser noise. ``number_rate``: it says "3 cm" instead of
    a magnitude word when the phrase bank has number phrases. ``praise_rate``: praise after a corrected step works.
    ``restate``: restate a correction the robot did not act on. ``landing_slack``: m beyond a wish's tolerance the
    user still accepts (a dropped block bounces).
    """

    patience: int = 8
    wrong_direction_rate: float = 0.1
    vague_rate: float = 0.25
    word_noise: float = 0.05
    number_rate: float = 0.25
    praise_rate: float = 0.5
    restate: bool = True
    landing_slack: float = 0.015
    seed: int = 0

    def __post_init__(self) -> None:
        if self.patience < 1:
            raise ValueError(f"patience must be at least 1 correction, got {self.patience}")
        for name in ("wrong_direction_rate", "vague_rate", "word_noise", "number_rate", "praise_rate"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {v}")


@dataclass(frozen=True)
class Wish:
    """The user's own preference: things put in ``container`` should rest near ``offset`` ([dx, dy] m from its
    centre, base frame), within ``tol`` m."""

    container: str
    offset: tuple[float, float]
    tol: float


@dataclass(frozen=True)
class YawWish:
    """The user's own preference: blocks put in ``container`` should rest turned by ``yaw`` (rad, base frame, modulo
    a quarter turn: a cube looks the same every quarter turn), within ``tol`` rad."""

    container: str
    yaw: float
    tol: float

    def error(self, yaw: float) -> float:
        """The turn (rad, in [-pi/4, pi/4]) that brings a block turned by ``yaw`` to the wished turn."""
        return math.remainder(self.yaw - yaw, math.pi / 2)


class SimulatedUser:
    """The person teaching one task. ``seen``: the scene as it looks (``sim.observe.visible_scene``); ``goal``:
    ``[(object, target)]`` it wants; ``wishes``: its placement wishes; ``yaw_wishes``: how it wants blocks turned in
    some containers. Create one per task."""

    def __init__(self, seen: Sequence[Seen], goal: Sequence[tuple[str, str]], wishes: Sequence[Wish] = (),
                 bank: PhraseBank | None = None, config: UserConfig | None = None, rng: random.Random | None = None,
                 yaw_wishes: Sequence[YawWish] = ()) -> None:
        self.seen = {o.name: o for o in seen}
        self.goal = [(str(o), str(t)) for o, t in goal]
        for o, _t in self.goal:
            if o not in self.seen:
                raise PhraseBankError(f"there is no {o} on the table; I see: {', '.join(self.seen)}")
        self.wishes = {w.container: w for w in wishes}
        self.yaw_wishes = {w.container: w for w in yaw_wishes}
        self.bank = bank or PhraseBank.load()
        self.config = config or UserConfig()
        self.rng = rng or random.Random(self.config.seed)
        c = self.config
        self.speaker = Speaker(self.bank, self.rng, c.number_rate, c.wrong_direction_rate, c.word_noise)
        self.corrections: list[Utterance] = []
        self.said: list[Utterance] = []
        self.gave_up = False
        self._sides = list(SIDES)
        self.rng.shuffle(self._sides)
        self._tried: dict[str, list[tuple[float, float]]] = {}  # container -> sides tried that did not work
        self._trying: dict[str, tuple[float, float]] = {}  # container -> side being tried now
        self._spots: dict[str, tuple[float, float]] = {}  # container -> an offset seen to work in this task
        self._fails: dict[str, int] = {}  # pick object -> failed picks seen
        self._corrected_steps: set[int] = set()
        self._spoke_in_motion = False
        self._backwards: Optional[Utterance] = None
        self._restate: Optional[Utterance] = None
        self._restate_avoid: frozenset[str] = frozenset()  # words the robot said it does not know (avoided in the restatement)
        self._last_vague = False

    @property
    def n_corrections(self) -> int:
        return len(self.corrections)

    # --- what the user wants ---------------------------------------------------------------------
    def target_of(self, obj: Optional[str]) -> Optional[str]:
        return next((t for o, t in self.goal if o == obj), None)

    def _done(self, obs: Observation, obj: str, tgt: str) -> bool:
        return obs.relation(obj, tgt) in (IN, ON) and obs.held != obj

    def _open(self, obs: Observation) -> list[tuple[str, str]]:
        """Goal pairs not achieved yet."""
        return [(o, t) for o, t in self.goal if not self._done(obs, o, t)]

    def _aim(self, container: str) -> tuple[float, float]:
        """Where the user wants things in ``container`` ([dx, dy] m): its wish, a spot seen to work, the side it is
        trying, or the centre."""
        if container in self.wishes:
            return self.wishes[container].offset
        if container in self._spots:
            return self._spots[container]
        if container in self._trying:
            sx, sy = self._trying[container]
            return sx * SIDE_AIM, sy * SIDE_AIM
        return 0.0, 0.0

    def _occupants(self, obs: Observation, container: str, obj: Optional[str]) -> list[tuple[float, float, float]]:
        """Blocks other than ``obj`` resting in or on ``container``: ([dx, dy] m from its centre, half their size m)."""
        out = []
        for o in obs.objects:
            if o.kind != "block" or o.name == obj or obs.held == o.name or obs.relation(o.name, container) not in (IN, ON):
                continue
            off = obs.offset_from(o.name, container)
            if off is not None:
                out.append((off[0], off[1], BLOCK_SIZES.get(o.size, 0.04) / 2))
        return out

    def _free_aim(self, obs: Observation, container: str, obj: Optional[str]) -> tuple[float, float]:
        """Where the user wants ``obj`` in ``container`` given what already rests there: :meth:`_aim`, or, when a block
        already put there takes that spot, the spot beside it (a person does not ask for two blocks in one place):
        on the aim's side of it, else on the side toward the container's centre."""
        ax, ay = self._aim(container)
        seen = obs.get(obj) if obj else None
        half = BLOCK_SIZES.get(seen.size, 0.04) / 2 if seen is not None else 0.02
        for ox, oy, oh in self._occupants(obs, container, obj):
            ax, ay = spot_beside((ax, ay), (ox, oy), oh + half + BESIDE_GAP)
        return ax, ay

    def _tol(self, container: str) -> float:
        return self.wishes[container].tol + self.config.landing_slack if container in self.wishes else 0.02

    def _yaw_violation(self, container: str, yaw: Optional[float], why: str) -> Optional[Violation]:
        """The turn wanted for a block turned by ``yaw`` in ``container`` (None: no wish there, or turned as wished)."""
        w = self.yaw_wishes.get(container)
        if w is None or yaw is None:
            return None
        e = w.error(yaw)
        return Violation("yaw", "yaw", e, reason=why) if abs(e) > w.tol else None

    @staticmethod
    def _offset_violation(ex: float, ey: float, why: str) -> Violation:
        ax, e = ("x", ex) if abs(ex) >= abs(ey) else ("y", ey)
        return Violation("offset", "offset", e, ax, reason=why)

    # --- speaking ----------------------------------------------------------------------------------
    def _say(self, v: Violation, step: int, after: bool, allow_wrong: bool = True) -> Optional[Utterance]:
        if self.gave_up:
            return None
        if self.n_corrections >= self.config.patience:
            self.gave_up = True
            return None
        u = self.speaker.say(v, step, after, allow_wrong=allow_wrong)
        self.corrections.append(u)
        self.said.append(u)
        self._corrected_steps.add(step)
        self._last_vague = v.intent.startswith("vague")
        return u

    def _vague(self, intent: str, step: int, why: str) -> Optional[Utterance]:
        """A vague phrase now and then (never twice in a row): the user says that, not what, is wrong."""
        if not self._last_vague and self.bank.has(intent) and self.rng.random() < self.config.vague_rate:
            return self._say(Violation(intent, "plan", reason=why), step, True)
        return None

    def heard(self, u: Utterance, changed: bool, asked: bool, question: Optional[str] = None,
              moved: Optional[int] = None) -> None:
        """What the robot did about ``u``: ``changed`` the plan or not, ``asked`` a question (``question``: its words),
        and ``moved``: which way it changed the argument ``u`` was about (+1 / -1, as the robot announces it:
        "force 20 → 30"; None when it did not say or changed something else). A correction it did not act on is
        restated next time, without the words the robot said it does not know when the bank has a phrase without
        them (as a person told "I don't know the word 'port'" would); a backwards direction it followed is taken
        back next time (not when the robot went the way the user really wanted)."""
        wants_change = u.intent in ("offset", "yaw", "force", "speed", "height", "retarget_object", "retarget_target", "add_step", "other_way")
        if (asked or not changed) and wants_change and self.config.restate and not u.restated:
            self._restate = u
            self._restate_avoid = unknown_words_named(question)
        elif changed and u.wrong_direction and not (moved is not None and moved == -u.sign):
            self._backwards = u

    def _pending(self, step_hint: int) -> Optional[Utterance]:
        """A restatement or a "no, the other way" that is due."""
        if self._backwards is not None:
            b, self._backwards = self._backwards, None
            if self.bank.has("other_way"):
                return self._say(Violation("other_way", b.arg or "offset", -b.sign * max(b.amount_m, 1e-3), b.axis,
                                           reason="took back a direction said backwards"), b.step, True, allow_wrong=False)
        if self._restate is not None:
            r, self._restate = self._restate, None
            if self.gave_up or self.n_corrections >= self.config.patience:
                return self._say(Violation("stop", "plan"), r.step, True)  # sets gave_up
            v = Violation(r.intent, r.arg or "plan", (r.sign or 1) * max(r.amount_m, 1e-3), r.axis, r.value, reason="restated")
            u = self.speaker.say(v, r.step, r.after_outcome, allow_wrong=False, avoid=r.clean_text, avoid_words=self._restate_avoid)
            if self.bank.has("restate") and self.rng.random() < 0.5:
                pre = self.speaker.phrase("restate")
                u.clean_text = f"{pre} {u.clean_text}"
                u.text = self.speaker.noisy(u.clean_text)
            u.restated = True
            self.corrections.append(u)
            self.said.append(u)
            return u
        return None

    def watch(self, obs: Observation) -> Optional[Utterance]:
        """While step ``obs.step`` moves: speak when the gripper visibly heads for the wrong object, container or
        spot (once per motion), or take back a direction said backwards."""
        if self.gave_up:
            return None
        p = self._pending(obs.step)
        if p is not None or self._spoke_in_motion:
            return p
        u = self._watch(obs)
        if u is not None:
            self._spoke_in_motion = True
        return u

    def _watch(self, obs: Observation) -> Optional[Utterance]:
        open_pairs = self._open(obs)
        if obs.skill == "pick" and obs.heading_to is not None and open_pairs:
            if obs.heading_to not in [o for o, _ in open_pairs]:
                want = open_pairs[0][0]
                return self._say(Violation("retarget_object", "object", value=want, reason=f"heads for {obs.heading_to}, wants {want}"),
                                 obs.step, False)
        if obs.skill == "place" and obs.heading_to is not None and obs.held:
            tgt = self.target_of(obs.held)
            if tgt is not None and obs.heading_to != tgt:
                return self._say(Violation("retarget_target", "target", value=tgt, reason=f"carries {obs.held} to {obs.heading_to}"),
                                 obs.step, False)
            if tgt is not None and obs.heading is not None and (tgt in self.wishes or tgt in self._spots):
                c = obs.get(tgt)
                if c is not None:
                    ax, ay = self._free_aim(obs, tgt, obs.held)
                    ex, ey = ax - (obs.heading[0] - c.position[0]), ay - (obs.heading[1] - c.position[1])
                    if math.hypot(ex, ey) > self._tol(tgt):
                        return self._say(self._offset_violation(ex, ey, f"heading off the spot wanted in {tgt}"), obs.step, False)
            if tgt is not None and obs.heading_to == tgt:
                v = self._yaw_violation(tgt, obs.heading_yaw, f"about to put {obs.held} in {tgt} turned off square")
                if v is not None:
                    return self._say(v, obs.step, False)
        return None

    def react(self, obs: Observation) -> Optional[Utterance]:
        """After step ``obs.step`` ran (``obs.step_ok``, ``obs.event``): see the module docstring."""
        self._spoke_in_motion = False
        held_before = obs.object  # what the step picked, or carried to its place
        if self.gave_up:
            return None
        p = self._pending(obs.step)
        if p is not None:
            return p
        if obs.step_ok:
            return self._after_success(obs, held_before)
        if obs.event == "stopped":
            return None
        if obs.event == "knocked_over":
            return self._vague("vague_knock", obs.step, "knocked something over") or self._say(
                Violation("height", "height", 0.05, reason="knocked something over"), obs.step, True)
        if obs.skill == "pick" or (obs.event == "dropped" and held_before and obs.relation(held_before, self.target_of(held_before) or "") in (NEAR, AWAY)):
            return self._after_failed_pick(obs, held_before)
        if obs.skill == "place" and held_before:
            return self._after_failed_place(obs, held_before)
        return None

    def _after_success(self, obs: Observation, held_before: Optional[str]) -> Optional[Utterance]:
        if obs.skill == "place" and held_before:
            tgt = self.target_of(held_before)
            if tgt and self._done(obs, held_before, tgt):
                off = obs.offset_from(held_before, tgt)
                if off is not None and tgt in self.wishes:
                    ax, ay = self._free_aim(obs, tgt, held_before)
                    ex, ey = ax - off[0], ay - off[1]
                    if math.hypot(ex, ey) > self._tol(tgt):
                        return self._say(self._offset_violation(ex, ey, f"landed off the spot wanted in {tgt}"), obs.step, True)
                if off is not None and tgt in self._trying:
                    # a spot that worked after things did not go in elsewhere: the user aims there again in this
                    # task; a container that gave no trouble gets no such spot (the next block need not go there)
                    self._spots[tgt] = off
                seen = obs.get(held_before)
                v = self._yaw_violation(tgt, seen.yaw if seen is not None else None, f"{held_before} rests turned off square")
                if v is not None:
                    return self._say(v, obs.step, True)
        if obs.step in self._corrected_steps and self.bank.has("confirm") and self.rng.random() < self.config.praise_rate:
            self._corrected_steps.discard(obs.step)
            u = self.speaker.say(Violation("confirm", "plan"), obs.step, True)
            self.said.append(u)
            return u
        return None

    def _after_failed_pick(self, obs: Observation, obj: Optional[str]) -> Optional[Utterance]:
        """A pick that failed, or a block dropped on the way (the correction then refers to its pick)."""
        key = obj or "?"
        n = self._fails.get(key, 0)
        self._fails[key] = n + 1
        step = obs.picked_at if obs.picked_at is not None else obs.step
        v = self._vague("vague_pick", step, f"pick failed ({obs.event})")
        if v is not None:
            return v
        fixes = PICK_FIXES.get(obs.event or "", PICK_FIXES["slipped"])
        fix = fixes[min(n, len(fixes) - 1)] if obs.skill == "pick" else "harder"
        if fix == "lower":
            return self._say(Violation("offset", "offset", -0.008, "z", reason=f"{obs.event}: grab it lower"), step, True)
        return self._say(Violation("force", "force", 10.0, reason=f"{obs.event}: grip harder"), step, True)

    def _after_failed_place(self, obs: Observation, obj: str) -> Optional[Utterance]:
        tgt = self.target_of(obj)
        if tgt is None:
            return None
        rel = obs.relation(obj, tgt)
        off = obs.offset_from(obj, tgt)
        if rel == AWAY and obs.held == obj and self.bank.has("retarget_target"):
            # the robot still holds it, nowhere near where it should go: it did not go there at all; say where it goes
            return self._say(Violation("retarget_target", "target", value=tgt, reason=f"{obj} is still held, away from {tgt}"),
                             obs.step, True)
        on_block = off is not None and any(math.hypot(off[0] - ox, off[1] - oy) < oh + 0.005
                                           for ox, oy, oh in self._occupants(obs, tgt, obj))
        if rel == ON_RIM and not on_block and tgt not in self.wishes and tgt not in self._spots:
            # it does not go in where it was put: try another side (the user cannot see where things go in)
            if tgt in self._trying:
                self._tried.setdefault(tgt, []).append(self._trying[tgt])
            left = [s for s in self._sides if s not in self._tried.get(tgt, [])] or list(self._sides)
            self._trying[tgt] = left[0]
        v = self._vague("vague_place", obs.step, f"{obj} is {rel} the {tgt}")
        if v is not None:
            return v
        if off is None:
            return None
        ax, ay = self._free_aim(obs, tgt, obj)
        ex, ey = ax - off[0], ay - off[1]
        if math.hypot(ex, ey) < 0.004:
            return self._say(Violation("retry", "plan", reason="landed where wanted but did not stay"), obs.step, True)
        return self._say(self._offset_violation(ex, ey, f"{obj} is {rel} the {tgt} at {off[0]:+.3f}, {off[1]:+.3f}"), obs.step, True)

    def at_end(self, obs: Observation, place_step: dict[str, int]) -> Optional[Utterance]:
        """The robot is done or waits (``obs.phase == 'idle'``): a restatement that is due, a goal pair not achieved
        (``add_step`` when the plan has no place for it), or a wish not met. ``place_step``: target -> the plan's last
        place into it (the step a correction refers to)."""
        if self.gave_up:
            return None
        p = self._pending(obs.step)
        if p is not None:
            return p
        if not obs.plan_done:
            return None
        for o, t in self._open(obs):
            if t not in place_step or obs.relation(o, t) in (NEAR, AWAY):
                if not self.bank.has("add_step"):
                    return None
                return self._say(Violation("add_step", "plan", value=f"{o}|{t}", reason=f"{o} is not in the {t}"), obs.step, True)
        for o, t in self.goal:
            if t in self.wishes and t in place_step:
                off = obs.offset_from(o, t)
                if off is None:
                    continue
                # the wished spot itself, or beside a block that took it (whichever ``o`` is nearer: either may have come first)
                ex, ey = min(((ax - off[0], ay - off[1]) for ax, ay in (self._aim(t), self._free_aim(obs, t, o))),
                             key=lambda e: math.hypot(*e))
                if math.hypot(ex, ey) > self._tol(t):
                    return self._say(self._offset_violation(ex, ey, f"{o} rests off the wanted spot"), place_step[t], True)
        for o, t in self.goal:
            if t in self.yaw_wishes and t in place_step and obs.relation(o, t) in (IN, ON):
                seen = obs.get(o)
                v = self._yaw_violation(t, seen.yaw if seen is not None else None, f"{o} rests turned off square")
                if v is not None:
                    return self._say(v, place_step[t], True)
        return None


__all__ = ["SimulatedUser", "spot_beside", "BESIDE_GAP", "UserConfig", "Wish", "YawWish", "Utterance", "PhraseBank", "PhraseBankError", "DEFAULT_PHRASES",
           "magnitude_word", "spoken_amount", "add_word_noise"]

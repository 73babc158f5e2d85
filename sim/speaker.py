"""Turning what a simulated user wants into words: one phrase from a phrase bank, magnitude words or a spoken
number, an occasional backwards direction, and speech-recogniser noise. Shared by the observing user
(``sim.user``) and the oracle user (``sim.oracle``).

Magnitude words follow the size of the error along the corrected axis: small < 2 cm, medium < 6 cm, large
otherwise (``shared/spec/corrections.md``); turns (yaw): small < 17 degrees, medium < 42, large otherwise, the
bounds hindsight labels use (``agent.learn.hindsight``). Frames: left is +y, forward is +x, up is +z, metres;
a positive yaw turns counter-clockwise seen from above.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Optional

from sim.noise import add_word_noise
from sim.phrases import PhraseBank, PhraseBankError
from sim.quirk_kinds.base import Violation

SMALL_MAX = 0.02  # m: errors below are "a bit"
MEDIUM_MAX = 0.06  # m: errors below are a bare direction; above, "a lot"
NOT_COUNTED = ("confirm",)  # praise is not a correction
DIRECTIONAL = ("offset", "force", "speed", "height", "yaw")
SMALL_MAX_RAD = math.radians(17)  # rad: turns below are "a bit"
MEDIUM_MAX_RAD = math.radians(42)  # rad: turns below are a bare direction; above, "a lot"


def magnitude_word(error_m: float) -> str:
    """Magnitude word for an error of ``error_m`` metres: small < 2 cm, medium < 6 cm, large otherwise."""
    e = abs(error_m)
    return "small" if e < SMALL_MAX else "medium" if e < MEDIUM_MAX else "large"


def yaw_magnitude_word(error_rad: float) -> str:
    """Magnitude word for a turn of ``error_rad``: small < 17 degrees, medium < 42, large otherwise."""
    e = abs(error_rad)
    return "small" if e < SMALL_MAX_RAD else "medium" if e < MEDIUM_MAX_RAD else "large"


def spoken_amount(error_m: float) -> str:
    """A distance as a person would say it: '5 mm' under a centimetre, else whole centimetres ('3 cm')."""
    e = abs(error_m)
    if e < 0.0095:
        return f"{max(1, int(round(e * 1000)))} mm"
    return f"{int(round(e * 100))} cm"


@dataclass
class Utterance:
    """One thing the user says, with the structured intent behind it (for scoring, never shown to the policy).

    ``text``: what is said (after word noise); ``clean_text``: before noise. ``intent``: offset, yaw, speed, force,
    height, retarget_object, retarget_target, add_step, stop, retry, confirm, other_way, or a vague intent
    (vague_pick, vague_place, vague_knock: no direction said). ``step``: the plan step it refers to. ``arg``: the
    argument the user wants changed (or None). ``axis``: 'x'|'y'|'z' for offsets. ``sign``: +1/-1, the direction
    ASKED for (after a deliberate wrong-direction slip too), 0 when none. ``magnitude``: small|medium|large|number.
    ``amount_m``: the error the user wanted fixed (m, or N / scale for scalars); ``said_m``: the number said.
    ``value``: object / target name for retargets. ``wrong_direction``: the user said the opposite on purpose.
    ``after_outcome``: said after seeing an outcome (else while the arm moves or before it starts).
    ``restated``: a restatement of the previous correction, which the robot did not act on.
    """

    text: str
    intent: str
    step: int
    arg: Optional[str] = None
    axis: Optional[str] = None
    sign: int = 0
    magnitude: Optional[str] = None
    amount_m: float = 0.0
    said_m: Optional[float] = None
    value: Optional[str] = None
    clean_text: str = ""
    wrong_direction: bool = False
    after_outcome: bool = False
    reason: str = ""
    restated: bool = False

    @property
    def counts(self) -> bool:
        """Whether this is a correction (praise is not)."""
        return self.intent not in NOT_COUNTED

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Speaker:
    """Words for a :class:`Violation`: ``bank`` phrases, ``number_rate`` (say "3 cm" when the bank has number
    phrases), ``wrong_direction_rate`` (name the opposite direction), ``word_noise`` (per-word ASR noise rate)."""

    def __init__(self, bank: PhraseBank, rng: random.Random, number_rate: float = 0.25, wrong_direction_rate: float = 0.0,
                 word_noise: float = 0.0) -> None:
        self.bank, self.rng = bank, rng
        self.number_rate, self.wrong_direction_rate, self.word_noise = number_rate, wrong_direction_rate, word_noise

    def noisy(self, text: str) -> str:
        return add_word_noise(text, self.word_noise, self.rng)

    def phrase(self, intent: str, key: Optional[str] = None, magnitude: Optional[str] = None, avoid: Optional[str] = None,
               default: str = "", avoid_words: frozenset[str] = frozenset(), **fill: str) -> str:
        if not self.bank.has(intent, key) and default:
            return default
        return self.bank.choose(self.rng, intent, key, magnitude, avoid=avoid, avoid_words=avoid_words, **fill)

    def say(self, v: Violation, step: int, after_outcome: bool, allow_wrong: bool = True, avoid: Optional[str] = None,
            avoid_words: frozenset[str] = frozenset()) -> Utterance:
        """The utterance for ``v`` (a wanted change); raises PhraseBankError when the bank lacks a needed phrase.
        ``avoid``: a phrase not to repeat; ``avoid_words``: words not to use when the bank has a phrase without them
        (the robot said it does not know them)."""
        rng = self.rng
        wrong, sign, magnitude, said = False, 0, None, None
        axis = v.axis
        if v.intent in DIRECTIONAL + ("other_way",):
            sign = 1 if v.error > 0 else -1
            if allow_wrong and v.intent != "other_way" and rng.random() < self.wrong_direction_rate:
                sign, wrong = -sign, True
        if v.intent == "offset":
            assert axis is not None
            d = ("+" if sign > 0 else "-") + axis
            if d not in self.bank.data["offset"]:
                raise PhraseBankError(f"phrase bank {self.bank.source} has no offset.{d} phrases")
            numbers_ok = not avoid_words or self.bank.free_of("offset_number", d, avoid_words)
            if self.bank.has("offset_number", d) and rng.random() < self.number_rate and numbers_ok:
                amount = spoken_amount(v.error)
                magnitude = "number"
                said = float(amount.split()[0]) / (1000 if amount.endswith("mm") else 100)
                text = self.phrase("offset_number", d, amount=amount, avoid=avoid, avoid_words=avoid_words)
            else:
                magnitude = magnitude_word(v.error)
                text = self.phrase("offset", d, magnitude, avoid=avoid, avoid_words=avoid_words)
        elif v.intent == "yaw":
            magnitude = yaw_magnitude_word(v.error)
            text = self.phrase("yaw", "+" if sign > 0 else "-", magnitude, avoid=avoid, avoid_words=avoid_words)
        elif v.intent == "speed":
            text = self.phrase("speed", "faster" if sign > 0 else "slower", avoid=avoid, avoid_words=avoid_words)
        elif v.intent in ("force", "height"):
            text = self.phrase(v.intent, "more" if sign > 0 else "less", avoid=avoid, avoid_words=avoid_words)
        elif v.intent == "retarget_object":
            text = self.phrase("retarget_object", object=v.value or "", avoid=avoid, avoid_words=avoid_words)
        elif v.intent == "retarget_target":
            text = self.phrase("retarget_target", target=v.value or "", avoid=avoid, avoid_words=avoid_words)
        elif v.intent == "add_step":
            o, t = (v.value or "|").split("|")
            text = self.phrase("add_step", object=o, target=t, avoid=avoid, avoid_words=avoid_words)
        elif v.intent == "stop":
            text = self.phrase("stop", default="stop", avoid=avoid, avoid_words=avoid_words)
        elif v.intent == "retry":
            text = self.phrase("retry", default="try again", avoid=avoid, avoid_words=avoid_words)
        elif v.intent in ("other_way", "vague_pick", "vague_place", "vague_knock", "confirm"):
            text = self.phrase(v.intent, avoid=avoid, avoid_words=avoid_words)
        else:
            raise ValueError(f"unknown correction intent {v.intent!r}")
        return Utterance(text=self.noisy(text), intent=v.intent, step=step, arg=v.arg, axis=axis, sign=sign,
                         magnitude=magnitude, amount_m=abs(v.error), said_m=said, value=v.value, clean_text=text,
                         wrong_direction=wrong, after_outcome=after_outcome, reason=v.reason)


__all__ = ["Utterance", "Speaker", "magnitude_word", "yaw_magnitude_word", "spoken_amount", "SMALL_MAX", "MEDIUM_MAX", "NOT_COUNTED"]

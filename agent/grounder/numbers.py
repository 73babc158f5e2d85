"""The thin deterministic layer: explicit numbers with units, and safety words.

Everything else (directions, vague magnitudes, references, history, plan edits) is the learned
model's job. This module only reads what is said literally:

- :func:`parse_quantities` finds "3 cm", "two centimeters", "5 millimeters", "an inch",
  "half an inch", "1.5 in", "45 degrees", "a quarter turn" and returns them in SI units
  (lengths in metres, angles in radians), in the order they are said.
- :func:`is_safety_stop` is true for "stop", "wait", "halt", "freeze", "hold on": the robot stops
  before any model runs.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

WORD_NUMBERS: dict[str, float] = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "a": 1, "an": 1, "half": 0.5, "quarter": 0.25,
}
# unit word -> (kind, factor to SI: metres or radians)
UNITS: dict[str, tuple[str, float]] = {}
for _w in ("mm", "millimeter", "millimeters", "millimetre", "millimetres", "mil", "mils"):
    UNITS[_w] = ("length", 0.001)
for _w in ("cm", "cms", "centimeter", "centimeters", "centimetre", "centimetres", "centi", "centis"):
    UNITS[_w] = ("length", 0.01)
for _w in ("m", "meter", "meters", "metre", "metres"):
    UNITS[_w] = ("length", 1.0)
for _w in ("in", "inch", "inches", '"'):
    UNITS[_w] = ("length", 0.0254)
for _w in ("deg", "degs", "degree", "degrees", "°"):
    UNITS[_w] = ("angle", math.pi / 180)
for _w in ("rad", "rads", "radian", "radians"):
    UNITS[_w] = ("angle", 1.0)
for _w in ("turn", "turns", "revolution", "revolutions"):
    UNITS[_w] = ("angle", 2 * math.pi)

from agent.words import SAFETY_WORDS  # the one safety vocabulary: session and grounder agree
_SAFETY_PHRASE = re.compile(r"\bhold on\b(?!\s+(?:tight|to\b|firm|hard))|\bemergency\b")

_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+|°|\"")


@dataclass(frozen=True)
class Quantity:
    """A number said with a unit: ``value`` in SI (m or rad), ``kind`` 'length' or 'angle',
    ``start``/``end`` the token span in :func:`tokens` of the utterance, ``text`` as said."""

    value: float
    kind: str
    start: int
    end: int
    text: str


def tokens(text: str) -> list[str]:
    """Lower-case word / number tokens; "3cm" splits into "3", "cm"."""
    return _TOKEN.findall(text.lower().replace("-", " "))


def _number_at(toks: list[str], i: int) -> tuple[float, int] | None:
    """A number starting at token i: (value, number of tokens used) or None."""
    t = toks[i]
    if re.fullmatch(r"\d+(?:\.\d+)?", t):
        v, n = float(t), 1
        # "1 and a half"
        if toks[i + 1:i + 4] == ["and", "a", "half"]:
            return v + 0.5, 4
        return v, n
    if t == "half" and i + 1 < len(toks) and toks[i + 1] in ("a", "an"):
        return 0.5, 2  # "half a centimeter"
    if t == "a" and i + 1 < len(toks) and toks[i + 1] in ("couple", "few"):
        j = i + 2 + (1 if i + 2 < len(toks) and toks[i + 2] == "of" else 0)
        return (2.0 if toks[i + 1] == "couple" else 3.0), j - i
    if t in WORD_NUMBERS:
        v, n = WORD_NUMBERS[t], 1
        # "twenty five"
        if v >= 20 and v % 10 == 0 and i + 1 < len(toks) and toks[i + 1] in WORD_NUMBERS and 0 < WORD_NUMBERS[toks[i + 1]] < 10 and toks[i + 1] not in ("a", "an"):
            v, n = v + WORD_NUMBERS[toks[i + 1]], 2
        if toks[i + n:i + n + 3] == ["and", "a", "half"]:
            v, n = v + 0.5, n + 3
        return float(v), n
    return None


def parse_quantities(text: str) -> list[Quantity]:
    """All numbers said with a length or angle unit, in SI units, in spoken order.

    >>> [round(q.value, 4) for q in parse_quantities("3 cm to the left and two millimeters up")]
    [0.03, 0.002]
    """
    toks = tokens(text)
    out: list[Quantity] = []
    i = 0
    while i < len(toks):
        num = _number_at(toks, i)
        if num is None:
            i += 1
            continue
        v, n = num
        j = i + n
        # "an inch and a half", "a quarter turn", "half a turn"
        if j < len(toks) and toks[j] in ("quarter", "half") and toks[i] in ("a", "an"):
            v, j = WORD_NUMBERS[toks[j]], j + 1
        if j < len(toks) and toks[j] in UNITS:
            unit = toks[j]
            # a lone "m"/"in"/"a" is ambiguous: "in" only after a digit; "a"/"an" only before a unit
            if unit == "in" and not re.fullmatch(r"\d+(?:\.\d+)?", toks[i]):
                i += 1
                continue
            kind, f = UNITS[unit]
            k = j + 1
            if toks[k:k + 3] == ["and", "a", "half"]:
                v, k = v + 0.5, k + 3
            out.append(Quantity(v * f, kind, i, k, " ".join(toks[i:k])))
            i = k
        else:
            i += 1
    return out


def lengths(text: str) -> list[float]:
    """Lengths said with a unit, metres, spoken order."""
    return [q.value for q in parse_quantities(text) if q.kind == "length"]


def angles(text: str) -> list[float]:
    """Angles said with a unit, radians, spoken order."""
    return [q.value for q in parse_quantities(text) if q.kind == "angle"]


def is_safety_stop(text: str) -> bool:
    """True when the utterance contains a safety word ("stop", "wait", "halt", "freeze", "hold on")."""
    low = " ".join(tokens(text))
    words = set(low.split())
    if any(w in words for w in SAFETY_WORDS):
        return True
    return _SAFETY_PHRASE.search(low) is not None


# ---------------------------------------------------------------------------------------------------
# factors said for speed / force / height ("twice as fast", "half the speed", "50% slower")

_FACTOR_WORDS: dict[str, float] = {"twice": 2.0, "double": 2.0, "doubled": 2.0, "triple": 3.0, "thrice": 3.0, "tripled": 3.0,
                                   "half": 0.5, "halve": 0.5, "halved": 0.5}
_FRACTIONS = {"third": 1 / 3, "quarter": 0.25}
_MORE_THAN = 1.25  # "more than double" -> 2.5: a quarter above the factor said
_LESS_THAN = 0.8   # "less than half" -> 0.4


def parse_factor(text: str) -> float | None:
    """A multiplicative factor said in ``text``, as said (not yet signed by the direction), or None.

    "twice as fast" / "double" -> 2, "three times" / "3x" / "triple" -> 3, "half" -> 0.5, "a third of" -> 1/3,
    "50% faster" -> 1.5, "25 percent slower" -> 0.75, "one and a half times" -> 1.5; "more than double" -> 2.5
    and "less than half" -> 0.4. Lengths and angles ("half an inch", "a quarter turn") are not factors.

    >>> parse_factor("more than double the speed"), parse_factor("half the speed"), parse_factor("move left")
    (2.5, 0.5, None)
    """
    toks = tokens(text.replace("%", " percent "))
    spans = {i for q in parse_quantities(text) for i in range(q.start, q.end)}
    f: float | None = None
    at = -1
    for i, t in enumerate(toks):
        if i in spans:
            continue
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        if t in _FACTOR_WORDS:
            f, at = _FACTOR_WORDS[t], i
        elif t in _FRACTIONS and i > 0 and toks[i - 1] in ("a", "one"):
            f, at = _FRACTIONS[t], i
        elif nxt in ("times", "x") and (re.fullmatch(r"\d+(?:\.\d+)?", t) or t in WORD_NUMBERS):
            v = float(t) if t[0].isdigit() else WORD_NUMBERS[t]
            if toks[i + 2:i + 5] == ["and", "a", "half"]:
                v += 0.5
            f, at = v, i
        elif t in ("and",) and toks[i - 1:i] in (["one"], ["1"]) and toks[i + 1:i + 4] == ["a", "half", "times"]:
            f, at = 1.5, i
        elif re.fullmatch(r"\d+x", t):
            f, at = float(t[:-1]), i
        elif nxt == "percent" and re.fullmatch(r"\d+(?:\.\d+)?", t):
            p = float(t) / 100
            rest = set(toks[i + 2:i + 5])
            down = bool(rest & {"slower", "less", "softer", "lower", "gentler", "weaker", "looser"})
            f, at = (1 - p if down else 1 + p), i
        if f is not None:
            break
    if f is None:
        return None
    before = toks[max(0, at - 3):at]
    if "than" in before and ("more" in before or "over" in before):
        f *= _MORE_THAN if f >= 1 else 1 / _MORE_THAN
    elif "than" in before and ("less" in before or "under" in before):
        f *= _LESS_THAN if f <= 1 else 1 / _LESS_THAN
    return f

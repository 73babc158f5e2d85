"""Directions a user says NOT to take: "don't go down", "do not move it left", "never go faster".

The model reads words, and a negated direction is still a direction: it read "don't go down" as down (0.88 sure)
and moved. :func:`negated` lists what the words after a negating word (up to the end of its clause) name, as
(head, sign) pairs of :mod:`agent.grounder.labels` (x / y / z offsets, speed, force); the policy asks instead of
acting when its reading goes one of those ways. A reading the other way stands: "don't grip so hard" read as a
softer grip is what was meant. Contractions the grammar never says negate too ("you didn't ...", "it isn't ..."),
and a word followed by "enough" names the opposite way: "you didn't grip it hard enough" must not become a
softer grip (it was read as one, 0.91 sure), "not far enough" must not go back.
"""
from __future__ import annotations

import re

_NEGATOR = re.compile(r"\b(?:don'?t|do not|does not|doesn'?t|never|not|no more|stop going|quit going|avoid going"
                      r"|[a-z]+n't|(?:did|is|was|are|were|could|would|should|has|have|ca|wo)nt)\b(?!\s+you\b)")
# ("couldn't you go a bit lower", "why don't you go left": a request, not a negation)
# "not hard enough", "you didn't go far enough": the user wants MORE of what the word names, so the negated way is
# the opposite one. A word followed by "enough" inside a negation's scope counts this way, and only this way.
_ENOUGH = (
    (re.compile(r"\b(?:far|further|farther|forwards?)\s+enough\b"), ("x", "-")),
    (re.compile(r"\b(?:close|closer|near|nearer|back)\s+enough\b"), ("x", "+")),
    (re.compile(r"\bleft\s+enough\b"), ("y", "-")), (re.compile(r"\bright\s+enough\b"), ("y", "+")),
    (re.compile(r"\b(?:high|higher|up)\s+enough\b"), ("z", "-")), (re.compile(r"\b(?:low|lower|down|deep|deeper)\s+enough\b"), ("z", "+")),
    (re.compile(r"\b(?:fast|faster|quick|quickly|quicker)\s+enough\b"), ("speed", "-")),
    (re.compile(r"\b(?:slow|slower|slowly)\s+enough\b"), ("speed", "+")),
    (re.compile(r"\b(?:hard|harder|tight|tighter|tightly|firm|firmer|firmly)\s+enough\b"), ("force", "-")),
    (re.compile(r"\b(?:soft|softer|gentle|gentler|gently|loose|looser)\s+enough\b"), ("force", "+")),
)
_WORDS = (
    (re.compile(r"\b(?:back|backwards?|closer|nearer|toward(?:s)? (?:me|us))\b"), ("x", "-")),
    (re.compile(r"\b(?:forwards?|further|farther|away)\b"), ("x", "+")),
    (re.compile(r"\bleft(?:wards?)?\b"), ("y", "+")), (re.compile(r"\bright(?:wards?)?\b"), ("y", "-")),
    (re.compile(r"\b(?:up|upwards?|higher|raise|lift)\b"), ("z", "+")), (re.compile(r"\b(?:down|downwards?|lower|deeper)\b"), ("z", "-")),
    (re.compile(r"\b(?:faster|quicker|speed up|hurry)\b"), ("speed", "+")), (re.compile(r"\b(?:slower|slow down)\b"), ("speed", "-")),
    (re.compile(r"\b(?:harder|tighter|firmer|squeeze)\b"), ("force", "+")), (re.compile(r"\b(?:softer|gentler|looser)\b"), ("force", "-")),
)


# "too high", "too far to the left", "way too far forward": the way named after "too" is the way NOT to go further.
_TOO = re.compile(r"\btoo\s+(?:far\s+|much\s+)?((?:(?:over\s+)?to\s+(?:the\s+)?)?[a-z]+(?:\s+(?:me|us))?)")
_TOO_WORDS = _WORDS + (
    (re.compile(r"\b(?:high|tall)\b"), ("z", "+")), (re.compile(r"\b(?:low|deep)\b"), ("z", "-")),
    (re.compile(r"\b(?:close|near)\b"), ("x", "-")),
    (re.compile(r"\b(?:fast|quick|quickly)\b"), ("speed", "+")), (re.compile(r"\b(?:slow|slowly)\b"), ("speed", "-")),
    (re.compile(r"\b(?:hard|tight|tightly|strong|firm|firmly)\b"), ("force", "+")),
    (re.compile(r"\b(?:soft|softly|loose|gentle|gently|weak)\b"), ("force", "-")),
)


def too_far(text: str) -> set[tuple[str, str]]:
    """(head, sign) pairs a complaint says were overdone ("too high" -> {("z", "+")}, "too far to the left" ->
    {("y", "+")}): the robot must not go further that way. The model read "too high" as up and "too far to the
    left" as left (0.78-0.90 sure): the grammar says these complaints only before their fix ("too high, go down a
    bit"), so alone they were read by their direction word. "too far" / "too much" alone name no way."""
    t = (text or "").lower().replace("’", "'")
    out: set[tuple[str, str]] = set()
    for m in _TOO.finditer(t):
        for rx, pair in _TOO_WORDS:
            if rx.search(m.group(1)):
                out.add(pair)
    return out


_ONLY_COMPLAINT = re.compile(
    r"^(?:(?:no|oh|oops|hmm|uh|um|er|well|nope)[\s,.!]+)*"
    r"(?:(?:you're|you are|it's|it is|that's|that is|this is|it went|you went|you've gone|it's gone|you're going|it's going|you moved)\s+)?"
    r"(?:(?P<size>a bit|a little|a tad|slightly|just a bit|way|much|far)\s+)?too\s+(?:far\s+|much\s+)?"
    r"(?:over\s+)?(?:to\s+(?:the\s+)?)?(?:[a-z]+)(?:\s+(?:to\s+)?(?:me|us))?(?:\s+now)?[\s.!]*$")


def overdone_only(text: str) -> tuple[str, str, str] | None:
    """(head, sign, size) when ``text`` is nothing but one complaint that a way was overdone ("too high",
    "you're a bit too far left", "way too far forward"): the way it must not go further, and the size of the step
    back ("s" after "a bit" / "a little", else "m", as the grammar labels a complaint said alone). Else None."""
    t = " ".join((text or "").lower().replace("’", "'").split())
    m = _ONLY_COMPLAINT.match(t)
    ways = too_far(t) if m else set()
    if len(ways) != 1:
        return None
    head, sign = next(iter(ways))
    small = (m.group("size") or "") in ("a bit", "a little", "a tad", "slightly", "just a bit")
    return head, sign, "s" if small else "m"


def negated(text: str) -> set[tuple[str, str]]:
    """(head, sign) pairs named inside a negation's scope in ``text`` ("don't go down" -> {("z", "-")}; "not low
    enough" -> {("z", "+")}); "not that much" / "not so far" name no direction and give nothing."""
    t = (text or "").lower().replace("’", "'")
    out: set[tuple[str, str]] = set()
    for m in _NEGATOR.finditer(t):
        scope = t[m.end():]
        end = re.search(r"[,.;!?]|\b(?:but|instead|rather)\b", scope)
        scope = scope[: end.start()] if end else scope
        for rx, pair in _ENOUGH:
            if rx.search(scope):
                out.add(pair)
                scope = rx.sub(" ", scope)
        for rx, pair in _WORDS:
            if rx.search(scope):
                out.add(pair)
    return out


def goes_negated_way(signed: dict[str, str], scale: dict[str, str], text: str) -> bool:
    """Whether a reading (``signed`` x/y/z classes like "-m", ``scale`` speed/force classes like "+s") moves one
    of the ways :func:`negated` or :func:`too_far` finds in ``text``."""
    bad = negated(text) | too_far(text)
    if not bad:
        return False
    for head, cls in list(signed.items()) + list(scale.items()):
        if cls and cls != "none" and (head, cls[0]) in bad:
            return True
    return False

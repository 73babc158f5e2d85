"""A turn toward a side: "rotate left", "twist it to the right a bit", "turn the gripper left".

The grammar says a turn only with clockwise words ("rotate it a bit clockwise"), so the model reads "rotate left"
as a move to the left: 3 cm sideways for a person who asked the gripper to turn. The contract's yaw is positive
counter-clockwise seen from above, and a turn to the left is counter-clockwise (the real phrasings say so:
"twist left a little" and "twist to the right" are yaw in tests/data/real_corrections.jsonl). :func:`turned_side`
finds a turning verb whose side word belongs to it, with no moving verb in between ("turn it and move left" is a
move); the policy then makes the reading's sideways change a turn of the same size (:mod:`agent.grounder.policy`).
"""
from __future__ import annotations

import re

_TURN = r"(?:rotate|turn|twist|spin|swivel|pivot|yaw)"
_OBJECT = r"(?:\s+(?:it|that|this|her|(?:the|your|its)\s+(?:gripper|hand|wrist|claw|tool|end\s+effector|block|thing)))?"
_SIZE = r"(?:\s+(?:a\s+(?:little|bit|touch|lot|tad|smidge)(?:\s+(?:bit|more))?|slightly|some|way|much|more|just))*"
_SIDE = r"\s+(?:(?:over\s+)?to(?:wards?)?\s+(?:the\s+|your\s+|its\s+)?|toward\s+(?:the\s+)?)?(?P<side>left|right)\b"
TURNED = re.compile(r"\b" + _TURN + _OBJECT + _SIZE + _SIDE)
_MOVE = re.compile(r"\b(?:move|shift|slide|go|bring|put|push|nudge|place|drop|set)\b")
_CLOCK = re.compile(r"clock|\bcw\b|\bccw\b")


def turned_side(text: str) -> str | None:
    """'+' when ``text`` turns to the left (counter-clockwise), '-' to the right, None when it names no turn toward a
    side, names a turn by the clock, or holds a moving verb (the side may then be the move's)."""
    t = " ".join(text.lower().replace(",", " ").split())
    m = TURNED.search(t)
    if m is None or _CLOCK.search(t) or _MOVE.search(t):
        return None
    return "+" if m.group("side") == "left" else "-"

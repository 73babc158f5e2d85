"""Choosing among Whisper's n-best texts with the words a correction is made of.

Whisper's beam keeps several texts; the most probable is often one that reads as ordinary English ("I'm it
to the left") while another one of the beam holds the words a robot's user says ("a bit to the left").
:func:`choose` adds to each hypothesis' length-normalised log-probability ``weight`` times the share of its
words that are in ``lexicon`` (the words the grounder was trained on and the scene's names), and keeps the
best. ``weight`` 0 is Whisper's own choice.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

_WORD = re.compile(r"[a-z']+")


def words_of(text: str) -> list[str]:
    """Lower-case words of ``text`` (punctuation dropped)."""
    return _WORD.findall(text.lower())


def in_lexicon_share(text: str, lexicon: frozenset[str] | set[str]) -> float:
    """Share of the words of ``text`` that are in ``lexicon`` (0 for no words)."""
    ws = words_of(text)
    return sum(w in lexicon for w in ws) / len(ws) if ws else 0.0


def choose(hyps: Sequence[tuple[str, float, float]], lexicon: Iterable[str], weight: float) -> int:
    """Index of the best hypothesis (text, log-probability per token, no-speech probability) once
    ``weight`` x its in-lexicon share is added; ties keep Whisper's order. Empty texts are never chosen
    over a non-empty one."""
    lex = lexicon if isinstance(lexicon, (set, frozenset)) else frozenset(lexicon)
    best, best_v = 0, float("-inf")
    for i, (text, score, _ns) in enumerate(hyps):
        v = score + weight * in_lexicon_share(text, lex) if text.strip() else float("-inf")
        if v > best_v:
            best, best_v = i, v
    return best

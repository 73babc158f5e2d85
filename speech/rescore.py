"""Choosing among Whisper's n-best texts with the words a correction is made of.

Whisper's beam keeps several texts; the most probable is often one that reads as ordinary English ("I'm it
to the left") while another one of the beam holds the words a robot's user says ("a bit to the left").
:func:`choose` adds to each hypothesis' length-normalised log-probability ``weight`` times the share of its
words that are in ``lexicon`` (the words the grounder was trained on and the scene's names), and keeps the
best. ``weight`` 0 is Whisper's own choice.
"""
from __future__ import annotations

import re
from typing import Callable, Iterable, Sequence

_WORD = re.compile(r"[a-z']+")


def words_of(text: str) -> list[str]:
    """Lower-case words of ``text`` (punctuation dropped)."""
    return _WORD.findall(text.lower())


def in_lexicon_share(text: str, lexicon: frozenset[str] | set[str]) -> float:
    """Share of the words of ``text`` that are in ``lexicon`` (0 for no words)."""
    ws = words_of(text)
    return sum(w in lexicon for w in ws) / len(ws) if ws else 0.0


def echoes(text: str, prompt: str, n: int = 4) -> bool:
    """True when ``text`` has ``n`` or more words in a row that are words in a row of ``prompt``: Whisper
    said its prompt back ("move it a little to the left" for "you went over, back a bit")."""
    ws, ps = words_of(text), words_of(prompt)
    runs = {tuple(ps[i:i + n]) for i in range(len(ps) - n + 1)}
    return any(tuple(ws[i:i + n]) in runs for i in range(len(ws) - n + 1))


def choose(hyps: Sequence[tuple[str, float, float]], lexicon: Iterable[str], weight: float, prompt: str = "",
           lm: Callable[[str], float] | None = None, lm_weight: float = 0.0) -> int:
    """Index of the best hypothesis (text, log-probability per token, no-speech probability) once
    ``weight`` x its in-lexicon share is added; ties keep Whisper's order. Empty texts are never chosen
    over a non-empty one, nor (with ``prompt``) a text that says the prompt back (:func:`echoes`) over one
    that does not. With ``lm`` (mean log-probability per word of a text, :meth:`speech.lm.BigramLM.logprob`),
    ``lm_weight`` x that is added too."""
    lex = lexicon if isinstance(lexicon, (set, frozenset)) else frozenset(lexicon)
    best, best_v = 0, float("-inf")
    for i, (text, score, _ns) in enumerate(hyps):
        v = score + weight * in_lexicon_share(text, lex) if text.strip() else float("-inf")
        if lm is not None and lm_weight and v > float("-inf"):
            v += lm_weight * lm(text)
        if prompt and v > float("-inf") and echoes(text, prompt):
            v -= 100.0
        if v > best_v:
            best, best_v = i, v
    return best

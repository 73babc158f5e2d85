"""Constrained decoding: the Whisper tokens a correction can be spelled with.

Whisper's language model writes ordinary English when espeak's voices are unclear ("attach your head" for "a
touch lower"). Suppressing every text token that spells no part of a word of the correction lexicon (the
grounder's words, the scene's names, number words, stop words and :data:`COMMON`) keeps its hypotheses in the
domain. Tokens are taken from each allowed word's own tokenisation (with and without a leading space,
lower-case and capitalised), so a suppressed text can still be pieced together from allowed tokens, but
rarely is.
"""
from __future__ import annotations

from typing import Any, Iterable

PUNCT = (".", ",", "?", "!", "'", "-", " ")
COMMON = ("the a an and or of to in on at it its that this these those there here is are be was what where which "
          "who not no yes okay ok you your me my i we us one two three four five six seven eight nine ten "
          "toward towards about with without from into onto up down over under little bit more less much "
          "very too so just now then again please thanks thank").split()


MODES = ("off", "words", "spaced")
SUFFIXES = ("'s", "'t", "'re", "'d", "'ll", "'ve", "'m")


def allowed_tokens(tok: Any, words: Iterable[str], mode: str = "spaced") -> set[int]:
    """Ids of every token in the tokenisations of ``words`` (and :data:`COMMON`, punctuation): ``spaced``
    only as a word after a space (" left", " Left"; fewer word pieces that spell other words), ``words``
    also without the space."""
    ids: set[int] = set()
    for w in set(words) | set(COMMON):
        for v in (w, w.capitalize()):
            for form in ((" " + v,) if mode == "spaced" else (v, " " + v)):
                ids.update(tok.encode(form, add_special_tokens=False).ids)
    for p in SUFFIXES:
        ids.update(tok.encode(p, add_special_tokens=False).ids)
    for p in PUNCT:
        ids.update(tok.encode(p, add_special_tokens=False).ids)
    return ids


def suppressed_tokens(tok: Any, words: Iterable[str], mode: str = "spaced") -> set[int]:
    """The text tokens (ids below ``<|endoftext|>``) that :func:`allowed_tokens` leaves out."""
    eot = tok.token_to_id("<|endoftext|>")
    ok = allowed_tokens(tok, words, mode)
    return {i for i in range(eot) if i not in ok}

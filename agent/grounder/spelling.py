"""What a speech recogniser does to words, undone before the model reads them: a restatement's lead-in
("I said ...", "like I said, ...") is dropped, and a word the model never saw that is one slip away from a word
of the grammar's own phrase pools (``data/phrases.json``: "harter" -> "harder", "grep" -> "grip") is read as
that word. Deterministic, no learning; the pools are the project's own training phrases, never an evaluation
file."""
from __future__ import annotations

import difflib
import re
from functools import lru_cache
from typing import Any, Iterable

from .phrases import DATA, load_strict

_RESTATE = re.compile(r"^\W*(?:(?:like|as)\s+)?i\s+(?:said|told\s+you|just\s+said)\b[\s,:;.!-]*", re.IGNORECASE)
CUTOFF = 0.75  # difflib ratio a respelling needs (one letter wrong in a short word, or two in a long one)
MIN_LEN = 4  # shorter words are not respelled ("dip" is a word, not a slip), nor respelled into
# pools whose words are not the robot's English command words: a user's own word ("port") must stay unknown, so
# that the robot asks about it, not be read as a word of another language ("por" of "más despacio por favor")
NOT_COMMAND_WORDS = frozenset({"_about", "foreign", "latin", "nonce", "offtopic", "greeting"})


def strip_restate(text: str) -> str:
    """``text`` without a restatement's lead-in ("I said use a firmer grip" -> "use a firmer grip")."""
    rest = _RESTATE.sub("", text or "", count=1)
    return rest if rest.strip() else text


def pool_words(pattern: str = r"[a-z]+", drop_slots: bool = False) -> set[str]:
    """Every word (``pattern``, on lower-case text) of the grammar's English command phrase pools
    (``data/phrases.json`` without :data:`NOT_COMMAND_WORDS`); ``drop_slots``: leave out ``{slot}`` names."""
    words: set[str] = set()

    def walk(x: Any) -> None:
        if isinstance(x, str):
            t = x.lower()
            words.update(re.findall(pattern, re.sub(r"\{[^}]*\}", " ", t) if drop_slots else t))
        elif isinstance(x, list):
            for y in x:
                walk(y)
        elif isinstance(x, dict):
            for k, y in x.items():
                if k not in NOT_COMMAND_WORDS:
                    walk(y)

    walk(load_strict(DATA / "phrases.json"))
    return words


@lru_cache(maxsize=1)
def lexicon() -> frozenset[str]:
    """Every word of at least ``MIN_LEN`` letters of the grammar's English command phrase pools."""
    return frozenset(w for w in pool_words() if len(w) >= MIN_LEN)


def respell(text: str, known: Iterable[str]) -> tuple[str, dict[str, str]]:
    """``text`` with each word that is not in ``known`` (the model's vocabulary, scene words) replaced by the
    closest word of :func:`lexicon` with the same first letter and about the same length, when one is close
    enough; returns (new text, {old: new})."""
    known = set(known)
    lex = lexicon()
    done: dict[str, str] = {}

    def fix(m: re.Match[str]) -> str:
        w = m.group(0)
        lw = w.lower()
        if lw in known or len(lw) < MIN_LEN or not lw.isalpha():  # "didn't" is left alone
            return w
        near = [x for x in difflib.get_close_matches(lw, lex, n=5, cutoff=CUTOFF) if x[0] == lw[0] and abs(len(x) - len(lw)) <= 2]
        if not near:
            return w
        done[lw] = near[0]
        return near[0]

    out = re.sub(r"[A-Za-z']+", fix, text or "")
    return out, done

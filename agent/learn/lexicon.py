"""The user's own direction words, found in the hindsight examples, taught in the grammar's sentences.

A handful of logged sentences teach a handful of sentences: the finetune fits "a good bit to port" and still
misreads "port a touch". So the words are taken out of the logs and put back into new sentences:

1. :func:`user_words`: a word the base checkpoint never saw (not in its vocabulary) that the hindsight labels
   tie to one direction (every labelled correction containing it moves the gripper along the same axis, the
   same way, in at least ``min_seen`` utterances; ASR slips seen once do not count) is one of the user's
   direction words ("port" = +y, left). Only the training episodes' examples are read (never the held-out slice).
2. :func:`examples`: offset corrections of the generated grammar (:mod:`agent.grounder.corpus`, train split,
   fresh scenes and plans, magnitude words, numbers, fillers and ASR noise as in the corpus) that say the
   user's word where the grammar says "left"; labelled like the corpus (offset class, ``active``). No
   evaluation utterance is ever produced: blocked texts (``agent/grounder/data/blocked.json``) are skipped.
3. :func:`contrast`: as many generated things that are not corrections (keyboard mash, chatter, other
   languages, a correction's shape with a word nobody taught: level "unclear"), so that what is learnt is
   "these words of this user mean a direction", not "an unknown word means act".

Axes in the robot base frame: x forward, y left, z up.
"""
from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable

AXES = ("x", "y", "z")
SURFACE = re.compile(r"[a-z][a-z']*")


@dataclass
class LexiconConfig:
    """``min_seen``: labelled utterances a word needs; ``purity``: share of them that must agree on the direction;
    ``per_word``: generated sentences per user word (0: off); ``seed``: their random seed."""

    min_seen: int = 2
    purity: float = 0.8
    per_word: int = 300
    seed: int = 0


def _direction(ex: dict[str, Any]) -> str | None:
    """"+y" when the example's label moves along one axis only (a new skill change), else None."""
    lab = ex.get("labels") or {}
    if ex.get("kind") != "ground" or lab.get("level") != "skill" or lab.get("hist", "new") != "new":
        return None
    moves = [lab[a][0] + a for a in AXES if lab.get(a, "none") != "none"]
    others = [h for h in ("yaw", "speed", "force", "height") if lab.get(h, "none") != "none"]
    return moves[0] if len(moves) == 1 and not others else None


def user_words(examples: Iterable[dict[str, Any]], vocab: Iterable[str], cfg: LexiconConfig | None = None) -> dict[str, str]:
    """{surface word: direction} of the user's direction words (module docstring), e.g. {"port": "+y", "for'ard": "+x"}."""
    from agent.grounder.numbers import tokens

    cfg = cfg or LexiconConfig()
    known = frozenset(vocab)
    seen: dict[str, Counter[str]] = {}
    for ex in examples:
        if ex.get("kind") != "ground":
            continue
        d = _direction(ex)
        for w in set(SURFACE.findall(str(ex.get("utterance", "")).lower())):
            if any(t.isalpha() and len(t) > 2 and t not in known for t in tokens(w)):
                seen.setdefault(w, Counter())[d or "other"] += 1
    out: dict[str, str] = {}
    for w, c in seen.items():
        d, n = max(((k, v) for k, v in c.items() if k != "other"), key=lambda kv: kv[1], default=(None, 0))
        if d is not None and n >= cfg.min_seen and n >= cfg.purity * sum(c.values()):
            out[w] = d
    return out


def _sentence(rng: random.Random, word: str, mag: str) -> tuple[str, dict[str, float]]:
    """An offset correction in the grammar's words with ``word`` as its direction; (text, numbers by axis)."""
    from agent.grounder import corpus as g

    dirp = word if rng.random() < 0.5 else f"to {word}"
    if mag == "s":
        t = f"{g.pick(rng, g.SMALL_PRE, 'train')} {dirp}" if rng.random() < 0.6 else f"{dirp} {g.pick(rng, g.SMALL_POST, 'train')}"
    elif mag == "m":
        t = dirp
    elif mag == "l":
        t = f"{g.pick(rng, g.LARGE_PRE_BARE, 'train')} {dirp}" if rng.random() < 0.6 else f"{dirp} {g.pick(rng, g.LARGE_POST, 'train')}"
    else:
        txt, val = g.say_length(rng)
        t = rng.choice([f"{txt} {dirp}", f"{dirp} {txt}", f"{dirp} by {txt}"])
        verb = g.pick(rng, g.NUM_VERB, "train") if rng.random() < 0.4 else ""
        return f"{verb} {t}".strip(), {"_value": val}
    verb = g.pick(rng, g.OFF_VERB, "train") if rng.random() < (0.6 if mag == "m" else 0.4) else ""
    return f"{verb} {t}".strip(), {}


def examples(words: dict[str, str], cfg: LexiconConfig | None = None) -> list[dict[str, Any]]:
    """``cfg.per_word`` generated grounding examples per user word (module docstring), ``source`` "lexicon"."""
    from agent.grounder import corpus as g
    from agent.grounder.phrases import is_blocked

    cfg = cfg or LexiconConfig()
    rng = random.Random(f"lexicon-{cfg.seed}")
    out: list[dict[str, Any]] = []
    for word, d in sorted(words.items()):
        sign, axis = d[0], d[1]
        made = tries = 0
        while made < cfg.per_word and tries < cfg.per_word * 5:
            tries += 1
            mag = rng.choices(["s", "m", "l", "n"], [0.3, 0.3, 0.2, 0.2])[0]
            text, num = _sentence(rng, word, mag)
            ex = g._base(rng)
            numbers = {axis: num["_value"]} if "_value" in num else None
            ex = g._finish(ex, rng, text, g._labels(**{axis: sign + mag}), "train", numbers)
            core = ex.pop("_core", "")
            if is_blocked(ex["utterance"]) or is_blocked(core):
                continue
            out.append({**ex, "source": "lexicon", "word": word})
            made += 1
    return out


def contrast(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` generated grounding examples that are not corrections (level "unclear"), ``source`` "contrast"."""
    from agent.grounder import corpus as g
    from agent.grounder.phrases import is_blocked

    rng = random.Random(f"contrast-{seed}")
    out: list[dict[str, Any]] = []
    while len(out) < n:
        ex = g._base(rng)
        ex = g._finish(ex, rng, g.not_a_correction(rng, "train"), g._labels(level="unclear"), "train")
        core = ex.pop("_core", "")
        if not (is_blocked(ex["utterance"]) or is_blocked(core)):
            out.append({**ex, "source": "contrast"})
    return out

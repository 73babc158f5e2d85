"""A word bigram model of what corrections sound like, for choosing among the recogniser's texts.

Whisper's beam often holds the right text below an ordinary-English one ("to want me" above "toward me"). The
model is counted from phrases of the grounder's own training grammar (``agent.grounder.corpus``, training split;
never an evaluation utterance, nor a phrase the recogniser's settings were tuned on: see
``agent.bench.asr_tune --write-lm``) and kept in ``speech/data/domain_lm.json``. Interpolated absolute
discounting (Kneser-Ney style, discount 0.75) over a unigram model with add-one smoothing; a word it has never
seen gets the add-one unigram share of one count.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

DATA = Path(__file__).parent / "data" / "domain_lm.json"
_TOKEN = re.compile(r"[a-z']+|\d+(?:\.\d+)?")
BOS, EOS = "<s>", "</s>"
DISCOUNT = 0.75


def tokens(text: str) -> list[str]:
    """Lower-case words and numbers of ``text``, as the model counts them."""
    return _TOKEN.findall(text.lower())


@dataclass
class BigramLM:
    """``unigrams``: word -> count; ``bigrams``: 'a b' -> count (with ``<s>`` / ``</s>``)."""

    unigrams: dict[str, int]
    bigrams: dict[str, int]

    def __post_init__(self) -> None:
        self._total = sum(self.unigrams.values())
        self._v = len(self.unigrams) + 1
        self._after: Counter[str] = Counter()
        self._types: Counter[str] = Counter()
        for k, n in self.bigrams.items():
            a = k.split(" ", 1)[0]
            self._after[a] += n
            self._types[a] += 1

    @classmethod
    def count(cls, phrases: Iterable[str]) -> "BigramLM":
        uni: Counter[str] = Counter()
        bi: Counter[str] = Counter()
        for p in phrases:
            ws = [BOS, *tokens(p), EOS]
            uni.update(ws[1:])
            bi.update(f"{a} {b}" for a, b in zip(ws, ws[1:]))
        return cls(dict(uni), dict(bi))

    def unigram(self, w: str) -> float:
        return (self.unigrams.get(w, 0) + 1) / (self._total + self._v)

    def prob(self, prev: str, w: str) -> float:
        """P(w | prev)."""
        n_prev = self._after.get(prev, 0)
        if not n_prev:
            return self.unigram(w)
        c = self.bigrams.get(f"{prev} {w}", 0)
        return max(c - DISCOUNT, 0) / n_prev + DISCOUNT * self._types[prev] / n_prev * self.unigram(w)

    def logprob(self, text: str) -> float:
        """Mean natural-log probability per word of ``text`` (end of text included); 0 for no words."""
        ws = tokens(text)
        if not ws:
            return 0.0
        seq = [BOS, *ws, EOS]
        return sum(math.log(self.prob(a, b)) for a, b in zip(seq, seq[1:])) / (len(seq) - 1)

    def save(self, path: Path, doc: str) -> Path:
        path.write_text(json.dumps({"_doc": doc, "unigrams": self.unigrams, "bigrams": self.bigrams}, sort_keys=True) + "\n")
        return path


@lru_cache(maxsize=2)
def load_lm(path: str | None = None) -> BigramLM | None:
    """The packaged model (or ``path``); None when there is none."""
    p = Path(path) if path else DATA
    if not p.is_file():
        return None
    raw = json.loads(p.read_text())
    return BigramLM({str(k): int(v) for k, v in raw["unigrams"].items()}, {str(k): int(v) for k, v in raw["bigrams"].items()})

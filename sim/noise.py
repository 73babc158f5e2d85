"""Speech-recogniser-style word noise, one module for every producer of noisy words (the simulated user, and
any corpus that wants the same noise). The sound-alike table is data: ``sim/phrases/asr_confusions.json``,
validated on load with duplicate keys rejected."""
from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass
from pathlib import Path

from sim.phrases import PhraseBankError, load_json_strict

CONFUSIONS_FILE = Path(__file__).with_name("phrases") / "asr_confusions.json"
# Of the noisy words: replaced by a sound-alike (when one is known) below REPLACE, dropped below DROP, else a
# filler is put before them.
REPLACE = 0.6
DROP = 0.8


@dataclass(frozen=True)
class Confusions:
    """``table``: word -> sound-alikes; ``fillers``: words a speaker puts in ('uh')."""

    table: dict[str, tuple[str, ...]]
    fillers: tuple[str, ...]


@functools.lru_cache(maxsize=4)
def load_confusions(path: str | None = None) -> Confusions:
    """The confusion table from ``path`` (default :data:`CONFUSIONS_FILE`); raises PhraseBankError when malformed."""
    p = Path(path) if path else CONFUSIONS_FILE
    data = load_json_strict(p)
    conf, fill = data.get("confusions") if isinstance(data, dict) else None, data.get("fillers") if isinstance(data, dict) else None
    if not isinstance(conf, dict) or not all(isinstance(v, list) and v and all(isinstance(s, str) and s for s in v) for v in conf.values()):
        raise PhraseBankError(f"{p}: 'confusions' must map words to non-empty lists of words")
    if not isinstance(fill, list) or not fill or not all(isinstance(s, str) and s for s in fill):
        raise PhraseBankError(f"{p}: 'fillers' must be a non-empty list of words")
    return Confusions({k.lower(): tuple(v) for k, v in conf.items()}, tuple(fill))


def add_word_noise(text: str, rate: float, rng: random.Random, confusions: Confusions | None = None) -> str:
    """Corrupt ``text`` like a speech recogniser would: each word, with probability ``rate``, is replaced by a
    sound-alike (when one is known), dropped, or preceded by a filler. ``rate`` 0 returns ``text`` unchanged."""
    if rate <= 0:
        return text
    c = confusions or load_confusions()
    out: list[str] = []
    for w in text.split():
        if rng.random() >= rate:
            out.append(w)
            continue
        key = re.sub(r"[^a-z]", "", w.lower())
        r = rng.random()
        if key in c.table and r < REPLACE:
            out.append(rng.choice(c.table[key]))
        elif r < DROP:
            continue  # dropped word
        else:
            out.extend([rng.choice(c.fillers), w])
    return " ".join(out) if out else text.split()[0]


__all__ = ["Confusions", "load_confusions", "add_word_noise", "CONFUSIONS_FILE"]

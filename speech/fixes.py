"""What a Whisper model steadily mishears in corrections, undone on its transcripts.

``speech/data/whisper_fixes.json`` maps, per model, a heard word sequence (one to three words, lower case)
to what was said: e.g. Whisper base writes "to want the left" for a synthetic voice's "toward the left" and
"debris" for "degrees". The table is learned by ``python3 -m agent.bench.asr_tune --learn-fixes`` from the
model's own transcripts of the grounder's training phrases said by espeak-ng (never a test utterance): a
pair is kept when it was seen at least twice and the heard words, wherever they appeared in those
transcripts, stood for that phrase at least half the time. Since it is learned from synthetic voices, it
mostly undoes what espeak-ng's voices do to Whisper; for people's voices it should be learned again
from recordings of people.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from speech.base import SpeechError

DATA = Path(__file__).parent / "data" / "whisper_fixes.json"
MAX_N = 3  # longest heard word sequence in the table
_TOKEN = re.compile(r"[a-z0-9']+(?:\.[0-9]+)?")


def fold_words(text: str) -> list[str]:
    """Lower-case words (and numbers) of ``text``, punctuation dropped."""
    return _TOKEN.findall(text.lower().replace("-", " "))


@lru_cache(maxsize=8)
def load_fixes(model: str, path: str | None = None) -> dict[tuple[str, ...], tuple[str, ...]]:
    """{heard words: said words} for ``model`` (a ``whisper_model`` value); empty when the table has none."""
    p = Path(path) if path else DATA
    if not p.is_file():
        return {}
    try:
        raw = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise SpeechError(f"cannot read the Whisper fixes {p}: {e}") from None
    table = raw.get("models", {}).get(model, {})
    if not isinstance(table, dict):
        raise SpeechError(f"{p}: models.{model} must map heard words to said words")
    out: dict[tuple[str, ...], tuple[str, ...]] = {}
    for heard, said in table.items():
        h, s = tuple(fold_words(str(heard))), tuple(fold_words(str(said)))
        if not h or not s or len(h) > MAX_N:
            raise SpeechError(f"{p}: {heard!r} -> {said!r} is not 1..{MAX_N} heard words to some said words")
        out[h] = s
    return out


def apply_fixes(text: str, fixes: dict[tuple[str, ...], tuple[str, ...]]) -> str:
    """``text`` with each heard sequence of ``fixes`` replaced, longest first, left to right. Unchanged
    (case and punctuation kept) when nothing applies; otherwise lower-case words without punctuation."""
    if not fixes:
        return text
    words = fold_words(text)
    out: list[str] = []
    i, changed = 0, False
    while i < len(words):
        for n in range(min(MAX_N, len(words) - i), 0, -1):
            said = fixes.get(tuple(words[i:i + n]))
            if said is not None:
                out.extend(said)
                i += n
                changed = True
                break
        else:
            out.append(words[i])
            i += 1
    return " ".join(out) if changed else text


_PUNCT = re.compile(r"(?<!\d)\.|\.(?!\d)|[^\w\s'.-]")


def plain_text(text: str) -> str:
    """``text`` lower-case without Whisper's punctuation (decimal points, hyphens and apostrophes kept), as a
    person types a correction: "A bit lower, and more to the left." -> "a bit lower and more to the left"
    (the comma made the grounder read two corrections). On the recogniser's training speech this gave
    spoken / typed +0.02 / +0.01 / +0.02 (clean / 20 dB / 10 dB)."""
    return " ".join(_PUNCT.sub(" ", text.lower()).split())

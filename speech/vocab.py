"""The speech vocabulary (``speech/data/vocabulary.json``, validated on load) and the words of a scene.

:func:`prompt_words` is what a recogniser is biased toward: the scene's object names first, then the
correction words.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

from speech.base import SpeechError

DATA = Path(__file__).parent / "data" / "vocabulary.json"
_WORD = re.compile(r"^[a-z']+$")


@dataclass(frozen=True)
class Vocabulary:
    """``stop_words``: what the stop spotter listens for; ``correction_words``: the words of corrections;
    ``grammar_words``: function words the pocketsphinx grammar also allows."""

    stop_words: tuple[str, ...]
    correction_words: tuple[str, ...]
    grammar_words: tuple[str, ...]
    stop_heard_as: tuple[tuple[str, str], ...] = ()


def _words(raw: Any, key: str, path: Path) -> tuple[str, ...]:
    vals = raw.get(key)
    if not isinstance(vals, list) or not vals:
        raise SpeechError(f"{path}: '{key}' must be a non-empty list of words")
    out: list[str] = []
    for v in vals:
        if not isinstance(v, str) or not _WORD.match(v):
            raise SpeechError(f"{path}: '{key}' holds {v!r}; entries are single lower-case words")
        if v not in out:
            out.append(v)
    return tuple(out)


@lru_cache(maxsize=4)
def load_vocabulary(path: str | None = None) -> Vocabulary:
    """Read and check the vocabulary file (default: the packaged one)."""
    p = Path(path) if path else DATA
    try:
        raw = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise SpeechError(f"cannot read the speech vocabulary {p}: {e}") from None
    stops = _words(raw, "stop_words", p)
    heard = raw.get("stop_heard_as", {})
    if not isinstance(heard, dict) or not all(isinstance(k, str) and v in stops for k, v in heard.items()):
        raise SpeechError(f"{p}: 'stop_heard_as' maps words to one of the stop_words {list(stops)}")
    return Vocabulary(stops, _words(raw, "correction_words", p), _words(raw, "grammar_words", p),
                      tuple(sorted(heard.items())))


def scene_names(scene: Any) -> list[str]:
    """Object names of a scene: a ``hardware.scene.Scene``, its contract dict, or a list of names."""
    if scene is None:
        return []
    if isinstance(scene, dict):
        return [str(o["name"]) for o in scene.get("objects", [])]
    objs = getattr(scene, "objects", scene)
    return [str(getattr(o, "name", o)) for o in objs]


def prompt_words(scene: Any = None, vocab: Vocabulary | None = None) -> list[str]:
    """Scene object names, then the correction words (each once)."""
    v = vocab or load_vocabulary()
    out: list[str] = []
    for w in list(scene_names(scene)) + list(v.correction_words):
        if w not in out:
            out.append(w)
    return out


def split_words(phrases: Iterable[str]) -> list[str]:
    """Phrases -> their distinct lower-case words (for a grammar)."""
    out: list[str] = []
    for p in phrases:
        for w in re.findall(r"[a-z']+", p.lower()):
            if w not in out:
                out.append(w)
    return out


def is_stop_phrase(text: str, stop_words: Sequence[str]) -> bool:
    """True when ``text`` is only stop words (and fillers like 'now', 'please'): what the spotter already acted on."""
    toks = re.findall(r"[a-z']+", text.lower())
    fill = {"now", "please", "it", "right", "there", "moving", "stop", "robot"}
    return bool(toks) and any(t in stop_words for t in toks) and all(t in stop_words or t in fill for t in toks)

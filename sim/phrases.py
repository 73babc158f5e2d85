"""Phrase banks of the simulated user: validated JSON files (``sim/phrases/default.json`` is the project's own).

Format (the keys of ``shared/eval/phrases_dev.json`` stay readable as they are): ``offset`` ->
``+x|-x|+y|-y|+z|-z`` -> ``small|medium|large`` -> phrases; ``yaw`` -> ``+|-`` -> magnitude -> phrases;
``speed`` -> ``slower|faster``; ``force`` and ``height`` -> ``more|less``; ``retarget_object`` /
``retarget_target`` (with ``{object}`` / ``{target}``); ``confirm``; optionally ``offset_number`` (``{amount}``),
``add_step`` (``{object}``, ``{target}``), ``stop``, ``retry``.

Newer categories are optional in every bank; a bank without them borrows them from the project's default bank
(:data:`OPTIONAL_WITH_DEFAULT`): ``vague_pick`` (after a failed pick: "you dropped it"), ``vague_place`` (after a
failed place: "that's not right"), ``vague_knock`` (something was knocked over), ``other_way`` (after a
correction the user got backwards: "no, the other way"), ``restate`` (prefixes of a restatement: "I said").
``add_step`` is borrowed the same way when a bank lacks it (tasks with several objects need it).

Files are read with duplicate keys rejected (Python's ``json`` would silently keep the last one).
"""
from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any, Optional

from hardware.errors import RobocorrectError

DEFAULT_PHRASES = Path(__file__).with_name("phrases") / "default.json"
DIRECTIONS = ("+x", "-x", "+y", "-y", "+z", "-z")
MAGNITUDES = ("small", "medium", "large")
# Sections made of sub-keys (direction, kind or magnitude) and flat phrase lists.
NESTED = ("speed", "force", "height", "yaw", "offset_number")
FLAT = ("retarget_object", "retarget_target", "confirm", "add_step", "stop", "retry")
# Optional categories a bank may leave out; then the default bank's phrases are used.
OPTIONAL_WITH_DEFAULT = ("vague_pick", "vague_place", "vague_knock", "other_way", "restate")
# Today's keys a bank may lack that multi-object tasks need: borrowed from the default bank as well.
BORROWED = OPTIONAL_WITH_DEFAULT + ("add_step",)

_WORD = re.compile(r"[a-z]+")


def words_of(text: str) -> frozenset[str]:
    """Lower-case letter runs of a phrase ("for'ard" -> for, ard), placeholders included."""
    return frozenset(_WORD.findall(text.lower()))



class PhraseBankError(RobocorrectError, ValueError):
    """A phrase bank (or data file) that cannot be used; the message names the file and the faulty key."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise PhraseBankError(f"duplicate key {k!r}")
        out[k] = v
    return out


def load_json_strict(path: str | Path) -> Any:
    """JSON from ``path`` with duplicate object keys rejected; raises :class:`PhraseBankError` naming the file."""
    p = Path(path)
    try:
        return json.loads(p.read_text(), object_pairs_hook=_no_duplicates)
    except FileNotFoundError:
        raise PhraseBankError(f"no phrase bank at {p}") from None
    except PhraseBankError as e:
        raise PhraseBankError(f"{p}: {e}") from None
    except json.JSONDecodeError as e:
        raise PhraseBankError(f"phrase bank {p} is not valid JSON: {e}") from None


class PhraseBank:
    """Phrases by intent, validated on construction; optional categories fall back to ``fallback`` (the default
    bank when loaded from a file)."""

    def __init__(self, data: dict[str, Any], source: str = "<dict>", fallback: Optional["PhraseBank"] = None) -> None:
        self.source = source
        self.data = data
        self.fallback = fallback
        self._validate()

    @classmethod
    def load(cls, path: str | Path | None = None) -> "PhraseBank":
        """Load ``path`` (default: ``sim/phrases/default.json``); raises :class:`PhraseBankError`."""
        p = Path(path) if path else DEFAULT_PHRASES
        data = load_json_strict(p)
        if not isinstance(data, dict):
            raise PhraseBankError(f"phrase bank {p}: top level must be an object of intents")
        fallback = None if p.resolve() == DEFAULT_PHRASES.resolve() else cls.load(None)
        return cls(data, str(p), fallback)

    def _validate(self) -> None:
        src = self.source
        off = self.data.get("offset")
        if not isinstance(off, dict) or not off:
            raise PhraseBankError(f"phrase bank {src}: needs an 'offset' section (direction -> magnitude -> phrases)")
        for d, mags in off.items():
            if d not in DIRECTIONS:
                raise PhraseBankError(f"phrase bank {src}: offset direction {d!r} unknown; use {', '.join(DIRECTIONS)}")
            if not isinstance(mags, dict) or not mags:
                raise PhraseBankError(f"phrase bank {src}: offset.{d} must map magnitudes to phrase lists")
            for m, lst in mags.items():
                if m not in MAGNITUDES:
                    raise PhraseBankError(f"phrase bank {src}: offset.{d}.{m}: magnitude must be one of {', '.join(MAGNITUDES)}")
                self._check_list(lst, f"offset.{d}.{m}")
        for intent in NESTED:
            sec = self.data.get(intent)
            if sec is None:
                continue
            if not isinstance(sec, dict):
                raise PhraseBankError(f"phrase bank {src}: {intent} must be an object")
            for k, v in sec.items():
                if isinstance(v, dict):
                    for m, lst in v.items():
                        self._check_list(lst, f"{intent}.{k}.{m}")
                else:
                    self._check_list(v, f"{intent}.{k}")
        for intent in FLAT + OPTIONAL_WITH_DEFAULT:
            if intent in self.data:
                self._check_list(self.data[intent], intent)

    def _check_list(self, lst: Any, where: str) -> None:
        if not isinstance(lst, list) or not lst or not all(isinstance(s, str) and s.strip() for s in lst):
            raise PhraseBankError(f"phrase bank {self.source}: {where} must be a non-empty list of phrases")

    def _section(self, intent: str) -> Any:
        sec = self.data.get(intent)
        if sec is None and intent in BORROWED and self.fallback is not None:
            sec = self.fallback.data.get(intent)
        return sec

    def has(self, intent: str, key: Optional[str] = None) -> bool:
        """Whether the bank (or, for optional categories, its fallback) has phrases for ``intent`` / ``key``."""
        sec = self._section(intent)
        if sec is None:
            return False
        if key is None:
            return True
        return isinstance(sec, dict) and key in sec

    def choose(self, rng: random.Random, intent: str, key: Optional[str] = None, magnitude: Optional[str] = None,
               avoid: Optional[str] = None, avoid_words: frozenset[str] = frozenset(), **fill: str) -> str:
        """One phrase for ``intent`` / ``key`` / ``magnitude`` (the nearest magnitude the bank has), placeholders
        filled; ``avoid``: a phrase not to repeat when there is another (a restatement); ``avoid_words``: words
        (lower case) the phrase should not contain when another phrase does without them."""
        sec: Any = self._section(intent)
        if sec is None:
            raise PhraseBankError(f"phrase bank {self.source} has no {intent!r} phrases")
        if key is not None:
            if not isinstance(sec, dict) or key not in sec:
                raise PhraseBankError(f"phrase bank {self.source} has no {intent}.{key} phrases")
            sec = sec[key]
        if isinstance(sec, dict):
            order = _nearest_magnitudes(magnitude or "medium")
            m = next((m for m in order if m in sec), None) or next(iter(sec))
            sec = sec[m]
        options = [s for s in sec if s != avoid] or list(sec)
        if avoid_words:
            options = [s for s in options if not avoid_words & words_of(s)] or options
        text = rng.choice(options)
        for k, v in fill.items():
            text = text.replace("{" + k + "}", v)
        return text

    def free_of(self, intent: str, key: str, words: frozenset[str]) -> bool:
        """Whether some phrase of ``intent`` / ``key`` (a flat list, e.g. offset_number) avoids every one of ``words``."""
        sec = self._section(intent)
        lst = sec.get(key) if isinstance(sec, dict) else None
        return isinstance(lst, list) and any(not words & words_of(s) for s in lst)

    def magnitudes(self, intent: str, key: str) -> list[str]:
        sec = self.data.get(intent, {}).get(key, {})
        return [m for m in MAGNITUDES if isinstance(sec, dict) and m in sec]


def _nearest_magnitudes(m: str) -> list[str]:
    return {"small": ["small", "medium", "large"], "medium": ["medium", "small", "large"],
            "large": ["large", "medium", "small"]}.get(m, ["medium", "small", "large"])


__all__ = ["PhraseBank", "PhraseBankError", "DEFAULT_PHRASES", "DIRECTIONS", "MAGNITUDES", "OPTIONAL_WITH_DEFAULT",
           "load_json_strict"]

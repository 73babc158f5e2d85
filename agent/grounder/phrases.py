"""The grammar's data: phrase pools, the ASR homophone table and the held-out blocklist, as JSON files.

- ``data/phrases.json``: pools ``{"name": {"core": [...], "extra": [...]}}``. Core phrases are always
  trained; extras are split by position (index % 4 == 3 held out for ``split="test"``). A phrase held
  out in any pool is trained through no pool (unless it is some pool's core phrase, then it is not held
  out anywhere), so the generated test split measures phrasings the model never saw.
- ``data/homophones.json``: ``{"word": ["what a recogniser may write", ...]}``.
- ``data/blocked.json``: salted SHA-256 digests of evaluation utterances (``../shared/eval`` and
  ``tests/data/real_corrections.jsonl``, three or more words, case and punctuation folded). The corpus
  never emits an utterance whose digest is listed; the texts themselves are not in the repository.
  Rebuild it with ``python3 -m agent.grounder.phrases ../shared tests/data/real_corrections.jsonl``.

Every file is validated on load: duplicate keys are rejected (Python's ``json`` keeps the last one
silently), pools need a non-empty ``core`` list of non-empty strings without repeats, and no pool
phrase may be a blocked utterance. Errors raise :class:`PhraseDataError`.
"""
from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from hardware.errors import RobocorrectError

DATA = Path(__file__).resolve().parent / "data"
SALT = "robocorrect-heldout-v1:"
MIN_WORDS = 3  # utterances this long or longer are kept out of training verbatim


class PhraseDataError(RobocorrectError, ValueError):
    """A grammar data file is malformed (duplicate key, wrong shape, a blocked phrase)."""


def fold(text: str) -> str:
    """Lower case, punctuation to spaces, single spaces: how utterances are compared for leaks."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def fold_template(text: str) -> str:
    """:func:`fold` with every ``{placeholder}`` written as ``obj`` (templates compare with templates)."""
    return fold(re.sub(r"\{\w+\}", " obj ", text))


def digest(folded: str) -> str:
    return hashlib.sha256((SALT + folded).encode()).hexdigest()


def load_strict(path: Path) -> Any:
    """JSON with duplicate object keys rejected."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:
                raise PhraseDataError(f"{path}: key {k!r} appears twice")
            out[k] = v
        return out

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"), object_pairs_hook=pairs)
    except json.JSONDecodeError as e:
        raise PhraseDataError(f"{path}: not valid JSON: {e}") from None


@dataclass(frozen=True)
class Pool:
    """One phrase pool: ``core`` (always trained), ``train`` (core + trained extras), ``test`` (held out)."""

    name: str
    core: tuple[str, ...]
    train: tuple[str, ...]
    test: tuple[str, ...]


def _strings(path: Path, where: str, xs: Any, allow_empty: bool) -> list[str]:
    if not isinstance(xs, list) or (not xs and not allow_empty):
        raise PhraseDataError(f"{path}: {where} must be a {'' if allow_empty else 'non-empty '}list of strings")
    for s in xs:
        if not isinstance(s, str) or not s.strip():
            raise PhraseDataError(f"{path}: {where} has a non-string or empty entry {s!r}")
    dup = {s for s in xs if xs.count(s) > 1}
    if dup:
        raise PhraseDataError(f"{path}: {where} repeats {sorted(dup)}")
    return list(xs)


@lru_cache(maxsize=None)
def blocked() -> frozenset[str]:
    """Digests of utterances that must never be generated (see the module docstring)."""
    p = DATA / "blocked.json"
    if not p.exists():
        return frozenset()
    d = load_strict(p)
    if not isinstance(d, dict) or d.get("salt") != SALT or not isinstance(d.get("sha256"), list):
        raise PhraseDataError(f"{p}: expected {{'salt': {SALT!r}, 'sha256': [...]}}")
    return frozenset(d["sha256"])


def is_blocked(text: str) -> bool:
    """True when ``text`` (folded, or as a template) is a blocked evaluation utterance of 3+ words."""
    b = blocked()
    if not b:
        return False
    f = fold(text)
    if len(f.split()) >= MIN_WORDS and digest(f) in b:
        return True
    t = fold_template(text)
    return t != f and len(t.split()) >= MIN_WORDS and digest(t) in b


@lru_cache(maxsize=None)
def load_pools(path: str = str(DATA / "phrases.json")) -> dict[str, Pool]:
    """All pools by name, validated, with the held-out split applied across pools."""
    p = Path(path)
    raw = load_strict(p)
    if not isinstance(raw, dict):
        raise PhraseDataError(f"{p}: expected an object of pools")
    pools = {k: v for k, v in raw.items() if not k.startswith("_")}
    parsed: dict[str, tuple[list[str], list[str]]] = {}
    for name, v in pools.items():
        if not isinstance(v, dict) or set(v) != {"core", "extra"}:
            raise PhraseDataError(f"{p}: pool {name!r} must be {{'core': [...], 'extra': [...]}}")
        core = _strings(p, f"{name}.core", v["core"], allow_empty=False)
        extra = _strings(p, f"{name}.extra", v["extra"], allow_empty=True)
        both = set(core) & set(extra)
        if both:
            raise PhraseDataError(f"{p}: pool {name!r} has {sorted(both)} in both core and extra")
        for s in core + extra:
            if is_blocked(s):
                raise PhraseDataError(f"{p}: pool {name!r} holds an evaluation utterance ({s!r}); remove it")
        parsed[name] = (core, extra)
    all_core = {s for c, _ in parsed.values() for s in c}
    held = {s for _, e in parsed.values() for i, s in enumerate(e) if i % 4 == 3} - all_core
    out: dict[str, Pool] = {}
    for name, (core, extra) in parsed.items():
        train = core + [s for s in extra if s not in held]
        test = [s for i, s in enumerate(extra) if i % 4 == 3 and s in held]
        out[name] = Pool(name, tuple(core), tuple(train), tuple(test))
    return out


@lru_cache(maxsize=None)
def load_homophones(path: str = str(DATA / "homophones.json")) -> dict[str, tuple[str, ...]]:
    p = Path(path)
    raw = load_strict(p)
    if not isinstance(raw, dict):
        raise PhraseDataError(f"{p}: expected an object word -> [confusions]")
    return {k: tuple(_strings(p, k, v, allow_empty=False)) for k, v in raw.items() if not k.startswith("_")}


# ---------------------------------------------------------------------------------------------------
# evaluation utterances (read only to build or check the blocklist; never training data)

def _walk(x: Any) -> Iterable[str]:
    if isinstance(x, str):
        yield x
    elif isinstance(x, dict):
        for k, v in x.items():
            if not str(k).startswith("_"):
                yield from _walk(v)
    elif isinstance(x, list):
        for v in x:
            yield from _walk(v)


def evaluation_utterances(shared: Path | None = None, extra_files: Iterable[Path] = ()) -> set[str]:
    """Folded utterances (3+ words) of ``shared/eval/*.json*`` and of extra JSON Lines case files.

    Templates (``{object}``) are folded with :func:`fold_template`."""
    files: list[Path] = []
    if shared is not None and (Path(shared) / "eval").is_dir():
        files += sorted((Path(shared) / "eval").glob("*.json*"))
    files += [Path(f) for f in extra_files if Path(f).exists()]
    out: set[str] = set()
    for f in files:
        if f.suffix == ".jsonl":
            for line in f.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    c = json.loads(line)
                    out |= {fold(u) for u in [c.get("utterance", "")] + [h.get("utterance", "") for h in c.get("history", [])]}
        elif f.suffix == ".json":
            out |= {fold_template(s) for s in _walk(json.loads(f.read_text(encoding="utf-8")))}
    return {u for u in out if len(u.split()) >= MIN_WORDS}


def write_blocklist(shared: Path | None, extra_files: Iterable[Path], out: Path = DATA / "blocked.json") -> int:
    evals = evaluation_utterances(shared, extra_files)
    d = {"_about": "Salted SHA-256 of evaluation utterances (3+ words, folded) the corpus must never generate; "
                   "rebuild: python3 -m agent.grounder.phrases ../shared tests/data/real_corrections.jsonl tests/data/offtopic_talk.jsonl tests/data/overdone_complaints.jsonl",
         "salt": SALT, "sha256": sorted(digest(u) for u in evals)}
    out.write_text(json.dumps(d, indent=0) + "\n")
    blocked.cache_clear()
    return len(evals)


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args:
        raise SystemExit("usage: python3 -m agent.grounder.phrases SHARED_DIR [CASES.jsonl ...]")
    n = write_blocklist(Path(args[0]), [Path(a) for a in args[1:]])
    print(f"blocked {n} evaluation utterances (digests) in {DATA / 'blocked.json'}")

"""Few-shot examples retrieved for one utterance, as DROC retrieves past corrections: from the training
corpus and from the knowledge base.

- **Corpus**: :class:`ExampleBank` draws grounding examples from the training grammar
  (:func:`agent.grounder.corpus.ground_example`, ``split="train"``, a fixed seed) and writes each one's
  answer as an edit (:mod:`agent.llm.edits`), with the magnitudes the embedded policy uses
  (:mod:`agent.grounder.labels`). Retrieval is lexical (TF-IDF over words and character 3-grams, cosine),
  which is instant and robust to ASR misspellings; the corpus is never the evaluation set
  (``shared/eval`` utterances are in no grammar).
- **Knowledge base**: entries nearest to the utterance by :meth:`memory.kb.KnowledgeBase.search` (MiniLM),
  each entry's ``text`` with its ``effect`` as the answer, plus the knowledge the caller retrieved for
  this plan (``ground(..., knowledge=...)``).

An :class:`Example` is one exchange of the prompt: ``"utterance" ->`` answered by ``{edit}`` (with the
earlier correction it followed, when it has one).
"""
from __future__ import annotations

import json
import math
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from agent.policy import PolicyError


@dataclass(frozen=True)
class Example:
    """One retrieved example: what was said (after ``before``, when set), and the edit that answers it."""

    utterance: str
    answer: dict[str, Any]
    before: str = ""
    source: str = "corpus"

    def line(self) -> str:
        said = f'(after "{self.before}") "{self.utterance}"' if self.before else f'"{self.utterance}"'
        return f"{said} -> {json.dumps(self.answer)}"


def _r(v: float) -> float:
    return round(float(v), 3) + 0.0  # no -0.0 in prompts


def _effect_changes(lab: dict[str, str], numbers: dict[str, float]) -> list[dict[str, Any]]:
    """The edit changes for head labels (``+s`` / ``-m`` / ``+n`` ... as in agent.grounder.labels)."""
    from agent.grounder.labels import OFFSET_M, SCALE_RATIO, YAW_RAD

    def mag(a: str, c: str, table: dict[str, float]) -> float:
        sign = -1.0 if c[0] == "-" else 1.0
        return sign * (abs(numbers[a]) if c[1] == "n" and a in numbers else table.get(c[1], table["m"]))

    out: list[dict[str, Any]] = []
    off = [0.0, 0.0, 0.0]
    for i, a in enumerate("xyz"):
        c = lab.get(a, "none")
        if c != "none":
            off[i] = mag(a, c, OFFSET_M)
    if any(off):
        out.append({"arg": "offset", "op": "add", "value": [_r(v) for v in off]})
    if lab.get("yaw", "none") != "none":
        out.append({"arg": "yaw", "op": "add", "value": _r(mag("yaw", lab["yaw"], YAW_RAD))})
    for h in ("speed", "force", "height"):
        c = lab.get(h, "none")
        if c != "none":
            out.append({"arg": h, "op": "scale", "value": _r(SCALE_RATIO[h][c if c[1] != "n" else c[0] + "m"])})
    return out


def _rescaled(changes: list[dict[str, Any]], factor: float) -> list[dict[str, Any]]:
    out = []
    for ch in changes:
        v = ch["value"]
        if ch["op"] == "scale":
            v = _r(v ** factor)
        elif isinstance(v, list):
            v = [_r(x * factor) for x in v]
        else:
            v = _r(v * factor)
        out.append({**ch, "value": v})
    return out


def corpus_answer(ex: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The edit that answers a corpus grounding example (None when its labels do not make one)."""
    from agent.grounder.labels import REVERSE_FRACTION

    lab = ex["labels"]
    level = lab["level"]
    if level == "stop":
        return {"level": "stop"}
    if level == "none":
        return {"level": "none"}
    if level == "unclear":
        return {"level": "none", "question": "sorry, what should I change?"}
    if level == "plan":
        op = lab["plan_op"]
        if op == "retarget_object" and ex.get("obj"):
            return {"level": "plan", "changes": [{"arg": "object", "op": "set", "value": ex["obj"]}]}
        if op == "retarget_target" and ex.get("tgt"):
            return {"level": "plan", "changes": [{"arg": "target", "op": "set", "value": ex["tgt"]}]}
        if op == "append" and ex.get("obj"):
            return {"level": "plan", "append": {"object": ex["obj"], "target": ex.get("tgt") or ""}}
        return None
    if lab["hist"] == "new":
        ch = _effect_changes(lab, ex.get("numbers", {}))
    else:
        if not ex.get("history"):
            return None
        h = ex["history"][-1]
        last = _effect_changes(h["labels"], h.get("numbers", {}))
        if lab["hist"] == "repeat":
            ch = _rescaled(last, {"same": 1.0, "small": 0.5, "large": 2.0}[lab["hmag"]])
        else:
            ch = _rescaled(last, -REVERSE_FRACTION)
    return {"level": "skill", "changes": ch} if ch else None


_TOKEN = re.compile(r"[a-z0-9]+")


def _features(text: str) -> Counter:
    t = " ".join(_TOKEN.findall(text.lower()))
    f: Counter = Counter(f"w:{w}" for w in t.split())
    padded = f" {t} "
    f.update(f"c:{padded[i:i + 3]}" for i in range(len(padded) - 2))
    return f


class ExampleBank:
    """Corpus examples with their edits, searchable by utterance (TF-IDF cosine).

    ``size``: grounding examples drawn from the grammar (duplicates dropped); ``seed``: the draw.
    Building takes about a second for 2000 examples.
    """

    def __init__(self, size: int = 2000, seed: int = 0) -> None:
        from agent.grounder.corpus import ground_example

        rng = random.Random(f"llm-examples-{seed}")
        seen: set[tuple[str, str]] = set()
        self.examples: list[Example] = []
        for _ in range(size):
            ex = ground_example(rng, "train")
            ans = corpus_answer(ex)
            if ans is None or ans.get("append", {}).get("target") == "":
                continue
            before = ex["history"][-1]["utterance"] if ex.get("history") and ex["labels"]["hist"] != "new" else ""
            key = (ex["utterance"], before)
            if key in seen:
                continue
            seen.add(key)
            self.examples.append(Example(ex["utterance"], ans, before, "corpus"))
        feats = [_features(e.utterance + " " + e.before) for e in self.examples]
        df: Counter = Counter()
        for f in feats:
            df.update(f.keys())
        n = len(feats)
        self.idf = {k: math.log((1 + n) / (1 + v)) + 1.0 for k, v in df.items()}
        self.vectors = [self._weigh(f) for f in feats]

    def _weigh(self, f: Counter) -> dict[str, float]:
        v = {k: c * self.idf.get(k, 0.0) for k, c in f.items() if k in self.idf}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        return {k: x / norm for k, x in v.items()}

    def search(self, utterance: str, k: int = 4, before: str = "") -> list[Example]:
        """The ``k`` examples nearest to ``utterance`` (said after ``before``), best first, distinct answers."""
        q = self._weigh(_features(utterance + " " + before))
        scored = sorted(((sum(w * v.get(t, 0.0) for t, w in q.items()), i) for i, v in enumerate(self.vectors)), reverse=True)
        out: list[Example] = []
        answers: set[str] = set()
        for _, i in scored:
            e = self.examples[i]
            key = json.dumps(e.answer, sort_keys=True)
            if key in answers:
                continue
            answers.add(key)
            out.append(e)
            if len(out) >= k:
                break
        return out


_BANKS: dict[tuple[int, int], ExampleBank] = {}


def shared_bank(size: int = 2000, seed: int = 0) -> ExampleBank:
    """One :class:`ExampleBank` per (size, seed) per process."""
    key = (size, seed)
    if key not in _BANKS:
        _BANKS[key] = ExampleBank(size, seed)
    return _BANKS[key]


def knowledge_examples(entries: Sequence[dict[str, Any]]) -> list[Example]:
    """Knowledge entries (``{"text", "effect": {"skill", "changes"}}``) as examples; others are left out."""
    out = []
    for e in entries:
        if not isinstance(e, dict):
            continue
        eff = e.get("effect") or {}
        changes = eff.get("changes") if isinstance(eff, dict) else None
        text = e.get("text")
        if isinstance(text, str) and text.strip() and isinstance(changes, list) and changes:
            out.append(Example(text.strip(), {"level": "skill", "changes": changes}, "", "kb"))
    return out


class KBExamples:
    """Examples from a knowledge-base folder: the entries nearest to the utterance (``KnowledgeBase.search``)."""

    def __init__(self, path: str, k: int = 2) -> None:
        from memory.kb import KnowledgeBase

        p = Path(path).expanduser()
        if not p.exists():
            raise PolicyError(f"no knowledge base at {p} (kb= takes a folder made by robocorrect)")
        self.kb = KnowledgeBase(p)
        self.k = k

    def search(self, utterance: str) -> list[Example]:
        return knowledge_examples(self.kb.search(utterance, k=self.k))

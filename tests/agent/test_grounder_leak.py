"""Evaluation files are for checking, never for training (issue #11).

No utterance of three or more words of ``../shared/eval/*.json*`` (next to the repository, when present) or
of the held-out real phrasings ``tests/data/real_corrections.jsonl`` or the held-out off-topic talk
``tests/data/offtopic_talk.jsonl`` is in the grammar's lists or in the
generated corpus, case and punctuation folded; ``phrases_dev.json``'s templates (``{object}``) match any name.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent.grounder import corpus, phrases
from agent.grounder.trainer import TrainConfig

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
REAL = ROOT / "tests" / "data" / "real_corrections.jsonl"
TALK = ROOT / "tests" / "data" / "offtopic_talk.jsonl"
OVERDONE = ROOT / "tests" / "data" / "overdone_complaints.jsonl"


def _evals() -> set[str]:
    return phrases.evaluation_utterances(SHARED if (SHARED / "eval").is_dir() else None, [REAL, TALK, OVERDONE])


def _template_patterns() -> list[re.Pattern[str]]:
    out = []
    for u in _evals():
        if " obj" in f" {u} " and (SHARED / "eval").is_dir():
            name = r"(?:[a-z]+ ){0,2}(?:block|bowl|tray|cube|one)s?"  # a scene object said by name
            out.append(re.compile("^" + re.escape(u).replace("obj", name) + "$"))
    return out


@pytest.fixture(scope="module")
def training_corpus() -> list[dict]:
    cfg = TrainConfig()
    return corpus.generate(cfg.n_ground, cfg.n_plan, cfg.seed, "train") + corpus.generate(cfg.n_val_ground, cfg.n_val_plan, cfg.seed + 1000, "test")


def _texts(examples: list[dict]) -> set[str]:
    out = set()
    for e in examples:
        out.add(phrases.fold(e.get("utterance") or e["task"]))
        out |= {phrases.fold(h["utterance"]) for h in e.get("history", [])}
    return out


def test_the_real_phrasings_file_is_there_and_big_enough():
    import json

    cases = [json.loads(x) for x in REAL.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert sum(c["kind"] == "correction" for c in cases) >= 80
    assert sum(c["kind"] == "non_correction" for c in cases) >= 40
    assert all(c.get("source") for c in cases)
    talk = [json.loads(x) for x in TALK.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert len(talk) >= 40 and all(c["kind"] == "non_correction" and c["expect"] == [{"level": "none"}] for c in talk)


def test_no_evaluation_utterance_in_the_lists():
    evals = _evals()
    assert evals
    for pool in phrases.load_pools().values():
        for s in pool.core + pool.train + pool.test:
            assert phrases.fold(s) not in evals and phrases.fold_template(s) not in evals, (pool.name, s)


def test_no_evaluation_utterance_in_the_generated_corpus(training_corpus):
    evals = _evals()
    texts = _texts(training_corpus)
    leaked = sorted(texts & evals)
    assert not leaked, leaked[:10]
    pats = _template_patterns()
    hits = [t for t in texts for p in pats if p.match(t)]
    assert not hits, hits[:10]


def test_the_blocklist_is_up_to_date():
    """Every evaluation utterance present now is in data/blocked.json (rebuild: python3 -m agent.grounder.phrases ...)."""
    missing = [u for u in _evals() if phrases.digest(u) not in phrases.blocked()]
    assert not missing, f"{len(missing)} evaluation utterances are not blocked; rebuild data/blocked.json"


@pytest.mark.skipif(not (SHARED / "eval").is_dir(), reason="no ../shared/eval next to the repository")
def test_shared_eval_leak_check_passes():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, str(SHARED / "checks" / "eval_leak.py"), str(SHARED)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr

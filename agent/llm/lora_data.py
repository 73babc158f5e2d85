"""Training data for the LoRA adapter of :mod:`agent.llm.lora`: prompts and edit answers, tokenised.

Two sources, never an evaluation set:

- **the generated corpus**: :func:`agent.grounder.corpus.ground_example` with the *train* phrase templates
  (it skips every utterance whose digest is in ``agent/grounder/data/blocked.json``, i.e. the
  ``shared/eval`` and held-out utterances), each answered by the edit the embedded policy's labels mean
  (:func:`agent.llm.examples.corpus_answer`, the magnitudes of :mod:`agent.grounder.labels`);
- **hindsight examples** from episode logs (:func:`agent.learn.hindsight.examples_from_records`: kept,
  undone, contradicted, restated corrections), in the same corpus format, answered the same way. A
  hindsight example whose answer needs the labels of an earlier correction that the log does not carry
  ("more", "too far" after a kept correction), task-to-plan examples and blocked utterances are left out
  and counted.

Each example is written as the ``hf`` backend will prompt it (:func:`agent.llm.prompt.edit_messages` with
the ``lora-v1`` style, on the validated plan), optionally with examples retrieved for it as the backend
retrieves them (never the example itself), and the answer is ``json.dumps(edit)`` followed by the
end-of-turn token. Only the answer tokens are trained on.
"""
from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional, Sequence

from agent.llm import prompt
from agent.llm.examples import Example, corpus_answer
from agent.policy import PolicyError

STYLE = prompt.STYLES["lora-v1"]


@dataclass
class TrainExample:
    """One training exchange: the chat ``messages`` (the case) and the ``answer`` edit; ``source`` names its origin."""

    messages: list[dict[str, str]]
    answer: dict[str, Any]
    utterance: str
    source: str = "corpus"

    def record(self) -> dict[str, Any]:
        """What the data file keeps of it (the data an adapter came from)."""
        return {"source": self.source, "utterance": self.utterance, "answer": self.answer, "examples": (len(self.messages) - 2) // 2}


@dataclass
class DataReport:
    """Counts of what went into (and was left out of) the training set."""

    corpus: int = 0
    corpus_unanswerable: int = 0
    invalid_answer: int = 0  # answers the backend's validation would reject (never trained on)
    hindsight: dict[str, int] = field(default_factory=dict)
    hindsight_left_out: dict[str, int] = field(default_factory=dict)
    episodes: int = 0
    with_examples: int = 0
    too_long: int = 0


def _messages(ex: dict[str, Any], shown: Sequence[Example]) -> Optional[list[dict[str, str]]]:
    from skills.schema import SkillArgError, validate_plan

    try:
        current = validate_plan(copy.deepcopy(ex["plan"]), ex["scene"])
    except (SkillArgError, KeyError, TypeError):
        return None
    step = max(0, min(int(ex.get("step", 0)), len(current) - 1))
    return prompt.edit_messages(ex["scene"], ex.get("task", ""), current, step, list(ex.get("history") or []), ex["utterance"], shown, STYLE)


def valid(ex: dict[str, Any], answer: dict[str, Any]) -> bool:
    """Whether the ``hf`` backend would accept ``answer`` for ``ex`` (:func:`agent.llm.parse.parse_grounding`)."""
    from agent.llm import edits, parse

    try:
        step = max(0, min(int(ex.get("step", 0)), len(ex["plan"]) - 1))
        from skills.schema import validate_plan

        current = validate_plan(copy.deepcopy(ex["plan"]), ex["scene"])
        parse.parse_grounding(json.dumps(edits.to_plan_answer(answer, current, step)), ex["scene"], ex["plan"])
    except (PolicyError, KeyError, TypeError, ValueError):
        return False
    return True


def _answer(ex: dict[str, Any]) -> Optional[dict[str, Any]]:
    try:
        ans = corpus_answer(ex)
    except (KeyError, TypeError, IndexError):  # "more" after a logged correction whose labels the log does not carry
        return None
    if ans is None or ans.get("append", {}).get("target") == "":
        return None
    return ans


def corpus_examples(n: int, seed: int, report: DataReport) -> list[dict[str, Any]]:
    """``n`` grounding examples of the generated corpus (train templates) that have an edit answer."""
    from agent.grounder.corpus import ground_example

    rng = random.Random(f"lora-corpus-{seed}")
    out: list[dict[str, Any]] = []
    tries = 0
    while len(out) < n and tries < 3 * n + 100:
        tries += 1
        ex = ground_example(rng, "train")
        if _answer(ex) is None:
            report.corpus_unanswerable += 1
            continue
        out.append({**ex, "source": "corpus"})
    report.corpus = len(out)
    return out


def hindsight_examples(logs: Iterable[str], report: DataReport) -> list[dict[str, Any]]:
    """The grounding examples that :mod:`agent.learn.hindsight` labels in the ended episodes of ``logs``."""
    from agent.grounder.phrases import is_blocked
    from agent.learn.hindsight import examples_from_records
    from memory.episodes import EpisodeLog

    records: list[dict[str, Any]] = []
    for root in logs:
        with EpisodeLog(root, create=False) as log:  # a missing log is an error, and nothing is created
            records += [log.load(s["id"]) for s in log.list() if s["status"] in ("success", "failure")]
    report.episodes = len(records)
    examples, _ = examples_from_records(records)
    out = []
    for ex in examples:
        why = None
        if ex.get("kind") != "ground":
            why = "task_to_plan"
        elif is_blocked(ex.get("utterance", "")):
            why = "blocked_utterance"
        elif _answer(ex) is None:
            why = "no_edit_answer"
        if why:
            report.hindsight_left_out[why] = report.hindsight_left_out.get(why, 0) + 1
            continue
        report.hindsight[ex["source"]] = report.hindsight.get(ex["source"], 0) + 1
        out.append({**ex, "source": f"hindsight:{ex['source']}"})
    return out


def retrieved(ex: dict[str, Any], k: int) -> list[Example]:
    """The ``k`` corpus examples the backend would show for ``ex`` (nearest last), never ``ex``'s own utterance."""
    from agent.llm.examples import shared_bank

    before = str(ex["history"][-1].get("utterance", "")) if ex.get("history") else ""
    found = [e for e in shared_bank().search(ex["utterance"], k + 2, before) if e.utterance != ex["utterance"]]
    return list(reversed(found[:k]))


def build(raw: list[dict[str, Any]], examples_fraction: float, k: int, seed: int, report: DataReport) -> list[TrainExample]:
    """Prompts and answers for ``raw`` corpus-format examples; ``examples_fraction`` of them get ``k`` retrieved examples."""
    rng = random.Random(f"lora-shots-{seed}")
    out = []
    for ex in raw:
        shown = retrieved(ex, k) if k and rng.random() < examples_fraction else []
        msgs = _messages(ex, shown)
        ans = _answer(ex)
        if msgs is None or ans is None:
            continue
        if not valid(ex, ans):
            report.invalid_answer += 1
            continue
        report.with_examples += bool(shown)
        out.append(TrainExample(msgs, ans, ex["utterance"], ex.get("source", "corpus")))
    return out


def encode(tok: Any, examples: Sequence[TrainExample], max_len: int, report: DataReport) -> list[tuple[list[int], int, int]]:
    """``(token ids, prompt length, index in examples)`` per example kept, rendered with the tokenizer's chat template as the backend does.

    The answer is ``json.dumps(answer)`` and the end-of-turn token; examples longer than ``max_len``
    tokens are left out (counted in ``report.too_long``).
    """
    if not getattr(tok, "chat_template", None):
        raise PolicyError("LoRA training needs a tokenizer with a chat template (an instruct model)")
    eos = tok.eos_token_id
    out = []
    for i, ex in enumerate(examples):
        text = tok.apply_chat_template(ex.messages, tokenize=False, add_generation_prompt=True)
        p = tok(text, add_special_tokens=False)["input_ids"]
        a = tok(json.dumps(ex.answer), add_special_tokens=False)["input_ids"] + ([eos] if eos is not None else [])
        if len(p) + len(a) > max_len:
            report.too_long += 1
            continue
        out.append((p + a, len(p), i))
    return out

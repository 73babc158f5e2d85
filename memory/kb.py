"""The knowledge base: lessons taught by corrections, stored in SQLite, searched through FAISS.

Layout of a knowledge base directory (default ``$ROBOCORRECT_HOME/kb``, else ``~/.robocorrect/kb``)::

    kb.sqlite      entries, their metadata, evidence and vectors (blobs): the source of truth (WAL mode)
    text.index     FAISS index over entry text embeddings (MiniLM, 384-d)  -- derived, rebuildable
    visual.index   FAISS index over object appearance vectors (OpenCV descriptor) -- derived, rebuildable

:class:`KnowledgeBase` is a facade over its parts, each with one job:

- :mod:`memory.store` — SQLite schema, migrations (old files open and are upgraded), transactions, rows;
- :mod:`memory.index` — the FAISS indexes, kept in step with the store's generation counter
  (:class:`memory.index.IndexSync`); a stale or damaged index file is reloaded or rebuilt from SQLite;
- :mod:`memory.retrieval` — candidates and scoring (weights in :class:`memory.retrieval.RetrievalConfig`);
- :mod:`memory.learning` — what an episode teaches (credit assignment in :mod:`memory.credit`, scope from
  evidence in :mod:`memory.scope`) and the confidence rules;
- :mod:`memory.kb_io` — JSON Lines import and export.

Entries (:class:`memory.entry.Entry`) are what policies receive (``Entry.to_dict()``);
``memory.knowledge.apply_knowledge`` applies them. Every write is one SQLite transaction that bumps the
generation, so another process (a trainer beside a teaching session) sees it; a process killed mid-write leaves
the last committed state readable.
"""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from memory.entry import Entry, describe_entry, validate_effect
from memory.errors import EntryNotFound, ImportFormatError, KBError
from memory.index import IndexConfig, IndexSync
from memory.kb_io import export_entries, read_entries
from memory.learning import WEAKEN_FACTOR, IngestReport, Learner, merge_into
from memory.rerun import StepTrial
from memory.retrieval import Encoders, RetrievalConfig, Retriever
from memory.store import EntryStore, Txn

__all__ = ["Entry", "EntryNotFound", "ImportFormatError", "IngestReport", "KBError", "KnowledgeBase", "default_kb_path",
           "describe_entry"]
log = logging.getLogger(__name__)
PERSIST_MAX = 200_000  # above this many entries, index files are written on flush()/close() only


def default_kb_path() -> Path:
    """``$ROBOCORRECT_HOME/kb`` if set, else ``~/.robocorrect/kb``."""
    home = os.environ.get("ROBOCORRECT_HOME")
    return (Path(home) if home else Path.home() / ".robocorrect") / "kb"


class KnowledgeBase:
    """SQLite-backed store of :class:`Entry` with FAISS text and visual indexes; safe for two processes at once.

    A facade: each public method is a one-line hand-off to the part that does the job (module docstring), so its
    ~20 methods are the knowledge base's public API, not twenty jobs. ``embedder`` (default: the shared MiniLM)
    and ``visual`` (default: :class:`memory.visual.OpenCVDescriptor`) are created only when first needed; listing,
    showing, forgetting and exporting never load a model.
    """

    def __init__(self, path: str | Path | None = None, embedder: Any = None, visual: Any = None,
                 index_config: Optional[IndexConfig] = None, timeout_s: float = 30.0, persist_max: int = PERSIST_MAX,
                 retrieval: Optional[RetrievalConfig] = None) -> None:
        self.path = Path(path) if path is not None else default_kb_path()
        if self.path.suffix in (".sqlite", ".db") and not self.path.is_dir():
            self.path = self.path.parent
        self.path.mkdir(parents=True, exist_ok=True)
        self.db_path = self.path / "kb.sqlite"
        self.index_paths = {"text": self.path / "text.index", "visual": self.path / "visual.index"}
        self.encoders = Encoders(embedder, visual)
        self.store = EntryStore(self.db_path, timeout_s)
        self.indexes = IndexSync(self.store, self.index_paths, index_config, persist_max, self.encoders.text_dim)
        self.retriever = Retriever(self.store, self.indexes, self.encoders, retrieval)
        self.learner = Learner(self.store, self.indexes, self.encoders)

    @property
    def embedder(self) -> Any:
        return self.encoders.embedder

    @property
    def visual(self) -> Any:
        return self.encoders.visual

    @property
    def last_index_event(self) -> str:
        """'loaded', 'rebuilt: <why>' or 'updated' — for logs and tests."""
        return self.indexes.last_event

    def close(self) -> None:
        """Write index files if they are behind, then close the database. A second call does nothing."""
        with self.store.lock:
            if self.store.con is None:
                return
            try:
                self.indexes.flush()
            finally:
                self.store.close()

    def __enter__(self) -> "KnowledgeBase":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __len__(self) -> int:
        return self.store.count()

    def generation(self) -> int:
        """The write counter: it changes whenever any process commits a change."""
        return self.store.generation()

    # --- entries ----------------------------------------------------------------------------------
    def get(self, entry_id: int) -> Entry:
        """The entry with this id; :class:`EntryNotFound` otherwise."""
        with self.store.read() as con:
            return self.store.get(con, entry_id)

    def list(self, min_confidence: float = 0.0, scope: Optional[str] = None, skill: Optional[str] = None,
             limit: Optional[int] = None) -> list[Entry]:
        """Entries by id, optionally filtered."""
        out = [e for e in self.store.entries(min_confidence, skill) if not scope or e.scope == scope]
        return out[:limit] if limit else out

    def add(self, entry: Entry | dict[str, Any], image: Optional[np.ndarray] = None, merge: bool = True) -> int:
        """Store an entry (merging into an existing one with the same conditions unless ``merge=False``); returns its id."""
        e = entry if isinstance(entry, Entry) else Entry.from_dict(entry)
        validate_effect(e.effect)
        now = time.time()
        e.created, e.updated = e.created or now, e.updated or now
        tvec = self.encoders.embed([e.text])[0]
        vvec = None if image is None else self.visual.encode(image)
        with self.store.lock, self.store.transaction(self.indexes.after_write) as txn:
            return self._put(txn, e, tvec, vvec, merge, imported=False)

    def _put(self, txn: Txn, e: Entry, tvec: np.ndarray, vvec: Optional[np.ndarray], merge: bool, imported: bool) -> int:
        self.store.check_space(txn.con, "text_space", self.embedder.name, len(tvec), True)
        if vvec is not None:
            self.store.check_space(txn.con, "visual_space", self.visual.name, len(vvec), True)
        x = self.store.by_cond_key(txn.con, e.key()) if merge else None
        if x is None:
            return self.store.insert(txn, e, tvec, vvec)
        old_text = x.text
        merge_into(x, e, prefer_new=not imported or e.updated >= x.updated)
        if imported:
            x.confidence = max(x.confidence, e.confidence)
        self.store.save(txn, x, self.encoders.embed([x.text])[0] if x.text != old_text else None, vvec)
        return int(x.id)  # type: ignore[arg-type]

    def bulk_load(self, entries: Sequence[Entry], text_vectors: np.ndarray) -> list[int]:
        """Insert many distinct entries in one transaction without merging (benchmarks, migrations); the indexes are
        rebuilt on next use (or call :meth:`rebuild_indexes`)."""
        with self.store.lock, self.store.transaction() as txn:
            if len(entries):
                self.store.check_space(txn.con, "text_space", self.embedder.name, int(text_vectors.shape[1]), True)
            ids = [self.store.insert(txn, e, v) for e, v in zip(entries, text_vectors)]
        self.indexes.invalidate()
        return ids

    def update(self, entry_id: int, **fields: Any) -> Entry:
        """Change ``text``, ``effect``, ``conditions``, ``confidence``, ``scope``, ``basis`` or ``status`` (validated)."""
        allowed = {"text", "effect", "conditions", "confidence", "scope", "basis", "status"}
        bad = sorted(set(fields) - allowed)
        if bad:
            raise KBError(f"cannot update {', '.join(bad)}; updatable: {', '.join(sorted(allowed))}")
        with self.store.lock:
            cur = self.get(entry_id)
            new = Entry.from_dict({**cur.to_dict(), **fields, "updated": time.time()})
            tvec = self.encoders.embed([new.text])[0] if new.text != cur.text else None
            with self.store.transaction(self.indexes.after_write) as txn:
                self.store.get(txn.con, entry_id)
                self.store.save(txn, new, tvec)
            return new

    def forget(self, entry_id: int) -> Entry:
        """Delete an entry; returns what was deleted. :class:`EntryNotFound` (nothing changed) if absent."""
        with self.store.lock, self.store.transaction(self.indexes.after_write) as txn:
            e = self.store.get(txn.con, entry_id)
            self.store.delete(txn, entry_id)
        return e

    def weaken(self, entry_id: int, factor: float = WEAKEN_FACTOR) -> Entry:
        """Lower an entry's confidence (``confidence *= factor``): "don't do that again"."""
        if not 0.0 <= factor < 1.0:
            raise KBError(f"weaken factor must be in [0, 1), got {factor}")
        with self.store.lock, self.store.transaction(self.indexes.after_write) as txn:
            e = self.store.get(txn.con, entry_id)
            e.confidence = round(e.confidence * factor, 4)
            e.stats["contradicted"] = e.stats.get("contradicted", 0) + 1
            e.updated = time.time()
            self.store.save(txn, e)
        return e

    def narrow(self, entry_id: int, exclude: Optional[dict[str, Any]] = None) -> Entry:
        """Narrow an entry's scope: so that it no longer covers ``exclude`` (object properties: name, kind, color,
        size), or, without it, back to the object it was last taught on. See :meth:`memory.learning.Learner.narrow`."""
        with self.store.lock, self.store.transaction(self.indexes.after_write) as txn:
            return self.learner.narrow(txn, self.store.get(txn.con, entry_id), exclude)

    # --- search, retrieval, learning --------------------------------------------------------------
    def search(self, text: str, k: int = 5) -> list[dict[str, Any]]:
        """Entries nearest to ``text`` in meaning (MiniLM cosine), best first, each dict with ``score``."""
        return self.retriever.search(text, k)

    def retrieve(self, task: str, scene: Any, plan: Optional[Sequence[dict[str, Any]]] = None, step: Optional[int] = None,
                 images: Optional[dict[str, np.ndarray]] = None, k: int = 8, min_confidence: float = 0.05,
                 candidates: int = 64, structured_limit: int = 1000) -> list[dict[str, Any]]:
        """Knowledge for this task, scene and plan, best first: see :meth:`memory.retrieval.Retriever.retrieve`."""
        return self.retriever.retrieve(task, scene, plan, step, images, k, min_confidence, candidates, structured_limit)

    def ingest(self, episode: dict[str, Any], images: Optional[dict[str, np.ndarray]] = None,
               trial: Optional[StepTrial] = None) -> IngestReport:
        """Learn from one ended episode (``memory.episodes`` record): see :mod:`memory.learning`. Idempotent per
        episode id. ``trial``: a replay of the episode in a simulator (:data:`memory.rerun.StepTrial`), which
        tests which part of a correction fixed a failed step."""
        return self.learner.ingest(episode, images, trial)

    # --- import / export / maintenance --------------------------------------------------------------
    def export(self, path: str | Path) -> int:
        """Write every entry as one JSON line (no vectors), atomically; returns the count."""
        return export_entries(self.list(), path)

    def import_file(self, path: str | Path) -> list[int]:
        """Read a JSON Lines export and add every entry (merging repeats); all or nothing.

        :class:`ImportFormatError` names the first bad line; the knowledge base is unchanged then.
        """
        entries = read_entries(path)
        if not entries:
            return []
        tvecs = self.encoders.embed([e.text for e in entries])
        with self.store.lock, self.store.transaction(self.indexes.after_write) as txn:
            return [self._put(txn, e, tv, None, True, imported=True) for e, tv in zip(entries, tvecs)]

    def reembed(self) -> int:
        """Recompute every text vector with the current embedder (after changing models); returns the count."""
        entries = self.list()
        vecs = self.encoders.embed([e.text for e in entries]) if entries else np.zeros((0, 1), np.float32)
        with self.store.lock, self.store.transaction() as txn:
            txn.con.execute("DELETE FROM meta WHERE key = 'text_space'")
            if entries:
                self.store.check_space(txn.con, "text_space", self.embedder.name, vecs.shape[1], True)
            for e, v in zip(entries, vecs):
                txn.con.execute("UPDATE entries SET text_vec = ? WHERE id = ?", (v.tobytes(), e.id))
        self.indexes.invalidate()
        return len(entries)

    def check(self) -> dict[str, Any]:
        """SQLite integrity plus index state (loads or rebuilds the indexes)."""
        ok = self.store.integrity()
        t, v = self.indexes.ensure()
        return {"sqlite": ok, "entries": len(self), "generation": self.generation(), "text_index": t.kind,
                "text_vectors": len(t), "visual_vectors": len(v), "index_event": self.last_index_event}

    def flush(self) -> None:
        """Write the index files if the in-memory indexes are newer than them."""
        self.indexes.flush()

    def rebuild_indexes(self, reason: str = "requested") -> None:
        """Rebuild both FAISS indexes from the vectors stored in SQLite and write them atomically."""
        self.indexes.rebuild(reason)

"""The knowledge base: corrections distilled into entries, stored in SQLite, searched through FAISS.

Layout of a knowledge base directory (default ``$ROBOCORRECT_HOME/kb``, else ``~/.robocorrect/kb``)::

    kb.sqlite      entries, their metadata and their vectors (blobs): the source of truth (WAL mode)
    text.index     FAISS index over entry text embeddings (MiniLM, 384-d)  -- derived, rebuildable
    visual.index   FAISS index over object appearance vectors (OpenCV descriptor) -- derived, rebuildable

Every write is one SQLite transaction (``BEGIN IMMEDIATE``) that also increments a ``generation`` counter.
Index files carry the generation and entry count they were built from plus a checksum
(:mod:`memory.index`) and are replaced atomically, so a reader — another process, e.g. a trainer beside a
teaching session — detects a stale or corrupt index and reloads or rebuilds it from SQLite. A process killed in
the middle of writing leaves the last committed state readable.

Entries (:class:`Entry`) are what policies receive (``Entry.to_dict()``); ``memory.knowledge.apply_knowledge``
applies them. There is at most one entry per set of conditions (skill + object/target properties): a repeat
merges into it, and per argument the newer value wins.
"""
from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional, Sequence

import numpy as np

from memory.knowledge import KNOWN_CONDITIONS, conditions_match, matches_scene, matching_steps, scene_objects, step_roles
from memory.index import IndexConfig, IndexCorrupt, IndexStale, VectorIndex
from hardware.errors import RobocorrectError

log = logging.getLogger(__name__)

SCOPES = ("skill", "task", "preference")
OPS = ("add", "scale", "set")
SCHEMA_VERSION = 1
CONFIRM_GAIN = 0.25  # confidence += gain * (1 - confidence) when confirmed
WEAKEN_FACTOR = 0.5  # confidence *= factor when corrected away
NEGATIVE_FACTOR = 0.3  # confidence *= factor on "don't do that again"
PERSIST_MAX = 200_000  # above this many entries, index files are written on flush()/close() only


class KBError(RobocorrectError, RuntimeError):
    """A knowledge-base operation that cannot be done; nothing was changed. The message says why."""


class EntryNotFound(KBError):
    """No entry with that id."""


class ImportFormatError(KBError):
    """An import file with a bad line; nothing was imported."""


def default_kb_path() -> Path:
    """``$ROBOCORRECT_HOME/kb`` if set, else ``~/.robocorrect/kb``."""
    home = os.environ.get("ROBOCORRECT_HOME")
    return (Path(home) if home else Path.home() / ".robocorrect") / "kb"


@dataclass
class Entry:
    """One piece of knowledge.

    ``effect``: ``{"skill": "pick", "changes": [{"arg": "offset", "op": "add", "value": [0, 0, -0.015]}, ...]}``
    (offset m, yaw rad, height m as ``add``; speed, force ratios as ``scale``), or ``{"plan_op": ...}``.
    ``conditions``: when it applies (keys in ``memory.knowledge``), e.g. ``{"skill": "pick", "object_kind":
    "block", "object_size": "small"}``. ``confidence`` 0..1. ``sources``: episode ids. ``created`` /
    ``updated``: unix seconds. ``basis``: why this scope was chosen ('size', 'color', 'target', 'name', 'held',
    'manual'). ``subject``: the object it was learned on. ``stats``: times applied / confirmed / contradicted /
    merged.
    """

    text: str
    scope: str
    effect: dict[str, Any]
    conditions: dict[str, Any]
    confidence: float = 0.6
    sources: list[str] = field(default_factory=list)
    created: float = 0.0
    updated: float = 0.0
    id: Optional[int] = None
    basis: str = ""
    subject: Optional[str] = None
    stats: dict[str, int] = field(default_factory=lambda: {"applied": 0, "confirmed": 0, "contradicted": 0, "merged": 0})

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, **json.loads(json.dumps({k: getattr(self, k) for k in (
            "text", "scope", "effect", "conditions", "confidence", "sources", "created", "updated", "basis", "subject", "stats")}))}

    def key(self) -> str:
        """Merge key: the conditions (with the effect's skill), canonical JSON."""
        cond = {k: v for k, v in self.conditions.items() if v is not None}
        if self.effect.get("skill"):
            cond.setdefault("skill", self.effect["skill"])
        if self.effect.get("plan_op") is not None:
            cond["plan_op"] = json.dumps(self.effect["plan_op"], sort_keys=True)
        return json.dumps(cond, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Entry":
        """Build and validate; :class:`KBError` says which field is wrong."""
        if not isinstance(d, dict):
            raise KBError(f"an entry is a JSON object, got {type(d).__name__}")
        text = d.get("text")
        if not isinstance(text, str) or not text.strip():
            raise KBError("entry needs a non-empty 'text'")
        scope = d.get("scope", "skill")
        if scope not in SCOPES:
            raise KBError(f"entry scope {scope!r} is not one of {', '.join(SCOPES)}")
        effect = d.get("effect")
        if not isinstance(effect, dict):
            raise KBError("entry needs an 'effect' object")
        _validate_effect(effect)
        cond = d.get("conditions", {})
        if not isinstance(cond, dict):
            raise KBError("entry 'conditions' must be an object")
        bad = sorted(set(cond) - KNOWN_CONDITIONS)
        if bad:
            raise KBError(f"unknown condition(s) {', '.join(bad)}; known: {', '.join(sorted(KNOWN_CONDITIONS))}")
        try:
            conf = float(d.get("confidence", 0.6))
        except (TypeError, ValueError):
            raise KBError(f"confidence must be a number, got {d.get('confidence')!r}") from None
        if not 0.0 <= conf <= 1.0:
            raise KBError(f"confidence {conf} is outside 0..1")
        sources = d.get("sources", [])
        if not isinstance(sources, list):
            raise KBError("'sources' must be a list of episode ids")
        stats = {"applied": 0, "confirmed": 0, "contradicted": 0, "merged": 0}
        if isinstance(d.get("stats"), dict):
            stats.update({k: int(v) for k, v in d["stats"].items() if isinstance(v, (int, float))})
        now = time.time()
        return cls(text=text.strip(), scope=scope, effect=effect, conditions=dict(cond), confidence=conf,
                   sources=[str(s) for s in sources], created=float(d.get("created") or now),
                   updated=float(d.get("updated") or d.get("created") or now),
                   id=int(d["id"]) if isinstance(d.get("id"), int) else None, basis=str(d.get("basis") or ""),
                   subject=d.get("subject"), stats=stats)


def _validate_effect(effect: dict[str, Any]) -> None:
    from skills.schema import SKILLS

    if "plan_op" in effect and not effect.get("changes"):
        return
    skill = effect.get("skill")
    if skill not in SKILLS:
        raise KBError(f"effect skill {skill!r} is not a known skill; skills: {', '.join(SKILLS)}")
    changes = effect.get("changes")
    if not isinstance(changes, list) or not changes:
        raise KBError("effect needs a non-empty 'changes' list")
    names = {p.name for p in SKILLS[skill].params}
    for ch in changes:
        if not isinstance(ch, dict) or ch.get("arg") not in names or ch.get("op") not in OPS:
            raise KBError(f"bad change {ch!r}: needs 'arg' in {sorted(names)} and 'op' in {list(OPS)}")
        v = ch.get("value")
        vals = v if isinstance(v, list) else [v]
        if not vals or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in vals):
            raise KBError(f"bad change value {v!r} for {ch['arg']}")


@dataclass
class IngestReport:
    """What one ``ingest`` did (entry ids)."""

    episode: str
    taught: bool = False
    added: list[int] = field(default_factory=list)
    merged: list[int] = field(default_factory=list)
    confirmed: list[int] = field(default_factory=list)
    weakened: list[int] = field(default_factory=list)
    skipped: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cond_key TEXT NOT NULL,
    skill TEXT,
    c_color TEXT,
    text TEXT NOT NULL,
    confidence REAL NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    data TEXT NOT NULL,
    text_vec BLOB,
    visual_vec BLOB
);
CREATE INDEX IF NOT EXISTS entries_cond ON entries(cond_key);
CREATE INDEX IF NOT EXISTS entries_skill ON entries(skill, confidence);
CREATE INDEX IF NOT EXISTS entries_color ON entries(skill, c_color);
CREATE TABLE IF NOT EXISTS episodes (id TEXT PRIMARY KEY, ingested REAL NOT NULL, report TEXT NOT NULL);
"""


class KnowledgeBase:
    """SQLite-backed store of :class:`Entry` with FAISS text and visual indexes; safe for two processes at once.

    ``embedder`` (default: the shared MiniLM) and ``visual`` (default: :class:`memory.visual.OpenCVDescriptor`)
    are created only when first needed; listing, showing, forgetting and exporting never load a model.
    """

    def __init__(self, path: str | Path | None = None, embedder: Any = None, visual: Any = None,
                 index_config: Optional[IndexConfig] = None, timeout_s: float = 30.0, persist_max: int = PERSIST_MAX) -> None:
        self.path = Path(path) if path is not None else default_kb_path()
        if self.path.suffix in (".sqlite", ".db") and not self.path.is_dir():
            self.path = self.path.parent
        self.path.mkdir(parents=True, exist_ok=True)
        self.db_path = self.path / "kb.sqlite"
        self.index_paths = {"text": self.path / "text.index", "visual": self.path / "visual.index"}
        self._embedder = embedder
        self._visual = visual
        self.index_config = index_config or IndexConfig()
        self.persist_max = persist_max
        self._lock = threading.RLock()
        self._indexes: dict[str, Optional[VectorIndex]] = {"text": None, "visual": None}
        self._index_gen: Optional[int] = None
        self._dirty = False
        self.last_index_event = ""  # 'loaded', 'rebuilt: <why>', 'updated' — for logs and tests
        self._sweep_temp_files()
        try:
            self._con = sqlite3.connect(str(self.db_path), timeout=timeout_s, isolation_level=None, check_same_thread=False)
            self._con.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
            with self._write():
                stmts = [st for st in SCHEMA.split(";") if st.strip()]
                for stmt in stmts:
                    if "CREATE TABLE" in stmt:
                        self._con.execute(stmt)
                self._migrate(self._con)
                for stmt in stmts:
                    if "CREATE INDEX" in stmt:
                        self._con.execute(stmt)
                self._con.execute("INSERT OR IGNORE INTO meta VALUES ('generation', '0')")
                self._con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        except sqlite3.DatabaseError as e:
            raise KBError(f"{self.db_path} is not a usable knowledge base: {e}") from None

    # --- plumbing ------------------------------------------------------------------------------------
    @staticmethod
    def _migrate(con: sqlite3.Connection) -> None:
        """Bring a knowledge base written by an earlier version up to this schema (adds and fills columns)."""
        cols = {r[1] for r in con.execute("PRAGMA table_info(entries)")}
        if "c_color" not in cols:
            con.execute("ALTER TABLE entries ADD COLUMN c_color TEXT")
            for i, data in con.execute("SELECT id, data FROM entries").fetchall():
                con.execute("UPDATE entries SET c_color = ? WHERE id = ?", (_color_condition(json.loads(data).get("conditions") or {}), i))

    def _sweep_temp_files(self) -> None:
        """Delete ``.NAME.PID.tmp`` files left by index writers that died before ``os.replace``."""
        for p in self.path.glob(".*.tmp"):
            try:
                pid = int(p.name.rsplit(".", 2)[-2])
            except (ValueError, IndexError):
                continue
            try:
                os.kill(pid, 0)
                alive = pid != os.getpid()  # our own leftovers are not in use while we open
            except ProcessLookupError:
                alive = False
            except PermissionError:
                alive = True
            if not alive:
                try:
                    p.unlink()
                except OSError:
                    pass

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from memory.embed import default_embedder

            self._embedder = default_embedder()
        return self._embedder

    @property
    def visual(self) -> Any:
        if self._visual is None:
            from memory.visual import OpenCVDescriptor

            self._visual = OpenCVDescriptor()
        return self._visual

    def close(self) -> None:
        """Write index files if they are behind, then close the database."""
        with self._lock:
            if self._con is None:
                return
            try:
                self.flush()
            finally:
                self._con.close()
                self._con = None  # type: ignore[assignment]

    def __enter__(self) -> "KnowledgeBase":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT), rolled back on any error."""
        with self._lock:
            con = self._con
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read snapshot (deferred transaction)."""
        with self._lock:
            con = self._con
            con.execute("BEGIN")
            try:
                yield con
            finally:
                con.execute("COMMIT")

    def _meta(self, con: sqlite3.Connection, key: str) -> Optional[str]:
        row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def generation(self) -> int:
        """The write counter: it changes whenever any process commits a change."""
        with self._lock:
            return int(self._meta(self._con, "generation") or 0)

    def __len__(self) -> int:
        with self._lock:
            return int(self._con.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def _bump(self, con: sqlite3.Connection) -> int:
        con.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
        return int(self._meta(con, "generation"))

    def _check_space(self, con: sqlite3.Connection, key: str, name: str, dim: int, write: bool) -> None:
        """Vectors of one space only: refuse to mix embedders (the message says how to fix it)."""
        stored = self._meta(con, key)
        mine = f"{name}:{dim}"
        if stored is None:
            if write:
                con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, mine))
        elif stored != mine:
            raise KBError(f"this knowledge base's {key.replace('_', ' ')} is {stored}, but {mine} was given; "
                          f"open it with the same model or call reembed()")

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.ascontiguousarray(self.embedder.embed(list(texts)), dtype=np.float32)

    # --- rows ------------------------------------------------------------------------------------------
    @staticmethod
    def _row_to_entry(row: Sequence[Any]) -> Entry:
        id_, data = row[0], json.loads(row[1])
        e = Entry.from_dict({**data, "id": id_}) if data.get("effect") else None
        if e is None:
            raise KBError(f"entry #{id_} is malformed in the database")
        return e

    def _insert(self, con: sqlite3.Connection, e: Entry, tvec: np.ndarray, vvec: Optional[np.ndarray]) -> int:
        data = e.to_dict()
        data.pop("id")
        cur = con.execute(
            "INSERT INTO entries (cond_key, skill, c_color, text, confidence, created, updated, data, text_vec, visual_vec) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (e.key(), e.effect.get("skill"), _color_condition(e.conditions), e.text, e.confidence, e.created, e.updated, json.dumps(data),
             np.asarray(tvec, np.float32).tobytes(), None if vvec is None else np.asarray(vvec, np.float32).tobytes()))
        e.id = int(cur.lastrowid)
        return e.id

    def _store(self, con: sqlite3.Connection, e: Entry, tvec: Optional[np.ndarray] = None, vvec: Optional[np.ndarray] = None) -> None:
        data = e.to_dict()
        data.pop("id")
        con.execute("UPDATE entries SET cond_key=?, skill=?, c_color=?, text=?, confidence=?, updated=?, data=? WHERE id=?",
                    (e.key(), e.effect.get("skill"), _color_condition(e.conditions), e.text, e.confidence, e.updated, json.dumps(data), e.id))
        if tvec is not None:
            con.execute("UPDATE entries SET text_vec=? WHERE id=?", (np.asarray(tvec, np.float32).tobytes(), e.id))
        if vvec is not None:
            con.execute("UPDATE entries SET visual_vec=? WHERE id=?", (np.asarray(vvec, np.float32).tobytes(), e.id))

    def _get(self, con: sqlite3.Connection, entry_id: int) -> Entry:
        row = con.execute("SELECT id, data FROM entries WHERE id = ?", (int(entry_id),)).fetchone()
        if row is None:
            n, lo, hi = con.execute("SELECT COUNT(*), MIN(id), MAX(id) FROM entries").fetchone()
            have = "the knowledge base is empty" if not n else f"{n} entries, ids {lo}..{hi}"
            raise EntryNotFound(f"no knowledge entry #{entry_id} ({have}); see `robocorrect kb list`")
        return self._row_to_entry(row)

    def _vectors(self, con: sqlite3.Connection, ids: Sequence[int]) -> dict[int, tuple[np.ndarray, Optional[np.ndarray]]]:
        out: dict[int, tuple[np.ndarray, Optional[np.ndarray]]] = {}
        ids = list(ids)
        for s in range(0, len(ids), 500):
            chunk = ids[s : s + 500]
            q = f"SELECT id, text_vec, visual_vec FROM entries WHERE id IN ({','.join('?' * len(chunk))})"
            for i, tv, vv in con.execute(q, chunk):
                out[int(i)] = (np.frombuffer(tv, np.float32) if tv else None,
                               np.frombuffer(vv, np.float32) if vv else None)
        return out

    # --- index maintenance -------------------------------------------------------------------------------
    def _after_write(self, old_gen: int, new_gen: int, upserts: dict[int, tuple[np.ndarray, Optional[np.ndarray]]], deletes: Iterable[int]) -> None:
        """Bring the in-memory indexes along with a committed write, or mark them stale if another process wrote too."""
        with self._lock:
            self._after_write_locked(old_gen, new_gen, upserts, list(deletes))

    def _after_write_locked(self, old_gen: int, new_gen: int, upserts: dict[int, tuple[np.ndarray, Optional[np.ndarray]]], deletes: list[int]) -> None:
        if self._index_gen != old_gen or any(ix is None for ix in self._indexes.values()):
            self._index_gen = None
            return
        t, v = self._indexes["text"], self._indexes["visual"]
        t.remove(deletes)
        v.remove(deletes)
        for i, (tv, vv) in upserts.items():
            if tv is not None:
                t.add([i], tv[None, :])
            if vv is not None:
                v.add([i], vv[None, :])
            elif i in v:
                v.remove([i])
        if t.wants_rebuild or v.wants_rebuild:
            self._index_gen = None
            return
        self._index_gen = new_gen
        self._dirty = True
        self.last_index_event = "updated"
        if len(t) <= self.persist_max:
            self._save_indexes(new_gen)

    def _save_indexes(self, gen: int) -> None:
        for name, ix in self._indexes.items():
            if ix is not None:
                ix.save(self.index_paths[name], generation=gen)
        self._dirty = False

    def flush(self) -> None:
        """Write the index files if the in-memory indexes are newer than them."""
        with self._lock:
            if self._dirty and self._index_gen is not None:
                self._save_indexes(self._index_gen)

    def _ensure_indexes(self) -> tuple[VectorIndex, VectorIndex]:
        """Indexes matching the database's current generation: in memory, else from the files, else rebuilt."""
        with self._lock:
            gen = self.generation()
            if self._index_gen == gen and all(ix is not None for ix in self._indexes.values()):
                return self._indexes["text"], self._indexes["visual"]  # type: ignore[return-value]
            with self._read() as con:
                gen = int(self._meta(con, "generation") or 0)
                n_text = con.execute("SELECT COUNT(*) FROM entries WHERE text_vec IS NOT NULL").fetchone()[0]
                n_vis = con.execute("SELECT COUNT(*) FROM entries WHERE visual_vec IS NOT NULL").fetchone()[0]
            try:
                loaded = {name: VectorIndex.load(self.index_paths[name], IndexConfig(**asdict(self.index_config)),
                                                 expect_generation=gen, expect_count=n)
                          for name, n in (("text", n_text), ("visual", n_vis))}
                self._indexes.update(loaded)
                self._index_gen = gen
                self.last_index_event = "loaded"
            except (IndexCorrupt, IndexStale) as e:
                if isinstance(e, IndexCorrupt) and "no index file" not in str(e):
                    log.warning("knowledge index damaged, rebuilding from SQLite: %s", e)
                self.rebuild_indexes(reason=str(e))
            return self._indexes["text"], self._indexes["visual"]  # type: ignore[return-value]

    def rebuild_indexes(self, reason: str = "requested") -> None:
        """Rebuild both FAISS indexes from the vectors stored in SQLite and write them atomically."""
        with self._lock:
            with self._read() as con:
                gen = int(self._meta(con, "generation") or 0)
                rows = con.execute("SELECT id, text_vec, visual_vec FROM entries").fetchall()
            built = {}
            for name, col in (("text", 1), ("visual", 2)):
                ids = [r[0] for r in rows if r[col]]
                vecs = [np.frombuffer(r[col], np.float32) for r in rows if r[col]]
                dim = len(vecs[0]) if vecs else (self._embedder.dim if name == "text" and self._embedder is not None else 384 if name == "text" else 64)
                ix = VectorIndex(dim, IndexConfig(**asdict(self.index_config)))
                if ids:
                    ix.build(np.asarray(ids, np.int64), np.stack(vecs))
                built[name] = ix
            self._indexes.update(built)
            self._index_gen = gen
            self._save_indexes(gen)
            self.last_index_event = f"rebuilt: {reason}"

    # --- basic operations -----------------------------------------------------------------------------
    def get(self, entry_id: int) -> Entry:
        """The entry with this id; :class:`EntryNotFound` otherwise."""
        with self._lock:
            return self._get(self._con, entry_id)

    def list(self, min_confidence: float = 0.0, scope: Optional[str] = None, skill: Optional[str] = None, limit: Optional[int] = None) -> list[Entry]:
        """Entries by id, optionally filtered."""
        q, params = "SELECT id, data FROM entries WHERE confidence >= ?", [min_confidence]
        if skill:
            q += " AND skill = ?"
            params.append(skill)
        q += " ORDER BY id"
        with self._lock:
            rows = self._con.execute(q, params).fetchall()
        out = [self._row_to_entry(r) for r in rows]
        if scope:
            out = [e for e in out if e.scope == scope]
        return out[:limit] if limit else out

    def add(self, entry: Entry | dict[str, Any], image: Optional[np.ndarray] = None, merge: bool = True) -> int:
        """Store an entry (merging into an existing one with the same conditions unless ``merge=False``); returns its id."""
        e = entry if isinstance(entry, Entry) else Entry.from_dict(entry)
        _validate_effect(e.effect)
        now = time.time()
        e.created = e.created or now
        e.updated = e.updated or now
        tvec = self._embed([e.text])[0]
        vvec = None if image is None else self.visual.encode(image)
        with self._write() as con:
            self._check_space(con, "text_space", self.embedder.name, len(tvec), True)
            if vvec is not None:
                self._check_space(con, "visual_space", self.visual.name, len(vvec), True)
            old = int(self._meta(con, "generation"))
            eid, upserts = self._merge_or_insert(con, e, tvec, vvec, merge, mode="episode")
            new = self._bump(con)
        self._after_write(old, new, upserts, [])
        return eid

    def _merge_or_insert(self, con: sqlite3.Connection, e: Entry, tvec: np.ndarray, vvec: Optional[np.ndarray], merge: bool,
                         mode: str) -> tuple[int, dict[int, tuple[np.ndarray, Optional[np.ndarray]]]]:
        row = con.execute("SELECT id, data FROM entries WHERE cond_key = ? ORDER BY updated DESC, id DESC LIMIT 1", (e.key(),)).fetchone() if merge else None
        if row is None:
            eid = self._insert(con, e, tvec, vvec)
            return eid, {eid: (tvec, vvec)}
        x = self._row_to_entry(row)
        agreed = _merge_into(x, e, prefer_new=(mode == "episode" or e.updated >= x.updated))
        if mode == "import":
            x.confidence = max(x.confidence, e.confidence)
        tv = self._embed([x.text])[0] if x.text != json.loads(row[1])["text"] else None
        self._store(con, x, tv, vvec)
        e.id = x.id
        e.confidence = x.confidence
        e.stats = dict(x.stats)
        e.stats["_agreed"] = int(agreed)  # type: ignore[index]
        vec = self._vectors(con, [x.id])[x.id]
        return x.id, {x.id: vec}

    def update(self, entry_id: int, **fields: Any) -> Entry:
        """Change ``text``, ``effect``, ``conditions``, ``confidence`` or ``scope`` of an entry (validated)."""
        allowed = {"text", "effect", "conditions", "confidence", "scope", "basis"}
        bad = sorted(set(fields) - allowed)
        if bad:
            raise KBError(f"cannot update {', '.join(bad)}; updatable: {', '.join(sorted(allowed))}")
        with self._lock:
            cur = self.get(entry_id)
            new = Entry.from_dict({**cur.to_dict(), **fields, "updated": time.time()})
            tvec = self._embed([new.text])[0] if new.text != cur.text else None
            with self._write() as con:
                old = int(self._meta(con, "generation"))
                self._get(con, entry_id)
                self._store(con, new, tvec)
                vec = self._vectors(con, [entry_id])[entry_id]
                g = self._bump(con)
            self._after_write(old, g, {entry_id: vec}, [])
            return new

    def forget(self, entry_id: int) -> Entry:
        """Delete an entry; returns what was deleted. :class:`EntryNotFound` (nothing changed) if absent."""
        with self._write() as con:
            e = self._get(con, entry_id)
            old = int(self._meta(con, "generation"))
            con.execute("DELETE FROM entries WHERE id = ?", (int(entry_id),))
            g = self._bump(con)
        self._after_write(old, g, {}, [int(entry_id)])
        return e

    def _adjust(self, entry_id: int, fn: Any) -> Entry:
        with self._write() as con:
            e = self._get(con, entry_id)
            old = int(self._meta(con, "generation"))
            fn(e)
            e.updated = time.time()
            self._store(con, e)
            g = self._bump(con)
        self._after_write(old, g, {}, [])
        return e

    def weaken(self, entry_id: int, factor: float = WEAKEN_FACTOR) -> Entry:
        """Lower an entry's confidence (``confidence *= factor``): "don't do that again"."""
        if not 0.0 <= factor < 1.0:
            raise KBError(f"weaken factor must be in [0, 1), got {factor}")

        def fn(e: Entry) -> None:
            e.confidence = round(e.confidence * factor, 4)
            e.stats["contradicted"] = e.stats.get("contradicted", 0) + 1

        return self._adjust(entry_id, fn)

    def confirm(self, entry_id: int) -> Entry:
        """Raise an entry's confidence: it was applied and nobody corrected it."""

        def fn(e: Entry) -> None:
            e.confidence = round(_confirmed(e.confidence), 4)
            e.stats["confirmed"] = e.stats.get("confirmed", 0) + 1

        return self._adjust(entry_id, fn)

    def merge(self, into_id: int, from_id: int) -> Entry:
        """Fold entry ``from_id`` into ``into_id`` (values of the more recently updated one win) and delete it."""
        if int(into_id) == int(from_id):
            raise KBError("cannot merge an entry into itself")
        with self._lock:
            a, b = self.get(into_id), self.get(from_id)
            _merge_into(a, b, prefer_new=b.updated >= a.updated)
            a.confidence = max(a.confidence, b.confidence)
            tvec = self._embed([a.text])[0]
            with self._write() as con:
                old = int(self._meta(con, "generation"))
                self._get(con, into_id)
                self._get(con, from_id)
                self._store(con, a, tvec)
                con.execute("DELETE FROM entries WHERE id = ?", (int(from_id),))
                vec = self._vectors(con, [a.id])[a.id]
                g = self._bump(con)
            self._after_write(old, g, {a.id: vec}, [int(from_id)])
            return a

    # --- search and retrieval ---------------------------------------------------------------------------
    def search(self, text: str, k: int = 5) -> list[dict[str, Any]]:
        """Entries nearest to ``text`` in meaning (MiniLM cosine), best first, each dict with ``score``."""
        with self._lock:
            tix, _ = self._ensure_indexes()
            if len(tix) == 0:
                return []
            with self._read() as con:
                self._check_space(con, "text_space", self.embedder.name, self.embedder.dim, False)
            q = self._embed([text])
            scores, ids = tix.search(q, k)
            out = []
            for s, i in zip(scores[0], ids[0]):
                if i < 0:
                    continue
                try:
                    out.append({**self.get(int(i)).to_dict(), "score": round(float(s), 4)})
                except EntryNotFound:
                    continue
            return out

    def retrieve(self, task: str, scene: Any, plan: Optional[Sequence[dict[str, Any]]] = None, step: Optional[int] = None,
                 images: Optional[dict[str, np.ndarray]] = None, k: int = 8, min_confidence: float = 0.05,
                 candidates: int = 64, structured_limit: int = 1000) -> list[dict[str, Any]]:
        """Knowledge for this task, scene and plan: entries whose conditions match some step of the plan (or only
        step ``step``), or — before there is a plan — objects in the scene; ranked by similarity × confidence.

        Similarity = cosine of the entry text with the task and step descriptions (MiniLM), blended with the
        appearance similarity when ``images`` (object name -> RGB crop) has the entry's object. Each returned dict is
        ``Entry.to_dict()`` plus ``score``, ``similarity`` and ``steps`` (matched step indices; [] without a plan).

        Candidates: the ``candidates`` nearest entries to each query text (and object crop) from the FAISS indexes,
        plus up to ``structured_limit`` most confident entries for the plan's skills whose colour condition is a
        colour in the scene (SQL); then the conditions filter them exactly.
        """
        objects = scene_objects(scene)
        plan = list(plan) if plan is not None else None
        if plan is not None and step is not None and not 0 <= step < len(plan):
            raise KBError(f"step {step} is outside the plan (0..{len(plan) - 1})")
        steps = list(range(len(plan))) if plan is not None and step is None else ([step] if plan is not None else [])
        queries = [task or ""]
        for i in steps:
            call = plan[i]  # type: ignore[index]
            a = call.get("args") or {}
            who = a.get("object") or a.get("target") or ""
            queries.append(f"{call.get('skill', '')} the {who}".strip())
        with self._lock:
            if len(self) == 0:
                return []
            tix, vix = self._ensure_indexes()
            with self._read() as con:
                self._check_space(con, "text_space", self.embedder.name, self.embedder.dim, False)
            qv = self._embed(queries)
            cand: set[int] = set()
            _, ids = tix.search(qv, candidates)
            cand.update(int(i) for i in ids.ravel() if i >= 0)
            img_vecs: dict[str, np.ndarray] = {}
            for name, img in (images or {}).items():
                if img is not None:
                    img_vecs[name] = self.visual.encode(img)
            if img_vecs and len(vix):
                _, vids = vix.search(np.stack(list(img_vecs.values())), candidates)
                cand.update(int(i) for i in vids.ravel() if i >= 0)
            with self._read() as con:
                # structured candidates: entries for these skills whose colour condition (if any) is a colour in view
                skills = sorted({plan[i].get("skill") for i in steps}) if plan is not None else None  # type: ignore[index]
                colors = sorted({o.get("color") for o in objects if o.get("color")})
                q = "SELECT id FROM entries WHERE confidence >= ?"
                params: list[Any] = [min_confidence]
                if skills:
                    q += f" AND skill IN ({','.join('?' * len(skills))})"
                    params += skills
                q += f" AND (c_color IS NULL OR c_color IN ({','.join('?' * len(colors))}))" if colors else " AND c_color IS NULL"
                params += colors
                cand.update(r[0] for r in con.execute(q + " ORDER BY confidence DESC LIMIT ?", [*params, structured_limit]))
                rows = []
                cl = sorted(cand)
                for s in range(0, len(cl), 500):
                    ch = cl[s : s + 500]
                    rows += con.execute(f"SELECT id, data FROM entries WHERE id IN ({','.join('?' * len(ch))})", ch).fetchall()
                vecs = self._vectors(con, [r[0] for r in rows])
        out = []
        contract = {"objects": objects}
        step_info = [(i, plan[i].get("skill", ""), step_roles(plan, i, objects)) for i in steps] if plan is not None else []
        for row in rows:
            d = {"id": int(row[0]), **json.loads(row[1])}  # fresh dict: no copying needed
            if float(d.get("confidence", 0.0)) < min_confidence:
                continue
            cond = d.get("conditions") or {}
            eff_skill = (d.get("effect") or {}).get("skill")
            if plan is not None:
                matched = [i for i, sk, roles in step_info
                           if (not eff_skill or sk == eff_skill) and conditions_match(cond, sk, roles, task)]
                if not matched:
                    continue
            else:
                if not matches_scene(d, contract):
                    continue
                matched = []
            tv, vv = vecs.get(d["id"], (None, None))
            sim = float(np.max(qv @ tv)) if tv is not None and len(tv) == qv.shape[1] else 0.0
            vis = _visual_similarity(cond, vv, img_vecs, plan, matched, objects)
            if vis is not None:
                sim = 0.6 * sim + 0.4 * vis
            score = (1.0 + sim) / 2.0 * float(d.get("confidence", 0.0))
            out.append({**d, "score": round(score, 4), "similarity": round(sim, 4), "steps": matched})
        out.sort(key=lambda d: (-d["score"], d["id"]))
        return out[:k]

    # --- learning from episodes -------------------------------------------------------------------------
    def ingest(self, episode: dict[str, Any], images: Optional[dict[str, np.ndarray]] = None) -> IngestReport:
        """Learn from one episode (``memory.episodes`` record): distil its net effect, merge repeats, confirm
        or weaken the knowledge it used. Idempotent per episode id; unsuccessful episodes teach nothing but
        "don't do that again" still weakens what was applied.
        """
        from memory.distill import distill_episode, is_negative_feedback, is_success, verdict

        if not isinstance(episode, dict) or not episode.get("id"):
            raise KBError("an episode is a dict with an 'id' (see memory.episodes)")
        eid = str(episode["id"])
        rep = IngestReport(episode=eid)
        with self._lock:
            row = self._con.execute("SELECT report FROM episodes WHERE id = ?", (eid,)).fetchone()
            if row is not None:
                rep.skipped = "already ingested"
                return rep
            new_entries = distill_episode(episode)
            used = [int(k["id"]) for k in episode.get("knowledge_used") or [] if isinstance(k, dict) and isinstance(k.get("id"), int)]
            # "don't do that again": the session may already have weakened the entries (parsed.weakened); don't do it twice
            already = {int(i) for c in episode.get("corrections") or [] if isinstance(c.get("parsed"), dict)
                       for i in (c["parsed"].get("weakened") or []) if isinstance(i, int)}
            negatives = [c for c in episode.get("corrections") or [] if is_negative_feedback(str(c.get("utterance", "")))
                         and not (isinstance(c.get("parsed"), dict) and "weakened" in c["parsed"])]
            tvecs = self._embed([e.text for e in new_entries]) if new_entries else np.zeros((0, 384), np.float32)
            vvecs = [self.visual.encode(images[e.subject]) if images and e.subject in images and images[e.subject] is not None else None
                     for e in new_entries]
            if not is_success(episode):
                rep.skipped = f"episode status {episode.get('status')!r}: only successful episodes teach"
            upserts: dict[int, tuple[np.ndarray, Optional[np.ndarray]]] = {}
            with self._write() as con:
                old = int(self._meta(con, "generation"))
                if new_entries:
                    self._check_space(con, "text_space", self.embedder.name, tvecs.shape[1], True)
                touched: set[str] = set()
                for e, tv, vv in zip(new_entries, tvecs, vvecs):
                    if vv is not None:
                        self._check_space(con, "visual_space", self.visual.name, len(vv), True)
                    existed = con.execute("SELECT 1 FROM entries WHERE cond_key = ?", (e.key(),)).fetchone() is not None
                    i, up = self._merge_or_insert(con, e, tv, vv, True, mode="episode")
                    upserts.update(up)
                    touched.add(e.key())
                    (rep.merged if existed else rep.added).append(i)
                    if existed and e.stats.get("_agreed"):
                        rep.confirmed.append(i)
                live = []
                for uid in used:
                    if uid in already:
                        continue
                    try:
                        live.append(self._get(con, uid))
                    except EntryNotFound:
                        continue  # forgotten since
                neg_steps = [c.get("step") for c in negatives]
                blamed = {u.id for u in live if any(_entry_touches_step(u, episode, s) for s in neg_steps)}
                if negatives and not blamed:  # "don't do that again" with no step we can tie it to: all applied knowledge
                    blamed = {u.id for u in live}
                for u in live:
                    uid = int(u.id)  # type: ignore[arg-type]
                    u.stats["applied"] = u.stats.get("applied", 0) + 1
                    if uid in blamed:
                        u.confidence = round(u.confidence * NEGATIVE_FACTOR, 4)
                        u.stats["contradicted"] = u.stats.get("contradicted", 0) + 1
                        rep.weakened.append(uid)
                    elif is_success(episode) and u.key() not in touched:
                        v = verdict(u.to_dict(), episode)
                        if v == "confirmed":
                            u.confidence = round(_confirmed(u.confidence), 4)
                            u.stats["confirmed"] = u.stats.get("confirmed", 0) + 1
                            rep.confirmed.append(uid)
                        elif v == "contradicted":
                            u.confidence = round(u.confidence * WEAKEN_FACTOR, 4)
                            u.stats["contradicted"] = u.stats.get("contradicted", 0) + 1
                            rep.weakened.append(uid)
                    u.updated = time.time()
                    self._store(con, u)
                rep.taught = bool(rep.added or rep.merged)
                con.execute("INSERT INTO episodes VALUES (?, ?, ?)", (eid, time.time(), json.dumps(rep.to_dict())))
                g = self._bump(con)
            self._after_write(old, g, upserts, [])
            return rep

    # --- export / import -------------------------------------------------------------------------------
    def export(self, path: str | Path) -> int:
        """Write every entry as one JSON line (no vectors), atomically; returns the count."""
        path = Path(path)
        entries = self.list()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "w") as f:
            for e in entries:
                f.write(json.dumps(e.to_dict(), sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return len(entries)

    def import_file(self, path: str | Path) -> list[int]:
        """Read a JSON Lines export and add every entry (merging repeats); all or nothing.

        :class:`ImportFormatError` names the first bad line; the knowledge base is unchanged then.
        """
        path = Path(path)
        try:
            lines = path.read_text().splitlines()
        except FileNotFoundError:
            raise ImportFormatError(f"no file {path}") from None
        except UnicodeDecodeError:
            raise ImportFormatError(f"{path} is not a text file of JSON lines") from None
        entries = []
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError as e:
                raise ImportFormatError(f"{path}:{n}: not valid JSON ({e.msg}); nothing imported") from None
            try:
                e = Entry.from_dict(d)
            except KBError as err:
                raise ImportFormatError(f"{path}:{n}: {err}; nothing imported") from None
            e.id = None
            entries.append(e)
        if not entries:
            return []
        tvecs = self._embed([e.text for e in entries])
        ids: list[int] = []
        upserts: dict[int, tuple[np.ndarray, Optional[np.ndarray]]] = {}
        with self._write() as con:
            self._check_space(con, "text_space", self.embedder.name, tvecs.shape[1], True)
            old = int(self._meta(con, "generation"))
            for e, tv in zip(entries, tvecs):
                i, up = self._merge_or_insert(con, e, tv, None, True, mode="import")
                upserts.update(up)
                ids.append(i)
            g = self._bump(con)
        self._after_write(old, g, upserts, [])
        return ids

    def reembed(self) -> int:
        """Recompute every text vector with the current embedder (after changing models); returns the count."""
        rows = self._con.execute("SELECT id, text FROM entries").fetchall()
        vecs = self._embed([r[1] for r in rows]) if rows else np.zeros((0, 1), np.float32)
        with self._write() as con:
            con.execute("DELETE FROM meta WHERE key = 'text_space'")
            if rows:
                self._check_space(con, "text_space", self.embedder.name, vecs.shape[1], True)
            for (i, _), v in zip(rows, vecs):
                con.execute("UPDATE entries SET text_vec = ? WHERE id = ?", (v.tobytes(), i))
            self._bump(con)
        self._index_gen = None
        return len(rows)

    def check(self) -> dict[str, Any]:
        """SQLite integrity plus index state (loads or rebuilds the indexes)."""
        ok = self._con.execute("PRAGMA integrity_check").fetchone()[0]
        t, v = self._ensure_indexes()
        return {"sqlite": ok, "entries": len(self), "generation": self.generation(), "text_index": t.kind,
                "text_vectors": len(t), "visual_vectors": len(v), "index_event": self.last_index_event}


def _confirmed(c: float) -> float:
    return c + CONFIRM_GAIN * (1.0 - c)


def _merge_into(x: Entry, e: Entry, prefer_new: bool) -> bool:
    """Fold ``e`` into ``x`` in place, argument by argument; True if every shared argument agreed.

    Agreement (same direction, within 35 %) confirms ``x``; a disagreement takes the newer value (``e``'s if
    ``prefer_new``) and lowers confidence a little: the newer, successful episode wins the conflict.
    """
    from memory.distill import _compare, describe_entry

    agreed = True
    changes = {c["arg"]: dict(c) for c in x.effect.get("changes", [])}
    for c in e.effect.get("changes", []):
        old = changes.get(c["arg"])
        if old is None:
            changes[c["arg"]] = dict(c)
            continue
        if old.get("op") == c.get("op") and _compare(old, c, 0.35) == "confirmed":
            if prefer_new:
                changes[c["arg"]] = dict(c)
            continue
        agreed = False
        if prefer_new:
            changes[c["arg"]] = dict(c)
    x.effect = {**x.effect, "changes": list(changes.values())}
    x.sources = list(dict.fromkeys(x.sources + e.sources))
    x.stats["merged"] = x.stats.get("merged", 0) + 1
    if agreed:
        x.confidence = round(_confirmed(x.confidence), 4)
        x.stats["confirmed"] = x.stats.get("confirmed", 0) + 1
    else:
        x.confidence = round(max(0.5, 0.8 * x.confidence), 4)
    x.updated = max(x.updated, e.updated, time.time() if prefer_new else 0.0)
    if x.basis and x.text.split(":", 1)[0]:
        x.text = describe_entry(x.text.split(":", 1)[0], x.effect.get("skill", ""), x.effect["changes"])
    return agreed


def _entry_touches_step(u: Entry, episode: dict[str, Any], step: Any) -> bool:
    """Whether entry ``u`` matches step ``step`` of the episode's initial plan (where it was applied)."""
    plan = episode.get("initial_plan") or episode.get("base_plan") or []
    if not isinstance(step, int) or not 0 <= step < len(plan):
        return False
    return step in matching_steps(u.to_dict(), plan, episode.get("scene") or {}, episode.get("task"))


def _color_condition(cond: dict[str, Any]) -> Optional[str]:
    """The colour an entry requires of the object it acts on / places into / carries (for the SQL prefilter)."""
    for role in ("object", "target", "held"):
        if cond.get(f"{role}_color"):
            return str(cond[f"{role}_color"])
    return None


def _visual_similarity(cond: dict[str, Any], vv: Optional[np.ndarray], img_vecs: dict[str, np.ndarray], plan: Optional[Sequence[dict[str, Any]]],
                       matched: list[int], objects: list[dict[str, Any]]) -> Optional[float]:
    """Cosine between the entry's appearance vector and the crop of the object it would act on, if both exist."""
    if vv is None or not img_vecs:
        return None
    names: list[str] = []
    role = "target" if any(k.startswith("target_") for k in cond) else "held" if any(k.startswith("held_") for k in cond) else "object"
    if plan is not None:
        for i in matched:
            a = plan[i].get("args") or {}
            if role == "held":
                for j in range(i - 1, -1, -1):
                    if plan[j].get("skill") == "pick":
                        names.append((plan[j].get("args") or {}).get("object"))
                        break
            else:
                names.append(a.get(role))
    else:
        names = [o["name"] for o in objects]
    sims = [float(img_vecs[n] @ vv) for n in names if n in img_vecs and len(img_vecs[n]) == len(vv)]
    return max(sims) if sims else None

"""The knowledge base's SQLite store: schema, migrations, transactions, rows, and stale temp-file sweeping.

``kb.sqlite`` (WAL mode) is the source of truth: entries, their metadata and their vectors (blobs). Every write
is one ``BEGIN IMMEDIATE`` transaction (:meth:`EntryStore.transaction`) that also increments the ``generation``
counter in ``meta``; the FAISS indexes (:class:`memory.index.IndexSync`) are derived from it and follow that
counter. Schema versions: 1 (entries without ``c_color``), 2 (``c_color``), 3 (``lesson``: the lesson key of
learned entries, see :mod:`memory.entry`). Opening an older file migrates it in place.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Sequence

import numpy as np

from memory.entry import Entry
from memory.errors import EntryNotFound, KBError

SCHEMA_VERSION = 3
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cond_key TEXT NOT NULL,
    skill TEXT,
    c_color TEXT,
    lesson TEXT,
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
CREATE INDEX IF NOT EXISTS entries_lesson ON entries(lesson);
CREATE TABLE IF NOT EXISTS episodes (id TEXT PRIMARY KEY, ingested REAL NOT NULL, report TEXT NOT NULL);
"""
Vectors = tuple[Optional[np.ndarray], Optional[np.ndarray]]
OnCommit = Callable[[int, int, dict[int, Vectors], list[int]], None]


def color_condition(cond: dict[str, Any]) -> Optional[str]:
    """The colour an entry requires of the object it acts on / places into / carries (for the SQL prefilter)."""
    for role in ("object", "target", "held"):
        if cond.get(f"{role}_color"):
            return str(cond[f"{role}_color"])
    return None


def sweep_temp_files(folder: Path) -> None:
    """Delete ``.NAME.PID.tmp`` files left in ``folder`` by index writers that died before ``os.replace``."""
    for p in folder.glob(".*.tmp"):
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


def meta(con: sqlite3.Connection, key: str) -> Optional[str]:
    """A value from the ``meta`` table (None if absent)."""
    row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def row_to_entry(row: Sequence[Any]) -> Entry:
    """An :class:`Entry` from an ``(id, data)`` row; :class:`KBError` if the stored JSON is not an entry."""
    id_, data = row[0], json.loads(row[1])
    if not data.get("effect"):
        raise KBError(f"entry #{id_} is malformed in the database")
    return Entry.from_dict({**data, "id": id_})


@dataclass
class Txn:
    """One open write transaction: ``con`` plus the entry ids whose rows (and so index vectors) changed."""

    con: sqlite3.Connection
    touched: set[int] = field(default_factory=set)
    deleted: set[int] = field(default_factory=set)


class EntryStore:
    """Entries in SQLite (see the module docstring); thread-safe, and safe for two processes at once."""

    def __init__(self, db_path: Path, timeout_s: float = 30.0) -> None:
        self.db_path = Path(db_path)
        self.lock = threading.RLock()
        sweep_temp_files(self.db_path.parent)
        try:
            self.con: Optional[sqlite3.Connection] = sqlite3.connect(str(self.db_path), timeout=timeout_s, isolation_level=None,
                                                                     check_same_thread=False)
            self.con.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
            self.con.execute("PRAGMA journal_mode=WAL")
            self.con.execute("PRAGMA synchronous=NORMAL")
            with self.write() as con:
                stmts = [st for st in SCHEMA.split(";") if st.strip()]
                for stmt in stmts:
                    if "CREATE TABLE" in stmt:
                        con.execute(stmt)
                migrate(con)
                for stmt in stmts:
                    if "CREATE INDEX" in stmt:
                        con.execute(stmt)
                con.execute("INSERT OR IGNORE INTO meta VALUES ('generation', '0')")
                con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        except sqlite3.DatabaseError as e:
            raise KBError(f"{self.db_path} is not a usable knowledge base: {e}") from None

    def close(self) -> None:
        with self.lock:
            if self.con is not None:
                self.con.close()
                self.con = None

    # --- transactions -----------------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT), rolled back on any error."""
        with self.lock:
            con = self._open()
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent read snapshot (deferred transaction)."""
        with self.lock:
            con = self._open()
            con.execute("BEGIN")
            try:
                yield con
            finally:
                con.execute("COMMIT")

    @contextmanager
    def transaction(self, on_commit: Optional[OnCommit] = None) -> Iterator[Txn]:
        """A write that bumps the generation; after COMMIT, ``on_commit(old_gen, new_gen, upserts, deletes)`` gets
        the vectors of every touched entry (for the indexes)."""
        with self.lock:
            with self.write() as con:
                old = int(meta(con, "generation") or 0)
                txn = Txn(con)
                yield txn
                con.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
                new = int(meta(con, "generation"))
                ups = self.vectors(con, sorted(txn.touched - txn.deleted))
            if on_commit is not None:
                on_commit(old, new, ups, sorted(txn.deleted))

    def _open(self) -> sqlite3.Connection:
        if self.con is None:
            raise KBError(f"the knowledge base {self.db_path.parent} is closed")
        return self.con

    # --- meta -------------------------------------------------------------------------------------
    def generation(self) -> int:
        """The write counter: it changes whenever any process commits a change."""
        with self.lock:
            return int(meta(self._open(), "generation") or 0)

    def count(self) -> int:
        with self.lock:
            return int(self._open().execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def check_space(self, con: sqlite3.Connection, key: str, name: str, dim: int, write: bool) -> None:
        """Vectors of one space only: refuse to mix embedders (the message says how to fix it)."""
        stored = meta(con, key)
        mine = f"{name}:{dim}"
        if stored is None:
            if write:
                con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, mine))
        elif stored != mine:
            raise KBError(f"this knowledge base's {key.replace('_', ' ')} is {stored}, but {mine} was given; "
                          f"open it with the same model or call reembed()")

    # --- rows -------------------------------------------------------------------------------------
    def insert(self, txn: Txn, e: Entry, tvec: np.ndarray, vvec: Optional[np.ndarray] = None) -> int:
        data = e.to_dict()
        data.pop("id")
        cur = txn.con.execute(
            "INSERT INTO entries (cond_key, skill, c_color, lesson, text, confidence, created, updated, data, text_vec, visual_vec) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (e.key(), e.effect.get("skill"), color_condition(e.conditions), e.lesson or None, e.text, e.confidence, e.created,
             e.updated, json.dumps(data), np.asarray(tvec, np.float32).tobytes(),
             None if vvec is None else np.asarray(vvec, np.float32).tobytes()))
        e.id = int(cur.lastrowid)
        txn.touched.add(e.id)
        return e.id

    def save(self, txn: Txn, e: Entry, tvec: Optional[np.ndarray] = None, vvec: Optional[np.ndarray] = None) -> None:
        """Write ``e`` over its row (and its vectors when given)."""
        data = e.to_dict()
        data.pop("id")
        txn.con.execute("UPDATE entries SET cond_key=?, skill=?, c_color=?, lesson=?, text=?, confidence=?, updated=?, data=? WHERE id=?",
                        (e.key(), e.effect.get("skill"), color_condition(e.conditions), e.lesson or None, e.text, e.confidence,
                         e.updated, json.dumps(data), e.id))
        if tvec is not None:
            txn.con.execute("UPDATE entries SET text_vec=? WHERE id=?", (np.asarray(tvec, np.float32).tobytes(), e.id))
        if vvec is not None:
            txn.con.execute("UPDATE entries SET visual_vec=? WHERE id=?", (np.asarray(vvec, np.float32).tobytes(), e.id))
        txn.touched.add(int(e.id))  # type: ignore[arg-type]

    def delete(self, txn: Txn, entry_id: int) -> None:
        txn.con.execute("DELETE FROM entries WHERE id = ?", (int(entry_id),))
        txn.deleted.add(int(entry_id))

    def get(self, con: sqlite3.Connection, entry_id: int) -> Entry:
        """The entry with this id; :class:`EntryNotFound` (saying which ids exist) otherwise."""
        row = con.execute("SELECT id, data FROM entries WHERE id = ?", (int(entry_id),)).fetchone()
        if row is None:
            n, lo, hi = con.execute("SELECT COUNT(*), MIN(id), MAX(id) FROM entries").fetchone()
            have = "the knowledge base is empty" if not n else f"{n} entries, ids {lo}..{hi}"
            raise EntryNotFound(f"no knowledge entry #{entry_id} ({have}); see `robocorrect kb list`")
        return row_to_entry(row)

    def by_cond_key(self, con: sqlite3.Connection, key: str) -> Optional[Entry]:
        """The newest entry with this merge key (:meth:`Entry.key`), or None."""
        row = con.execute("SELECT id, data FROM entries WHERE cond_key = ? ORDER BY updated DESC, id DESC LIMIT 1", (key,)).fetchone()
        return None if row is None else row_to_entry(row)

    def by_lesson(self, con: sqlite3.Connection, lessons: Sequence[str]) -> list[Entry]:
        """Entries whose lesson key is one of ``lessons`` (or starts with one ending in '|'), by id."""
        out: list[Entry] = []
        for k in lessons:
            q = "SELECT id, data FROM entries WHERE " + ("lesson LIKE ? ORDER BY id" if k.endswith("|") else "lesson = ? ORDER BY id")
            out += [row_to_entry(r) for r in con.execute(q, (k + "%" if k.endswith("|") else k,))]
        return out

    def entries(self, min_confidence: float = 0.0, skill: Optional[str] = None) -> list[Entry]:
        """Entries by id, optionally filtered."""
        q, params = "SELECT id, data FROM entries WHERE confidence >= ?", [min_confidence]
        if skill:
            q += " AND skill = ?"
            params.append(skill)
        with self.lock:
            rows = self._open().execute(q + " ORDER BY id", params).fetchall()
        return [row_to_entry(r) for r in rows]

    def vectors(self, con: sqlite3.Connection, ids: Sequence[int]) -> dict[int, Vectors]:
        """Text and visual vectors (None where absent) of these entries."""
        out: dict[int, Vectors] = {}
        ids = list(ids)
        for s in range(0, len(ids), 500):
            chunk = ids[s : s + 500]
            q = f"SELECT id, text_vec, visual_vec FROM entries WHERE id IN ({','.join('?' * len(chunk))})"
            for i, tv, vv in con.execute(q, chunk):
                out[int(i)] = (np.frombuffer(tv, np.float32) if tv else None, np.frombuffer(vv, np.float32) if vv else None)
        return out

    def integrity(self) -> str:
        with self.lock:
            return str(self._open().execute("PRAGMA integrity_check").fetchone()[0])

    def episode_report(self, episode_id: str) -> Optional[str]:
        """The stored ingest report of an episode already learned from, or None."""
        with self.lock:
            row = self._open().execute("SELECT report FROM episodes WHERE id = ?", (episode_id,)).fetchone()
        return None if row is None else row[0]


def migrate(con: sqlite3.Connection) -> None:
    """Bring a knowledge base written by an earlier version up to this schema (adds and fills columns)."""
    cols = {r[1] for r in con.execute("PRAGMA table_info(entries)")}
    rows = None
    if "c_color" not in cols:
        con.execute("ALTER TABLE entries ADD COLUMN c_color TEXT")
        rows = con.execute("SELECT id, data FROM entries").fetchall()
        for i, data in rows:
            con.execute("UPDATE entries SET c_color = ? WHERE id = ?", (color_condition(json.loads(data).get("conditions") or {}), i))
    if "lesson" not in cols:
        con.execute("ALTER TABLE entries ADD COLUMN lesson TEXT")
        rows = rows if rows is not None else con.execute("SELECT id, data FROM entries").fetchall()
        for i, data in rows:
            con.execute("UPDATE entries SET lesson = ? WHERE id = ?", (json.loads(data).get("lesson") or None, i))

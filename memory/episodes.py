"""The episode log: every teaching episode written down as it happens, crash-safe.

Storage: one SQLite database (``ROOT/episodes.db``, WAL journal, ``synchronous=FULL``) with one row per
episode and one row per event (start, step, correction, utterance, frame, end), each committed at once;
camera frames are PNG files in a folder per episode (``ROOT/media/<episode id>/``). A process killed in
the middle of an episode loses at most the event it was writing; the next :class:`EpisodeLog` opened on
the same folder marks episodes whose writer process is gone as ``"aborted"`` (``success`` None).

:meth:`EpisodeLog.load` returns the shared episode record (the dict described in the project brief):
``id, task, scene, policy, knowledge_used, base_plan, initial_plan, final_plan, success, status, steps,
corrections, started, ended, frames``, plus ``utterances`` (what the user said that changed no plan:
questions, stop, done, ...), ``frame_info`` (each frame's path, label, time and how many steps had
run) and ``meta``. Times are unix seconds. :meth:`EpisodeLog.export` writes a
training-ready dataset following LeRobot dataset v3.0 conventions (:func:`export_lerobot`).
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Iterable, Optional
from hardware.errors import RobocorrectError

STATUSES = ("running", "success", "failure", "aborted")
DB_NAME = "episodes.db"


class EpisodeLogError(RobocorrectError, RuntimeError):
    """An episode that does not exist, or a log folder that cannot be used; the message says which."""


def default_root() -> Path:
    """``$ROBOCORRECT_HOME/episodes`` when set, else ``~/.robocorrect/episodes``."""
    home = os.environ.get("ROBOCORRECT_HOME")
    return (Path(home) if home else Path.home() / ".robocorrect") / "episodes"


def _json_default(o: Any) -> Any:
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "to_dict"):
        return o.to_dict()
    if isinstance(o, (set, tuple)):
        return list(o)
    if isinstance(o, Path):
        return str(o)
    return repr(o)


def _dumps(o: Any) -> str:
    return json.dumps(o, default=_json_default)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed, not yet reaped) still answers kill(0); it writes nothing any more.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


_SCHEMA = """
CREATE TABLE IF NOT EXISTS episodes (
    id TEXT PRIMARY KEY,
    task TEXT NOT NULL,
    policy TEXT,
    status TEXT NOT NULL,
    success INTEGER,
    started REAL NOT NULL,
    ended REAL,
    host TEXT,
    pid INTEGER
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    episode_id TEXT NOT NULL REFERENCES episodes(id),
    kind TEXT NOT NULL,
    t REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_episode ON events(episode_id, seq);
"""


class EpisodeLog:
    """Append-only, crash-safe log of teaching episodes under ``root`` (see the module docstring).

    Thread-safe: the teaching session may write from a worker thread while a UI reads.
    Opening a log repairs it: episodes left ``running`` by a process that no longer exists become
    ``aborted`` (see :meth:`repair`).
    """

    def __init__(self, root: str | Path | None = None, repair: bool = True, create: bool = True) -> None:
        """Open (``create`` True: create when missing) the log under ``root`` (default :func:`default_root`).

        ``create`` False is for read-only commands: a missing log is an :class:`EpisodeLogError`, and
        nothing is created. Raises :class:`EpisodeLogError` for a folder that is a file, read-only, or a
        database that is not an episode log."""
        from memory.folders import folder_problem

        self.root = Path(root) if root is not None else default_root()
        problem = folder_problem(self.root, "episode log", DB_NAME, create)
        if problem:
            raise EpisodeLogError(problem)
        self.media_root = self.root / "media"
        self._lock = threading.RLock()
        self._mine: set[str] = set()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.root / DB_NAME, check_same_thread=False, timeout=30.0, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            self.repaired: list[str] = self.repair() if repair else []
        except (OSError, sqlite3.Error) as e:
            raise EpisodeLogError(f"cannot use the episode log at {self.root}: {e}") from None

    # --- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "EpisodeLog":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def repair(self) -> list[str]:
        """Mark episodes still ``running`` whose writer process is gone as ``aborted``; returns their ids."""
        host = socket.gethostname()
        with self._lock:
            rows = self._db.execute("SELECT id, host, pid FROM episodes WHERE status = 'running'").fetchall()
            dead = [eid for eid, h, pid in rows if eid not in self._mine and not (h == host and pid and _pid_alive(pid))]
            now = time.time()
            for eid in dead:
                self._write(eid, "end", {"status": "aborted", "success": None, "reason": "writer process ended mid-episode"}, now)
                self._db.execute("UPDATE episodes SET status = 'aborted', success = NULL, ended = ? WHERE id = ?", (now, eid))
        return dead

    # --- writing ---------------------------------------------------------------------------------
    def _write(self, episode_id: str, kind: str, data: dict[str, Any], t: float | None = None) -> None:
        self._db.execute(
            "INSERT INTO events (episode_id, kind, t, data) VALUES (?, ?, ?, ?)",
            (episode_id, kind, time.time() if t is None else t, _dumps(data)),
        )

    def begin(
        self,
        task: str,
        scene: dict[str, Any],
        policy: str,
        base_plan: list[dict[str, Any]],
        initial_plan: list[dict[str, Any]],
        knowledge_used: Iterable[dict[str, Any]] = (),
        episode_id: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> str:
        """Open a new episode (status ``running``) and return its id. ``scene`` is ``Scene.to_dict()``."""
        eid = episode_id or time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
        now = time.time()
        data = {
            "task": task, "scene": scene, "policy": policy, "base_plan": base_plan, "initial_plan": initial_plan,
            "knowledge_used": list(knowledge_used), "meta": meta or {},
        }
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute(
                    "INSERT INTO episodes (id, task, policy, status, success, started, ended, host, pid) VALUES (?, ?, ?, 'running', NULL, ?, NULL, ?, ?)",
                    (eid, task, policy, now, socket.gethostname(), os.getpid()),
                )
                self._write(eid, "start", data, now)
                self._db.execute("COMMIT")
            except sqlite3.IntegrityError:
                self._db.execute("ROLLBACK")
                raise EpisodeLogError(f"episode {eid!r} already exists in {self.root}") from None
            self._mine.add(eid)
        return eid

    def _require_running(self, episode_id: str) -> None:
        row = self._db.execute("SELECT status FROM episodes WHERE id = ?", (episode_id,)).fetchone()
        if row is None:
            raise EpisodeLogError(f"no episode {episode_id!r} in {self.root}")
        if row[0] != "running":
            raise EpisodeLogError(f"episode {episode_id!r} has ended ({row[0]}); nothing more can be logged to it")

    def log(self, episode_id: str, kind: str, data: dict[str, Any], t: float | None = None) -> None:
        """Append one event (committed at once). ``kind``: 'step', 'correction', 'utterance', 'plan', 'note', ..."""
        if kind in ("start", "end"):
            raise EpisodeLogError(f"use begin() / end() for {kind!r} events")
        with self._lock:
            self._require_running(episode_id)
            self._write(episode_id, kind, data, t)

    def log_step(self, episode_id: str, index: int, call: dict[str, Any], outcome: Any, t: float | None = None) -> None:
        """One executed skill call and its outcome (``skills.base.Outcome`` or its dict)."""
        out = outcome.to_dict() if hasattr(outcome, "to_dict") else dict(outcome)
        self.log(episode_id, "step", {"index": int(index), "call": call, "outcome": out}, t)

    def log_correction(self, episode_id: str, record: dict[str, Any]) -> None:
        """One correction: {utterance, step, level, before, after, changes, parsed, t, during_motion}."""
        self.log(episode_id, "correction", record, record.get("t"))

    def log_plan(self, episode_id: str, plan: list[dict[str, Any]], reason: str) -> None:
        """The plan changed for a reason other than a correction (world re-read, knowledge weakened)."""
        self.log(episode_id, "plan", {"plan": plan, "reason": reason})

    def save_frame(self, episode_id: str, image: Any, label: str) -> str:
        """Write an RGB image (H x W x 3 uint8) as PNG; returns its path relative to the log root."""
        import cv2  # heavy import kept local
        import numpy as np

        img = np.asarray(image)
        if img.ndim != 3 or img.shape[2] not in (3, 4):
            raise EpisodeLogError(f"a frame is an H x W x 3 (or 4) image, got shape {img.shape}")
        img = np.ascontiguousarray(img[:, :, :3].astype(np.uint8))
        with self._lock:
            self._require_running(episode_id)
            folder = self.media_root / episode_id
            folder.mkdir(parents=True, exist_ok=True)
            n = self._db.execute("SELECT COUNT(*) FROM events WHERE episode_id = ? AND kind = 'frame'", (episode_id,)).fetchone()[0]
            safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in label)[:40]
            path = folder / f"{n:03d}_{safe}.png"
            tmp = path.with_name(path.stem + ".tmp.png")
            if not cv2.imwrite(str(tmp), cv2.cvtColor(img, cv2.COLOR_RGB2BGR)):
                raise EpisodeLogError(f"could not write frame {tmp}")
            os.replace(tmp, path)
            rel = str(path.relative_to(self.root))
            self._write(episode_id, "frame", {"path": rel, "label": label})
        return rel

    def end(self, episode_id: str, success: Optional[bool], final_plan: list[dict[str, Any]] | None = None,
            status: str | None = None, reason: str = "") -> None:
        """Close an episode: ``status`` defaults to 'success' / 'failure' from ``success`` ('aborted' if None)."""
        status = status or ("aborted" if success is None else "success" if success else "failure")
        if status not in STATUSES or status == "running":
            raise EpisodeLogError(f"an episode ends as success, failure or aborted, not {status!r}")
        now = time.time()
        with self._lock:
            self._require_running(episode_id)
            self._db.execute("BEGIN IMMEDIATE")
            self._write(episode_id, "end", {"status": status, "success": success, "final_plan": final_plan, "reason": reason}, now)
            self._db.execute(
                "UPDATE episodes SET status = ?, success = ?, ended = ? WHERE id = ?",
                (status, None if success is None else int(bool(success)), now, episode_id),
            )
            self._db.execute("COMMIT")
            self._mine.discard(episode_id)

    # --- reading ---------------------------------------------------------------------------------
    def ids(self, status: str | None = None) -> list[str]:
        """Episode ids, oldest first (optionally only those with ``status``)."""
        with self._lock:
            if status:
                rows = self._db.execute("SELECT id FROM episodes WHERE status = ? ORDER BY started, rowid", (status,))
            else:
                rows = self._db.execute("SELECT id FROM episodes ORDER BY started, rowid")
            return [r[0] for r in rows.fetchall()]

    def list(self, limit: int | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """Summaries, newest last: {id, task, policy, status, success, started, ended, steps, corrections}."""
        q = (
            "SELECT e.id, e.task, e.policy, e.status, e.success, e.started, e.ended, "
            "(SELECT COUNT(*) FROM events v WHERE v.episode_id = e.id AND v.kind = 'step'), "
            "(SELECT COUNT(*) FROM events v WHERE v.episode_id = e.id AND v.kind = 'correction') "
            "FROM episodes e" + (" WHERE e.status = ?" if status else "") + " ORDER BY e.started, e.rowid"
        )
        with self._lock:
            rows = self._db.execute(q, (status,) if status else ()).fetchall()
        if limit is not None:
            rows = rows[-limit:] if limit > 0 else []
        keys = ("id", "task", "policy", "status", "success", "started", "ended", "steps", "corrections")
        out = []
        for r in rows:
            d = dict(zip(keys, r))
            d["success"] = None if d["success"] is None else bool(d["success"])
            out.append(d)
        return out

    def resolve(self, ref: str) -> str:
        """An episode id from a full id, a unique prefix, or a negative index ('-1' = the latest)."""
        ids = self.ids()
        if ref in ids:
            return ref
        if ref.lstrip("-").isdigit() and ref.startswith("-"):
            k = int(ref)
            if ids and -len(ids) <= k:
                return ids[k]
        hits = [i for i in ids if i.startswith(ref)]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise EpisodeLogError(f"no episode {ref!r} in {self.root}" + (f"; latest: {', '.join(ids[-3:])}" if ids else "; the log is empty"))
        raise EpisodeLogError(f"{ref!r} matches {len(hits)} episodes: {', '.join(hits[:5])}; give more of the id")

    def load(self, episode_id: str) -> dict[str, Any]:
        """The shared episode record (module docstring); raises :class:`EpisodeLogError` for unknown ids."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, task, policy, status, success, started, ended FROM episodes WHERE id = ?", (episode_id,)
            ).fetchone()
            if row is None:
                raise EpisodeLogError(f"no episode {episode_id!r} in {self.root}")
            events = self._db.execute(
                "SELECT kind, t, data FROM events WHERE episode_id = ? ORDER BY seq", (episode_id,)
            ).fetchall()
        eid, task, policy, status, success, started, ended = row
        rec: dict[str, Any] = {
            "id": eid, "task": task, "scene": None, "policy": policy, "knowledge_used": [], "base_plan": [],
            "initial_plan": [], "final_plan": [], "success": None if success is None else bool(success),
            "status": status, "steps": [], "corrections": [], "utterances": [], "started": started, "ended": ended,
            "frames": [], "frame_info": [], "meta": {},
        }
        plan: list[dict[str, Any]] = []
        for kind, t, raw in events:
            try:
                data = json.loads(raw)
            except json.JSONDecodeError:  # a torn write cannot commit in SQLite; be lenient anyway
                continue
            if kind == "start":
                for k in ("scene", "knowledge_used", "base_plan", "initial_plan", "meta"):
                    rec[k] = data.get(k, rec[k])
                plan = data.get("initial_plan") or []
            elif kind == "step":
                rec["steps"].append({"index": data["index"], "call": data["call"], "outcome": data["outcome"], "t": t})
            elif kind == "correction":
                rec["corrections"].append({**data, "t": data.get("t", t)})
                if data.get("after") is not None:
                    plan = data["after"]
            elif kind == "utterance":
                rec["utterances"].append({**data, "t": t})
            elif kind == "plan":
                plan = data.get("plan", plan)
            elif kind == "frame":
                rec["frames"].append(data["path"])
                rec["frame_info"].append({"path": data["path"], "label": data.get("label", ""), "t": t,
                                          "after_steps": len(rec["steps"])})
            elif kind == "end":
                if data.get("final_plan") is not None:
                    plan = data["final_plan"]
        rec["final_plan"] = plan
        return rec

    def media_path(self, rel: str) -> Path:
        """Absolute path of a frame given as returned in ``record["frames"]``."""
        return self.root / rel

    # --- export ----------------------------------------------------------------------------------
    def export(self, out_dir: str | Path, episode_ids: Iterable[str] | None = None, fps: int = 1,
               include_running: bool = False) -> dict[str, Any]:
        """Write the episodes (default: all ended ones) as a LeRobot-v3.0-style dataset; returns ``info.json``.

        See :func:`export_lerobot`.
        """
        if episode_ids is None:
            ids = [s["id"] for s in self.list() if include_running or s["status"] != "running"]
        else:
            ids = [self.resolve(i) for i in episode_ids]
        records = [self.load(i) for i in ids]
        return export_lerobot(records, Path(out_dir), media_root=self.root, fps=fps)


# --- LeRobot v3.0 export (columns and features: memory/lerobot_export.py) -------------------------
def export_lerobot(records: list[dict[str, Any]], out: Path, media_root: Path | None = None, fps: int = 1) -> dict[str, Any]:
    """Write episode records as a LeRobot v3.0 dataset under ``out``; returns the ``info.json`` dict.

    Columns, features, ``meta/tasks.parquet`` (task text as the index), ``meta/stats.json`` and
    ``meta/language_events.parquet``: see :mod:`memory.lerobot_export`.
    """
    written = _prepare_export_folder(out)
    try:
        (out / "meta" / "episodes" / "chunk-000").mkdir(parents=True, exist_ok=True)
        (out / "data" / "chunk-000").mkdir(parents=True, exist_ok=True)
        info = _write_lerobot(records, out, media_root, fps, written)
    except OSError as e:
        raise EpisodeLogError(f"cannot export to {out}: {e}") from None
    (out / MANIFEST).write_text(json.dumps({"written_by": "robocorrect episodes export",
                                            "files": sorted(str(p.relative_to(out)) for p in written)}, indent=1))
    return info


MANIFEST = "meta/robocorrect_files.json"
"""Lists every file an export wrote, so that the next export into the same folder replaces exactly those."""


def _prepare_export_folder(out: Path) -> list[Path]:
    """Make ``out`` ready for an export without deleting anything robocorrect did not write there: a new or
    empty folder is used as is; a folder holding an earlier robocorrect export (its :data:`MANIFEST`) loses
    exactly the files that export wrote, and keeps anything else (a README put beside it); any other folder,
    or a file, is refused. Returns the (empty) list the export fills with the paths it writes."""
    if out.exists() and not out.is_dir():
        raise EpisodeLogError(f"cannot export to {out}: it is a file; give a folder (new or empty)")
    if out.exists() and any(out.iterdir()):
        manifest = out / MANIFEST
        if not manifest.is_file():
            what = "a dataset robocorrect did not write" if (out / "meta" / "info.json").exists() else "files"
            raise EpisodeLogError(f"{out} already holds {what}; export into a new or empty folder (nothing was changed)")
        try:
            files = json.loads(manifest.read_text())["files"]
        except (ValueError, KeyError, TypeError) as e:
            raise EpisodeLogError(f"{manifest} is damaged ({e}); export into a new or empty folder") from None
        root = out.resolve()
        emptied: set[Path] = set()
        for rel in files:
            p = (out / rel).resolve()
            if root in p.parents and p.is_file():
                p.unlink()
                emptied.update(d for d in p.parents if root in d.parents)
        manifest.unlink()
        for d in sorted(emptied, key=lambda d: len(d.parts), reverse=True):
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()  # a folder the last export made for its files, now empty
    return []


def _write_lerobot(records: list[dict[str, Any]], out: Path, media_root: Path | None, fps: int,
                   written: list[Path]) -> dict[str, Any]:
    """The dataset itself (columns and features: :mod:`memory.lerobot_export`); appends every file to ``written``."""
    from memory.lerobot_export import write_lerobot

    return write_lerobot(records, out, media_root, fps, written)

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
import shutil
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


# --- LeRobot v3.0-style export -----------------------------------------------------------------------
ACTION_FLOATS = ("yaw", "speed", "force", "height")


def _action_fields(call: dict[str, Any]) -> dict[str, Any]:
    from skills.schema import SKILLS

    a = call.get("args", {}) or {}
    off = a.get("offset")
    return {
        "action.skill": call.get("skill", ""),
        "action.skill_index": list(SKILLS).index(call["skill"]) if call.get("skill") in SKILLS else -1,
        "action.object": a.get("object") or "",
        "action.target": a.get("target") or "",
        "action.offset": [float(v) for v in off] if off is not None else [0.0, 0.0, 0.0],
        **{f"action.{k}": float(a[k]) if a.get(k) is not None else float("nan") for k in ACTION_FLOATS},
        "action.args_json": _dumps(a),
    }


def export_lerobot(records: list[dict[str, Any]], out: Path, media_root: Path | None = None, fps: int = 1) -> dict[str, Any]:
    """Write episode records in LeRobot dataset v3.0 layout under ``out``; returns the ``info.json`` dict.

    - ``meta/info.json``: codebase_version "v3.0", fps, features, totals, path templates.
    - ``meta/tasks.parquet``: task_index, task.
    - ``meta/episodes/chunk-000/file-000.parquet``: one row per episode (episode_index, tasks, length,
      data/chunk_index, data/file_index, dataset_from_index, dataset_to_index, plus success, status, id).
    - ``data/chunk-000/file-000.parquet``: one row per executed skill call (a "frame" here is a step):
      index, episode_index, frame_index, timestamp (s since episode start), task_index, ``action.*``
      fields of the call as executed, ``next.success`` / ``next.done``, the outcome, the camera frame
      taken after the step (``observation.image`` relative path) and ``language.interjection`` (the
      corrections the user gave while the step ran or after it, before the next step).
    - ``meta/language_events.parquet``: corrections as language events {episode_index, timestamp,
      style: "interjection", text, level, step, grounded_change}.

    Timestamps are real seconds since the episode started; steps are skill calls, not periodic frames,
    so ``fps`` is nominal (recorded for tools that need one).
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
    import pyarrow as pa
    import pyarrow.parquet as pq

    tasks: list[str] = []
    rows: list[dict[str, Any]] = []
    ep_rows: list[dict[str, Any]] = []
    lang_rows: list[dict[str, Any]] = []
    for ei, rec in enumerate(records):
        if rec["task"] not in tasks:
            tasks.append(rec["task"])
        ti = tasks.index(rec["task"])
        t0 = rec["started"]
        # the camera frame taken right after executed step k: the first one logged once k + 1 steps were
        frames_after: dict[int, str] = {}
        for fr in rec.get("frame_info", []):
            if fr["after_steps"] > 0 and fr["label"] != "start":
                frames_after.setdefault(fr["after_steps"] - 1, fr["path"])
        img_map: dict[str, str] = {}
        if media_root is not None:
            for rel in rec.get("frames", []):
                src = media_root / rel
                if src.exists():
                    dst = out / "images" / f"episode_{ei:06d}" / Path(rel).name
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, dst)
                    written.append(dst)
                    img_map[rel] = str(dst.relative_to(out))
        corr = rec.get("corrections", [])
        start_index = len(rows)
        steps = rec.get("steps", [])
        for fi, st in enumerate(steps):
            t_prev = st["t"]
            t_next = steps[fi + 1]["t"] if fi + 1 < len(steps) else float("inf")
            said = [c["utterance"] for c in corr if t_prev <= c.get("t", 0) < t_next]
            o = st.get("outcome", {})
            rel = frames_after.get(fi)
            rows.append({
                "index": len(rows), "episode_index": ei, "frame_index": fi, "timestamp": float(st["t"] - t0),
                "task_index": ti, **_action_fields(st["call"]),
                "next.success": bool(o.get("success")), "next.done": fi == len(steps) - 1,
                "outcome.failure": o.get("failure") or "", "outcome.message": o.get("message") or "",
                "outcome.stopped": bool(o.get("stopped")),
                "observation.image": img_map.get(rel, "") if rel else "",
                "language.interjection": said,
            })
        for c in corr:
            lang_rows.append({
                "episode_index": ei, "timestamp": float(c.get("t", t0) - t0), "style": "interjection",
                "text": c.get("utterance", ""), "level": c.get("level", ""), "step": int(c.get("step", -1)),
                "during_motion": bool(c.get("during_motion")), "grounded_change": "; ".join(c.get("changes", [])),
            })
        ep_rows.append({
            "episode_index": ei, "tasks": [rec["task"]], "length": len(steps),
            "data/chunk_index": 0, "data/file_index": 0,
            "dataset_from_index": start_index, "dataset_to_index": len(rows),
            "meta/episodes/chunk_index": 0, "meta/episodes/file_index": 0,
            "episode_id": rec["id"], "success": rec["success"], "status": rec["status"],
            "n_corrections": len(corr), "policy": rec.get("policy") or "",
            "initial_plan_json": _dumps(rec.get("initial_plan")), "final_plan_json": _dumps(rec.get("final_plan")),
            "knowledge_used_json": _dumps(rec.get("knowledge_used")),
        })

    data_schema = pa.schema([
        ("index", pa.int64()), ("episode_index", pa.int64()), ("frame_index", pa.int64()), ("timestamp", pa.float32()),
        ("task_index", pa.int64()), ("action.skill", pa.string()), ("action.skill_index", pa.int64()),
        ("action.object", pa.string()), ("action.target", pa.string()), ("action.offset", pa.list_(pa.float32(), 3)),
        *[(f"action.{k}", pa.float32()) for k in ACTION_FLOATS], ("action.args_json", pa.string()),
        ("next.success", pa.bool_()), ("next.done", pa.bool_()), ("outcome.failure", pa.string()),
        ("outcome.message", pa.string()), ("outcome.stopped", pa.bool_()), ("observation.image", pa.string()),
        ("language.interjection", pa.list_(pa.string())),
    ])
    written += [out / "data" / "chunk-000" / "file-000.parquet", out / "meta" / "tasks.parquet",
                out / "meta" / "episodes" / "chunk-000" / "file-000.parquet", out / "meta" / "language_events.parquet",
                out / "meta" / "info.json"]
    pq.write_table(pa.Table.from_pylist(rows, schema=data_schema), out / "data" / "chunk-000" / "file-000.parquet")
    pq.write_table(pa.Table.from_pylist([{"task_index": i, "task": t} for i, t in enumerate(tasks)],
                                        schema=pa.schema([("task_index", pa.int64()), ("task", pa.string())])),
                   out / "meta" / "tasks.parquet")
    ep_schema = pa.schema([
        ("episode_index", pa.int64()), ("tasks", pa.list_(pa.string())), ("length", pa.int64()),
        ("data/chunk_index", pa.int64()), ("data/file_index", pa.int64()), ("dataset_from_index", pa.int64()),
        ("dataset_to_index", pa.int64()), ("meta/episodes/chunk_index", pa.int64()), ("meta/episodes/file_index", pa.int64()),
        ("episode_id", pa.string()), ("success", pa.bool_()), ("status", pa.string()), ("n_corrections", pa.int64()),
        ("policy", pa.string()), ("initial_plan_json", pa.string()), ("final_plan_json", pa.string()),
        ("knowledge_used_json", pa.string()),
    ])
    pq.write_table(pa.Table.from_pylist(ep_rows, schema=ep_schema), out / "meta" / "episodes" / "chunk-000" / "file-000.parquet")
    lang_schema = pa.schema([
        ("episode_index", pa.int64()), ("timestamp", pa.float32()), ("style", pa.string()), ("text", pa.string()),
        ("level", pa.string()), ("step", pa.int64()), ("during_motion", pa.bool_()), ("grounded_change", pa.string()),
    ])
    pq.write_table(pa.Table.from_pylist(lang_rows, schema=lang_schema), out / "meta" / "language_events.parquet")

    def feat(dtype: str, shape: tuple[int, ...] = (1,), names: Any = None) -> dict[str, Any]:
        return {"dtype": dtype, "shape": list(shape), "names": names}

    features = {
        "index": feat("int64"), "episode_index": feat("int64"), "frame_index": feat("int64"),
        "timestamp": feat("float32"), "task_index": feat("int64"),
        "action.skill": feat("string"), "action.skill_index": feat("int64"), "action.object": feat("string"),
        "action.target": feat("string"), "action.offset": feat("float32", (3,), ["dx", "dy", "dz"]),
        **{f"action.{k}": feat("float32") for k in ACTION_FLOATS}, "action.args_json": feat("string"),
        "next.success": feat("bool"), "next.done": feat("bool"), "outcome.failure": feat("string"),
        "outcome.message": feat("string"), "outcome.stopped": feat("bool"),
        "observation.image": feat("string", names=["relative PNG path, the camera after the step; '' if none"]),
        "language.interjection": feat("string", (-1,), ["user corrections given while this step ran or after it, before the next step"]),
    }
    info = {
        "codebase_version": "v3.0",
        "robot_type": "panda_sim",
        "total_episodes": len(records),
        "total_frames": len(rows),
        "total_tasks": len(tasks),
        "chunks_size": 1000,
        "data_files_size_in_mb": 100,
        "video_files_size_in_mb": 500,
        "fps": fps,
        "splits": {"train": f"0:{len(records)}"},
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "video_path": None,
        "features": features,
        "robocorrect": {
            "frame_unit": "one executed skill call; timestamps are seconds since the episode started (not periodic)",
            "language_events": "meta/language_events.parquet",
            "units": "metres, radians, newtons; robot base frame x forward, y left, z up",
        },
    }
    (out / "meta" / "info.json").write_text(json.dumps(info, indent=2))
    return info

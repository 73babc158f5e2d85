"""Episode records -> a LeRobot v3.0 dataset that ``LeRobotDataset(repo_id, root=OUT)`` loads and indexes.

One frame per executed skill call. What LeRobot needs, and what each column is:

- ``action`` (float32 [8]): skill index, offset dx dy dz (m, base frame), yaw (rad), speed (x nominal),
  force (N), height (m), with the skill's defaults filled in; 0 where the skill has no such argument
  (force on a place), never NaN.
- ``observation.state`` (float32 [6]): the start position (m, base frame) of the object the step handles
  and of its target; 0 when the step has none.
- ``observation.image`` (``image``, H x W x 3): the camera after the step (PNG bytes in the parquet); the
  last earlier frame, or black, when the step has none. Absent when no episode has frames.
- ``language.interjection`` (string): the corrections said after the previous step ended and until this one
  ended (before it started or while it ran), joined by " | "; so corrections said before the first step belong
  to frame 0, those after the last step to the last frame.
- ``skill.*`` / ``outcome.*`` (strings, bools): the call as text; text never sits under ``action``.
- ``meta/tasks.parquet``: task text as the (pandas) index, ``task_index`` column.
- ``meta/stats.json``: min, max, mean, std, count per numeric feature (images per channel, in [0, 1]).

Timestamps are seconds since the episode started; ``fps`` is nominal (frames are skill calls).
"""
from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any, Optional

from skills.schema import SKILLS

ACTION_NAMES = ["skill_index", "dx", "dy", "dz", "yaw", "speed", "force", "height"]
STATE_NAMES = ["object_x", "object_y", "object_z", "target_x", "target_y", "target_z"]
INTERJECTION_SEP = " | "


def action_vector(call: dict[str, Any]) -> list[float]:
    """:data:`ACTION_NAMES` of one call (defaults filled, 0 where the skill has no such argument)."""
    skill = call.get("skill")
    spec = SKILLS.get(skill) if isinstance(skill, str) else None
    args = call.get("args") or {}

    def value(name: str) -> Any:
        if spec is None or not any(p.name == name for p in spec.params):
            return None
        v = args.get(name)
        return spec.param(name).default if v is None else v

    off = value("offset") or [0.0, 0.0, 0.0]
    vec = [float(list(SKILLS).index(skill)) if spec is not None else -1.0, *[float(v) for v in off]]
    for name in ("yaw", "speed", "force", "height"):
        v = value(name)
        vec.append(float(v) if v is not None else 0.0)
    return vec


def state_vector(steps: list[dict[str, Any]], i: int, scene: Optional[dict[str, Any]]) -> list[float]:
    """:data:`STATE_NAMES` of step ``i``: start positions of its object (the held one on a place) and target."""
    pos = {o.get("name"): o.get("position") for o in (scene or {}).get("objects", [])}
    args = (steps[i]["call"].get("args") or {})
    obj = args.get("object")
    if obj is None:
        obj = next((s["call"].get("args", {}).get("object") for s in reversed(steps[:i]) if s["call"].get("skill") == "pick"), None)
    out: list[float] = []
    for name in (obj, args.get("target")):
        p = pos.get(name)
        out += [float(v) for v in p[:3]] if isinstance(p, (list, tuple)) and len(p) >= 3 else [0.0, 0.0, 0.0]
    return out


def png_size(data: bytes) -> tuple[int, int]:
    """(height, width) of a PNG from its header."""
    w, h = struct.unpack(">II", data[16:24])
    return h, w


def black_png(height: int, width: int) -> bytes:
    """A black RGB PNG of the given size (no image library needed)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x00" * (3 * width) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _numeric_stats(rows: list[list[float]]) -> dict[str, Any]:
    import numpy as np

    a = np.asarray(rows, dtype=np.float64).reshape(len(rows), -1) if rows else np.zeros((1, 1))
    return {"min": a.min(0).tolist(), "max": a.max(0).tolist(), "mean": a.mean(0).tolist(), "std": a.std(0).tolist(),
            "count": [int(len(rows))]}


def _image_stats(pngs: list[bytes], max_images: int = 64) -> dict[str, Any]:
    import io

    import numpy as np
    from PIL import Image

    step = max(1, len(pngs) // max_images)
    px = [np.asarray(Image.open(io.BytesIO(b)).convert("RGB"), dtype=np.float64) / 255.0 for b in pngs[::step]]
    a = np.stack(px).reshape(-1, 3)
    def chw(v: Any) -> list[Any]:
        return [[[float(x)]] for x in v]
    return {"min": chw(a.min(0)), "max": chw(a.max(0)), "mean": chw(a.mean(0)), "std": chw(a.std(0)), "count": [len(pngs)]}


def _pandas_index_metadata(index: str, columns: list[tuple[str, str, str]]) -> bytes:
    """The ``pandas`` schema metadata that makes ``pd.read_parquet`` use column ``index`` as the index."""
    return json.dumps({
        "index_columns": [index], "column_indexes": [{"name": None, "field_name": None, "pandas_type": "unicode",
                                                       "numpy_type": "object", "metadata": {"encoding": "UTF-8"}}],
        "columns": [{"name": n, "field_name": n, "pandas_type": pt, "numpy_type": nt, "metadata": None} for n, pt, nt in columns],
        "creator": {"library": "pyarrow", "version": "robocorrect"}, "pandas_version": "2.2.0",
    }).encode()


def write_lerobot(records: list[dict[str, Any]], out: Path, media_root: Optional[Path] = None, fps: int = 1,
                  written: Optional[list[Path]] = None) -> dict[str, Any]:
    """Write ``records`` as a LeRobot v3.0 dataset under ``out`` (an empty or prepared folder); returns
    ``info.json``. Every file written is appended to ``written``. Layout in the module docstring."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    written = written if written is not None else []
    for d in (out / "meta" / "episodes" / "chunk-000", out / "data" / "chunk-000"):
        d.mkdir(parents=True, exist_ok=True)
    tasks: list[str] = []
    rows: list[dict[str, Any]] = []
    ep_rows: list[dict[str, Any]] = []
    lang_rows: list[dict[str, Any]] = []
    pngs: dict[str, bytes] = {}
    if media_root is not None:
        for rec in records:
            for rel in rec.get("frames", []):
                src = media_root / rel
                if src.is_file():
                    pngs[rel] = src.read_bytes()
    shape = png_size(next(iter(pngs.values()))) if pngs else None
    blank = black_png(*shape) if shape else b""
    for ei, rec in enumerate(records):
        if rec["task"] not in tasks:
            tasks.append(rec["task"])
        ti = tasks.index(rec["task"])
        t0 = rec["started"]
        frames_after: dict[int, str] = {}
        for fr in rec.get("frame_info", []):
            if fr["after_steps"] > 0 and fr["label"] != "start":
                frames_after.setdefault(fr["after_steps"] - 1, fr["path"])
        corr = rec.get("corrections", [])
        steps = rec.get("steps", [])
        start_index = len(rows)
        last_img = blank
        for fi, st in enumerate(steps):
            # said after the previous step ended, up to the end of this one (before the first step: frame 0;
            # after the last step: the last frame)
            t_lo = steps[fi - 1]["t"] if fi > 0 else float("-inf")
            t_hi = st["t"] if fi + 1 < len(steps) else float("inf")
            said = [c["utterance"] for c in corr if t_lo < c.get("t", 0) <= t_hi]
            o = st.get("outcome", {})
            row = {
                "index": len(rows), "episode_index": ei, "frame_index": fi, "timestamp": float(st["t"] - t0),
                "task_index": ti, "action": action_vector(st["call"]), "observation.state": state_vector(steps, fi, rec.get("scene")),
                "skill.name": st["call"].get("skill", ""), "skill.object": (st["call"].get("args") or {}).get("object") or "",
                "skill.target": (st["call"].get("args") or {}).get("target") or "",
                "skill.args_json": json.dumps(st["call"].get("args") or {}, default=str),
                "next.success": bool(o.get("success")), "next.done": fi == len(steps) - 1,
                "outcome.failure": o.get("failure") or "", "outcome.message": o.get("message") or "",
                "outcome.stopped": bool(o.get("stopped")),
                "language.interjection": INTERJECTION_SEP.join(said),
            }
            if shape:
                rel = frames_after.get(fi)
                img = pngs.get(rel, b"") if rel else b""
                if img and png_size(img) == shape:
                    last_img = img
                row["observation.image"] = {"bytes": last_img, "path": f"frame_{ei:06d}_{fi:06d}.png"}
            rows.append(row)
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
            "initial_plan_json": json.dumps(rec.get("initial_plan"), default=str),
            "final_plan_json": json.dumps(rec.get("final_plan"), default=str),
            "knowledge_used_json": json.dumps(rec.get("knowledge_used"), default=str),
        })

    def feat(dtype: str, shape_: tuple[int, ...] = (1,), names: Any = None) -> dict[str, Any]:
        return {"dtype": dtype, "shape": list(shape_), "names": names}

    fields = [
        ("index", pa.int64(), feat("int64")), ("episode_index", pa.int64(), feat("int64")),
        ("frame_index", pa.int64(), feat("int64")), ("timestamp", pa.float32(), feat("float32")),
        ("task_index", pa.int64(), feat("int64")),
        ("action", pa.list_(pa.float32(), len(ACTION_NAMES)), feat("float32", (len(ACTION_NAMES),), ACTION_NAMES)),
        ("observation.state", pa.list_(pa.float32(), len(STATE_NAMES)), feat("float32", (len(STATE_NAMES),), STATE_NAMES)),
        ("skill.name", pa.string(), feat("string")), ("skill.object", pa.string(), feat("string")),
        ("skill.target", pa.string(), feat("string")), ("skill.args_json", pa.string(), feat("string")),
        ("next.success", pa.bool_(), feat("bool")), ("next.done", pa.bool_(), feat("bool")),
        ("outcome.failure", pa.string(), feat("string")), ("outcome.message", pa.string(), feat("string")),
        ("outcome.stopped", pa.bool_(), feat("bool")),
        ("language.interjection", pa.string(), feat("string", names=["corrections said during or after this step, ' | '-joined"])),
    ]
    if shape:
        fields.append(("observation.image", pa.struct([("bytes", pa.binary()), ("path", pa.string())]),
                       feat("image", (shape[0], shape[1], 3), ["height", "width", "channels"])))
    hf_features = {n: ({"_type": "Image"} if f["dtype"] == "image" else
                       {"feature": {"dtype": f["dtype"], "_type": "Value"}, "length": f["shape"][0], "_type": "Sequence"}
                       if n in ("action", "observation.state") else {"dtype": f["dtype"], "_type": "Value"})
                   for n, _, f in fields}
    schema = pa.schema([(n, t) for n, t, _ in fields]).with_metadata(
        {"huggingface": json.dumps({"info": {"features": hf_features}})})
    data_file = out / "data" / "chunk-000" / "file-000.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), data_file)
    tasks_schema = pa.schema([("task_index", pa.int64()), ("task", pa.string())]).with_metadata(
        {"pandas": _pandas_index_metadata("task", [("task_index", "int64", "int64"), ("task", "unicode", "object")])})
    pq.write_table(pa.Table.from_pylist([{"task_index": i, "task": t} for i, t in enumerate(tasks)], schema=tasks_schema),
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

    stats = {k: _numeric_stats([[float(r[k])] for r in rows]) for k in ("index", "episode_index", "frame_index", "timestamp", "task_index")}
    stats["action"] = _numeric_stats([r["action"] for r in rows])
    stats["observation.state"] = _numeric_stats([r["observation.state"] for r in rows])
    if shape and rows:
        stats["observation.image"] = _image_stats([r["observation.image"]["bytes"] for r in rows])
    (out / "meta" / "stats.json").write_text(json.dumps(stats, indent=1))
    info = {
        "codebase_version": "v3.0", "robot_type": "panda_sim", "total_episodes": len(records), "total_frames": len(rows),
        "total_tasks": len(tasks), "chunks_size": 1000, "data_files_size_in_mb": 100, "video_files_size_in_mb": 500,
        "fps": fps, "splits": {"train": f"0:{len(records)}"},
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet", "video_path": None,
        "features": {n: f for n, _, f in fields},
        "robocorrect": {
            "frame_unit": "one executed skill call; timestamps are seconds since the episode started (not periodic)",
            "language_events": "meta/language_events.parquet",
            "units": "metres, radians, newtons; robot base frame x forward, y left, z up",
        },
    }
    (out / "meta" / "info.json").write_text(json.dumps(info, indent=2))
    written += [data_file, out / "meta" / "tasks.parquet", out / "meta" / "episodes" / "chunk-000" / "file-000.parquet",
                out / "meta" / "language_events.parquet", out / "meta" / "stats.json", out / "meta" / "info.json"]
    return info

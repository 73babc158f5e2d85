"""The LeRobot export: numeric action/state without NaN, task text as the tasks index, corrections before the
first step kept, images as an image feature, stats.json; loaded by LeRobot itself when it is importable."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from memory.lerobot_export import ACTION_NAMES, black_png, write_lerobot

SCENE = {"objects": [{"name": "red_block", "kind": "block", "color": "red", "size": 0.04, "position": [0.5, 0.0, 0.02]},
                     {"name": "green_bowl", "kind": "bowl", "color": "green", "size": 0.12, "position": [0.5, -0.2, 0.0]}]}
PICK = {"skill": "pick", "args": {"object": "red_block"}}
PLACE = {"skill": "place", "args": {"target": "green_bowl", "offset": [0.0, 0.015, 0.0]}}


def records(media: Path) -> list[dict]:
    (media / "e1").mkdir(parents=True)
    for i in range(3):
        (media / "e1" / f"{i}.png").write_bytes(black_png(24, 32))
    rec = {"id": "e1", "task": "put the red block in the green bowl", "scene": SCENE, "policy": "embedded", "success": True,
           "status": "success", "started": 100.0, "initial_plan": [PICK, PLACE], "final_plan": [PICK, PLACE], "knowledge_used": [],
           "steps": [{"index": 0, "call": PICK, "outcome": {"success": True}, "t": 102.0},
                     {"index": 1, "call": PLACE, "outcome": {"success": True}, "t": 104.0}],
           "corrections": [{"utterance": "the red one, yes", "step": 0, "t": 101.0, "changes": []},
                           {"utterance": "a bit to the left", "step": 1, "t": 103.0, "changes": ["offset y +1.5 cm"]},
                           {"utterance": "and slower", "step": 1, "t": 103.5, "changes": []}],
           "frames": ["e1/0.png", "e1/1.png", "e1/2.png"],
           "frame_info": [{"path": "e1/0.png", "label": "start", "after_steps": 0},
                          {"path": "e1/1.png", "label": "after step 1", "after_steps": 1},
                          {"path": "e1/2.png", "label": "after step 2", "after_steps": 2}]}
    other = {**rec, "id": "e2", "task": "pick up the red block", "steps": rec["steps"][:1], "corrections": [], "frames": [],
             "frame_info": []}
    return [rec, other]


def test_export_is_numeric_and_complete(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    info = write_lerobot(records(tmp_path / "media"), out, tmp_path / "media")
    rows = pq.read_table(out / "data" / "chunk-000" / "file-000.parquet").to_pylist()
    assert [r["language.interjection"] for r in rows] == ["the red one, yes", "a bit to the left | and slower", ""]
    assert all(len(r["action"]) == len(ACTION_NAMES) and not any(math.isnan(v) for v in r["action"]) for r in rows)
    assert rows[1]["action"][ACTION_NAMES.index("force")] == 0.0 and rows[0]["action"][ACTION_NAMES.index("force")] > 0
    assert rows[1]["observation.state"][:3] == pytest.approx([0.5, 0.0, 0.02])  # the held block on a place
    assert all(r["observation.image"]["bytes"].startswith(b"\x89PNG") for r in rows)  # episode 2 had no frame: black
    assert not [k for k in info["features"] if k.startswith("action") and info["features"][k]["dtype"] == "string"]
    assert info["features"]["observation.image"]["dtype"] == "image" and info["features"]["observation.image"]["shape"] == [24, 32, 3]
    meta = json.loads(pq.read_schema(out / "meta" / "tasks.parquet").metadata[b"pandas"])
    assert meta["index_columns"] == ["task"]
    stats = json.loads((out / "meta" / "stats.json").read_text())
    assert len(stats["action"]["mean"]) == len(ACTION_NAMES) and len(stats["observation.image"]["mean"]) == 3


def test_lerobot_loads_the_export(tmp_path: Path) -> None:
    lerobot_dataset = pytest.importorskip("lerobot.datasets.lerobot_dataset")
    import torch

    out = tmp_path / "ds"
    write_lerobot(records(tmp_path / "media"), out, tmp_path / "media")
    ds = lerobot_dataset.LeRobotDataset(repo_id="local/robocorrect", root=out)
    assert len(ds) == 3
    items = [ds[i] for i in range(len(ds))]
    assert items[0]["task"] == "put the red block in the green bowl"
    assert ds.meta.get_task_index("pick up the red block") == 1
    assert items[0]["action"].dtype == torch.float32 and items[0]["observation.image"].shape == (3, 24, 32)
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=3)))
    assert batch["language.interjection"][0] == "the red one, yes" and isinstance(batch["language.interjection"][1], str)

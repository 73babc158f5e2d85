"""``robocorrect ground`` / ``robocorrect plan`` end to end on small files, with the shipped checkpoint."""
import json

from agent.cli import main
from grounder_helpers import pick_place, scene_rgby, shipped_policy


def _cases(tmp_path):
    base = {"scene": scene_rgby(), "task": "put the red block in the green bowl", "plan": pick_place(), "history": []}
    cases = [
        {**base, "id": "a", "step": 1, "utterance": "a little more to the left please",
         "expect": [{"step": 1, "arg": "offset", "axis": "y", "delta": [0.003, 0.025]}]},
        {**base, "id": "b", "step": 1, "utterance": "stop", "expect": [{"level": "stop"}]},
        {**base, "id": "c", "step": 0, "utterance": "no, the purple block", "expect": [{"level": "none"}]},
    ]
    p = tmp_path / "cases.jsonl"
    p.write_text("".join(json.dumps(c) + "\n" for c in cases))
    return p


def test_ground_command_writes_one_answer_per_case(tmp_path, capsys, monkeypatch):
    shipped_policy()  # loads MiniLM once; the command's own policy reuses it (Encoder.shared)
    p = _cases(tmp_path)
    out = tmp_path / "ans.jsonl"
    assert main(["ground", str(p), "--out", str(out)]) == 0
    rows = [json.loads(l) for l in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    assert all({"id", "level", "plan", "latency_ms"} <= set(r) for r in rows)
    assert rows[0]["level"] == "skill" and rows[1]["level"] == "stop"
    assert rows[2]["level"] == "none" and rows[2]["question"].startswith("there is no purple block")
    printed = capsys.readouterr().out
    assert "latency ms: p50" in printed and "p95" in printed and "p99" in printed


def test_plan_command_generates_and_scores(tmp_path, capsys):
    out = tmp_path / "plan.jsonl"
    assert main(["plan", "--generate", "20", "--seed", "5", "--out", str(out), "--score"]) == 0
    rows = [json.loads(l) for l in out.read_text().splitlines()]
    assert len(rows) == 20 and all("latency_ms" in r for r in rows)
    printed = capsys.readouterr().out
    assert "20 plans validate" in printed or "plans validate" in printed
    acc = float(printed.strip().splitlines()[-1].split()[-1])
    assert acc >= 0.8


def test_plan_command_reads_a_file(tmp_path, capsys):
    case = {"id": "x", "scene": scene_rgby(), "task": "put the blue block in the yellow bowl",
            "expect_plan": pick_place("blue block", "yellow bowl")}
    bad = {"id": "y", "scene": scene_rgby(), "task": "put the purple block in the green bowl", "expect_error": True}
    p = tmp_path / "cases.jsonl"
    p.write_text(json.dumps(case) + "\n" + json.dumps(bad) + "\n")
    out = tmp_path / "ans.jsonl"
    assert main(["plan", str(p), "--out", str(out), "--score"]) == 0
    rows = [json.loads(l) for l in out.read_text().splitlines()]
    assert rows[1]["error"].startswith("there is no purple block")
    assert "2 passed, 0 failed" in capsys.readouterr().out

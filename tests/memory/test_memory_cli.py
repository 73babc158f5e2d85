"""`robocorrect kb ...` and `robocorrect bench memory` through the real CLI entry point (in-process)."""
from __future__ import annotations

import json

from memtest_helpers import obj, pick, place, scene, taught

from agent.cli import main

BOWL = obj("green bowl", "bowl", "green", 0.16, (0.6, -0.1, 0.03))


def _fill(kb):
    s = scene(obj("small blue block", "block", "blue", 0.03), obj("red block", "block", "red", 0.04, (0.4, 0.2, 0.02)), BOWL)
    kb.ingest(taught("put the blocks in the green bowl", s,
                     [pick("small blue block"), place("green bowl"), pick("red block"), place("green bowl")],
                     [pick("small blue block", offset=[0, 0, -0.015]), place("green bowl", offset=[0, 0.02, 0]),
                      pick("red block", force=30.0), place("green bowl", offset=[0, 0.02, 0])],
                     {0: "lower", 1: "a bit left", 2: "grip it harder", 3: "left a bit"}))
    return kb.list()


def test_kb_list_show_search_forget(kb, capsys):
    entries = _fill(kb)
    path = str(kb.path)
    assert main(["kb", "--kb", path, "list"]) == 0
    out = capsys.readouterr().out
    assert "3 entries" in out and "small blue blocks: pick with offset z -1.5 cm" in out
    assert main(["kb", "list", "--kb", path, "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == [e.id for e in entries]
    assert main(["kb", "--kb", path, "show", str(entries[0].id), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["text"] == entries[0].text and shown["evidence"][0]["utterance"] == "lower"
    assert [h["level"] for h in shown["hypotheses"]] == ["object", "color", "size", "kind", "everything"]
    assert main(["kb", "--kb", path, "show", str(entries[0].id)]) == 0
    out = capsys.readouterr().out
    assert "said 'lower'" in out and "scope hypotheses" in out and "* small blue blocks" in out and "small blocks" in out
    assert main(["kb", "--kb", path, "search", "the", "block", "slips,", "grip", "it", "harder", "-k", "1"]) == 0
    assert "force x1.5" in capsys.readouterr().out
    assert main(["kb", "--kb", path, "forget", str(entries[0].id)]) == 0
    assert "forgot" in capsys.readouterr().out
    assert main(["kb", "--kb", path, "forget", str(entries[0].id)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: no knowledge entry #{entries[0].id}")
    assert main(["kb", "--kb", path, "show", "999"]) == 1
    assert "no knowledge entry #999" in capsys.readouterr().err
    assert main(["kb", "--kb", path, "weaken", str(entries[1].id)]) == 0
    assert "confidence now 0.30" in capsys.readouterr().out


def test_kb_export_import_and_corrupt_import(kb, tmp_path, capsys):
    _fill(kb)
    f = tmp_path / "out.jsonl"
    assert main(["kb", "--kb", str(kb.path), "export", str(f)]) == 0
    assert len(f.read_text().splitlines()) == 3
    other = tmp_path / "other"
    assert main(["kb", "--kb", str(other), "import", str(f)]) == 0
    assert "imported 3 entries" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    bad.write_text(f.read_text() + "{not json\n")
    assert main(["kb", "--kb", str(other), "import", str(bad)]) == 1
    assert "bad.jsonl:4: not valid JSON" in capsys.readouterr().err
    assert main(["kb", "--kb", str(other), "list", "--json"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3  # nothing changed
    assert main(["kb", "--kb", str(other), "import", str(tmp_path / "missing.jsonl")]) == 1
    assert "no file" in capsys.readouterr().err
    assert main(["kb", "--kb", str(other), "check"]) == 0
    assert json.loads(capsys.readouterr().out)["sqlite"] == "ok"


def test_kb_default_path_from_robocorrect_home(kb, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ROBOCORRECT_HOME", str(tmp_path / "home"))
    assert main(["kb", "list"]) == 1  # a read-only command creates nothing
    assert capsys.readouterr().err.startswith(f"error: no knowledge base at {tmp_path / 'home' / 'kb'}")
    assert not (tmp_path / "home").exists()
    _fill(kb)
    f = tmp_path / "out.jsonl"
    assert main(["kb", "--kb", str(kb.path), "export", str(f)]) == 0
    assert main(["kb", "import", str(f)]) == 0  # writing creates it where ROBOCORRECT_HOME says
    assert (tmp_path / "home" / "kb" / "kb.sqlite").exists()
    capsys.readouterr()
    assert main(["kb", "list"]) == 0
    assert "3 entries" in capsys.readouterr().out


def test_bench_memory_small_run_prints_json_last(capsys):
    assert main(["bench", "memory", "--entries", "3000", "--queries", "50", "--recall-queries", "50", "--json"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    res = json.loads(last)
    assert res["entries"] == 3000 and res["index"] == "flat" and res["recall_at_k"] == 1.0
    for key in ("query_p50_ms", "query_p95_ms", "insert_rate_build_per_s", "rss_mb"):
        assert res[key] > 0

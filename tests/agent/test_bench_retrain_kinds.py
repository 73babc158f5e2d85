"""bench retrain's split of the new utterances by the kinds of correction the user made while the log was written."""
from __future__ import annotations

import json

from agent.bench.retrain import case_kind, said_kinds


def test_case_kind_drops_the_size() -> None:
    assert case_kind({"key": ["offset", "+y", "small"]}) == ("offset", "+y")
    assert case_kind({"key": ["yaw", "-", "large"]}) == ("yaw", "-")
    assert case_kind({"key": ["force", "more"]}) == ("force", "up") and case_kind({"key": ["speed", "slower"]}) == ("speed", "down")
    assert case_kind({"key": ["retarget_object"]}) == ("retarget_object", "")


def test_said_kinds_reads_the_users_utterances(tmp_path) -> None:
    utts = [{"intent": "offset", "axis": "y", "sign": 1}, {"intent": "force", "axis": None, "sign": -1},
            {"intent": "confirm", "axis": None, "sign": 0}, {"intent": "vague_pick", "axis": None, "sign": 0}]
    p = tmp_path / "teach_results.json"
    p.write_text(json.dumps({"tasks": {"memory_off": {"0": [{"utterances": utts}]}}}))
    assert said_kinds(p) == {("offset", "+y"), ("force", "down")}


def test_the_retrain_bench_puts_a_turning_wish_in_play() -> None:
    """The new utterances hold rotations, so the house the log is written in has a reason to turn blocks
    (``square_pref``); ``--kinds`` chooses others; the teaching benchmark's default kinds stay as they are."""
    import argparse

    from agent.bench.retrain import configure, kinds_of
    from sim.tasks import QUIRK_KINDS

    p = argparse.ArgumentParser()
    configure(p)
    assert kinds_of(p.parse_args([])) == tuple(QUIRK_KINDS) + ("square_pref",) and "square_pref" not in QUIRK_KINDS
    assert kinds_of(p.parse_args(["--kinds", "heavy, placement_pref"])) == ("heavy", "placement_pref")


def test_bad_kinds_or_bank_give_one_error_line_and_write_nothing(tmp_path, capsys) -> None:
    from agent.cli import main

    out = tmp_path / "out"
    for bad in (["--kinds", "bogus"], ["--kinds", ","], ["--phrases", str(tmp_path / "none.json")]):
        rc = main(["bench", "retrain", *bad, "--out", str(out)])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc in (1, 2) and len(err) == 1 and err[0].startswith("error: "), (bad, err)
        assert not out.exists()

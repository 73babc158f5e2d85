"""A tiny teaching benchmark run end to end (real session, PyBullet, policy, knowledge base, episode log)."""
from __future__ import annotations

import json
import os

import pytest

from agent.policy import PolicyError
from agent.bench.teach import SUMMARY_KEYS, TeachBenchConfig, comparison_table


# A checkpoint other than the shipped one (agent/checkpoints/embedded) can be named for this test.
CHECKPOINT = os.environ.get("ROBOCORRECT_TEST_CHECKPOINT")


def _policy_args() -> list[str]:
    return ["--policy-arg", f"checkpoint={CHECKPOINT}"] if CHECKPOINT else []


def _policy_or_skip() -> None:
    from agent.factory import make_policy

    try:
        make_policy("embedded", **({"checkpoint": CHECKPOINT} if CHECKPOINT else {}))
    except (PolicyError, FileNotFoundError) as e:  # no trained checkpoint in this checkout yet
        pytest.skip(f"embedded policy unavailable: {e}")


def test_tiny_run_prints_the_json_keys(tmp_path, capsys):
    _policy_or_skip()
    from agent.cli import main

    rc = main(["bench", "teach", "--rounds", "1", "--tasks", "2", "--seeds", "0-1", "--memory", "both",
               "--out", str(tmp_path / "out"), "--json", *_policy_args()])
    assert rc == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    res = json.loads(lines[-1])
    for key in ("rounds", "memory_on", "memory_off"):
        assert key in res
    assert res["rounds"] == res["memory_on"]["rounds"] and len(res["rounds"]) == 1
    for rnd in (res["memory_on"]["rounds"][0], res["memory_off"]["rounds"][0]):
        assert rnd["round"] == 1
        for k in SUMMARY_KEYS:
            assert isinstance(rnd[k], (int, float)), k
        assert 0.0 <= rnd["success_rate"] <= 1.0
        assert set(rnd["ci95"]) == set(SUMMARY_KEYS) and len(rnd["per_seed"]["success_rate"]) == 2
    assert res["seeds"] == [0, 1] and set(res["rules"]) == {"0", "1"}
    # the user's rates are echoed, noise on by default
    user = res["config"]["user"]
    assert user["wrong_direction_rate"] > 0 and user["word_noise"] > 0 and user["vague_rate"] > 0
    assert res["config"]["oracle"] is False
    # every episode went to the episode log
    from memory.episodes import EpisodeLog

    with EpisodeLog(res["log"]) as log:
        assert len(log.ids()) == 8


def test_oracle_user_runs(tmp_path, capsys):
    _policy_or_skip()
    from agent.cli import main

    rc = main(["bench", "teach", "--rounds", "1", "--tasks", "1", "--seed", "2", "--memory", "off", "--oracle",
               "--out", str(tmp_path / "out"), "--json", *_policy_args()])
    assert rc == 0
    res = json.loads([ln for ln in capsys.readouterr().out.splitlines() if ln.strip()][-1])
    assert res["config"]["oracle"] is True and res["config"]["user"]["wrong_direction_rate"] == 0.0
    assert res["memory_off"]["rounds"][0]["tasks"] == 1


def test_bad_options_are_rejected_with_a_clear_message(tmp_path, capsys):
    from agent.cli import main

    assert main(["bench", "teach", "--memory", "both", "--phrases", str(tmp_path / "nope.json")]) == 2
    assert "no phrase bank" in capsys.readouterr().err
    assert main(["bench", "teach", "--kinds", "wobbly"]) == 2
    assert "unknown quirk kinds" in capsys.readouterr().err
    assert main(["bench", "teach", "--seeds", "4-1"]) == 2
    assert "--seeds" in capsys.readouterr().err
    assert main(["bench", "teach", "--vague-rate", "2"]) == 2
    assert "vague_rate" in capsys.readouterr().err
    with pytest.raises(ValueError, match="--memory"):
        TeachBenchConfig(memory="sometimes")


def test_comparison_table_layout():
    row = {"round": 1, **{k: 0.5 for k in SUMMARY_KEYS}}
    t = comparison_table([row], [row])
    assert "r1 off" in t and "r1 on" in t and "corrections_per_task" in t

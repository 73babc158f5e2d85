"""``robocorrect bench control --robot fake-*``: the real vendor adapter over its SDK fake, in real time, behind the
safety layer, while the policy grounds corrections; every SDK call is bound against the installed SDK."""
from __future__ import annotations

import json

import pytest

from agent.cli import main


def test_bench_control_on_the_xarm_adapter_over_its_fake(capsys) -> None:
    pytest.importorskip("xarm.wrapper")
    assert main(["bench", "control", "--robot", "fake-xarm", "--corrections", "2", "--json"]) == 0
    r = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert r["robot"] == "fake-xarm" and r["driver"] == "XArmRobot" and r["safety_layer"] is True
    assert r["corrections"] == 2 and r["mode"] == "worker" and r["ticks"] > 50
    assert r["nominal_tick_ms"] == pytest.approx(10.0)  # the xArm adapter's own 100 Hz
    assert r["sdk_calls_checked"] > r["ticks"]  # every tick's calls were bound to XArmAPI's real signatures
    for k in ("tick_ms_p50", "tick_ms_p99", "grounding_ms_p50"):
        assert r[k] > 0


def test_bench_control_bad_options_are_one_line(capsys) -> None:
    assert main(["bench", "control", "--robot", "sim", "--hz", "100"]) == 2
    assert capsys.readouterr().err.strip() == "error: --hz is for the fake-* drivers; the simulated arm ticks at 60 Hz"
    with pytest.raises(SystemExit):
        main(["bench", "control", "--robot", "fake-kuka"])

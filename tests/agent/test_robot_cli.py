"""``robocorrect robot check``: connects, reads the state, moves nothing; bad files give one error line."""
from __future__ import annotations

import json
import sys
import types

import pytest

from agent.cli import main

from hardware.fakes.ur import Arm, FakeRTDEControl, FakeRTDEIO, FakeRTDEReceive


def test_check_sim_moves_nothing(tmp_path, capsys):
    p = tmp_path / "sim.toml"
    p.write_text('driver = "sim"\n[[keep_out]]\nname = "mast"\nmin = [0.7, -0.5, 0.0]\nmax = [0.9, -0.3, 0.8]\n')
    assert main(["robot", "check", "--config", str(p), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["ok"] and report["connected"] and report["tcp_position_m"] == pytest.approx([0.35, 0.0, 0.35], abs=0.005)


def test_check_ur_through_the_sdk_sends_no_motion(tmp_path, capsys, monkeypatch):
    arm = Arm()
    made = []
    control = types.ModuleType("rtde_control")
    receive = types.ModuleType("rtde_receive")
    control.RTDEControlInterface = lambda host: made.append(host) or FakeRTDEControl(arm)
    receive.RTDEReceiveInterface = lambda host: FakeRTDEReceive(arm)
    monkeypatch.setitem(sys.modules, "rtde_control", control)
    monkeypatch.setitem(sys.modules, "rtde_receive", receive)
    p = tmp_path / "ur.toml"
    p.write_text('driver = "ur"\naddress = "10.1.2.3"\n[workspace]\nmin = [0.4, -0.45, 0.0]\nmax = [0.8, 0.45, 0.55]\n'
                 '[home]\nposition = [0.45, 0.0, 0.35]\n')
    assert main(["robot", "check", "--config", str(p)]) == 1  # the arm rests outside the box: reported, not moved
    out = capsys.readouterr().out
    assert "outside the workspace on x" in out and "nothing was moved" in out and made == ["10.1.2.3"]
    assert not [c for c in arm.calls if c[1] in ("servoL", "moveL")]


def test_bad_file_one_error_line(tmp_path, capsys):
    p = tmp_path / "bad.toml"
    p.write_text('driver = "ur"\naddress = "x"\n[limits]\nmax_sped = 1.0\n')
    assert main(["robot", "check", "--config", str(p)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {p}: unknown key limits.max_sped; known: control_hz, max_speed, max_acceleration, max_yaw_rate, "
                   "max_force, max_grip_force, joint_lower, joint_upper, joint_margin, watchdog_s"]


def test_unreachable_sdk_missing_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "rtde_control", None)
    p = tmp_path / "ur.toml"
    p.write_text('driver = "ur"\naddress = "10.1.2.3"\n')
    assert main(["robot", "check", "--config", str(p)]) == 1
    assert capsys.readouterr().err.strip() == "error: the UR driver needs ur-rtde: pip install 'robocorrect[hardware]'"


def test_run_on_the_simulated_arm_behind_the_safety_layer(tmp_path, capsys, monkeypatch):
    import io

    p = tmp_path / "sim.toml"
    p.write_text('driver = "sim"\n[limits]\nmax_acceleration = 10.0\n')
    scene = tmp_path / "scene.json"
    scene.write_text('{"objects": [{"name": "red block", "kind": "block", "color": "red", "size": 0.04, "position": [0.46, -0.1, 0.02]},'
                     '{"name": "green bowl", "kind": "bowl", "color": "green", "size": 0.16, "position": [0.54, 0.12, 0.03], "mass": 0.3}]}')
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    rc = main(["robot", "run", "--config", str(p), "--task", "put the red block in the green bowl", "--scene", str(scene),
               "--log", str(tmp_path / "episodes")])
    assert rc == 0 and json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"status": "success", "success": True}


def test_run_on_a_ur_through_its_sdk_fake_behind_the_safety_layer(tmp_path, capsys, monkeypatch):
    """``robot run`` on a UR config: the real UR adapter over the ur-rtde fake (every call bound to the real
    signatures where ur-rtde is installed), the measured scene, the safety layer; the episode succeeds."""
    import io

    arm = Arm(check=True)
    modules = {}
    for name, attr, fake in (("rtde_control", "RTDEControlInterface", FakeRTDEControl),
                             ("rtde_receive", "RTDEReceiveInterface", FakeRTDEReceive), ("rtde_io", "RTDEIOInterface", FakeRTDEIO)):
        mod = types.ModuleType(name)
        setattr(mod, attr, lambda host, fake=fake: fake(arm))
        modules[name] = mod
        monkeypatch.setitem(sys.modules, name, mod)
    p = tmp_path / "ur.toml"
    p.write_text('driver = "ur"\naddress = "10.1.2.3"\n[limits]\nmax_speed = 0.4\nmax_acceleration = 4.0\n'
                 '[driver_options]\ngripper = "tool_digital"\n')
    scene = tmp_path / "scene.json"
    scene.write_text('{"objects": [{"name": "red block", "kind": "block", "color": "red", "size": 0.04, "position": [0.46, -0.1, 0.02]},'
                     '{"name": "green bowl", "kind": "bowl", "color": "green", "size": 0.16, "position": [0.54, 0.12, 0.03], "mass": 0.3}]}')
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    rc = main(["robot", "run", "--config", str(p), "--task", "put the red block in the green bowl", "--scene", str(scene),
               "--log", str(tmp_path / "episodes")])
    assert rc == 0 and json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"status": "success", "success": True}
    assert arm.names("servoL") and arm.names("setToolDigitalOut")
    if arm.real.get("control") is not None:
        assert arm.checked == len(arm.calls)  # every call bound to ur-rtde's real signatures

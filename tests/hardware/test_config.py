"""The robot config file: a full example parses into typed sections; each bad key gets one error naming it."""
from __future__ import annotations

import pytest

from hardware.config import RobotConfigError, load_robot_file, parse_robot_file
from hardware.errors import UsageError

FULL = '''
driver = "ur"
address = "192.168.1.10"
[tcp]
offset = [0.0, 0.0, 0.174, 0.0, 0.0, 0.0]
[frame]
base_xyz = [0.0, 0.0, -0.02]
base_yaw = 0.5
[workspace]
min = [0.2, -0.45, 0.0]
max = [0.8, 0.45, 0.55]
table_clearance = 0.005
[[keep_out]]
name = "camera mast"
min = [0.70, -0.50, 0.0]
max = [0.90, -0.30, 0.8]
[limits]
control_hz = 125
max_speed = 0.25
max_acceleration = 2.0
max_force = 40.0
joint_lower = [-6.28, -6.28]
joint_upper = [6.28, 6.28]
[home]
position = [0.35, 0.0, 0.35]
[camera]
source = 0
calibration = "cal.json"
[driver_options]
gripper = "tool_digital"
'''


def test_full_file_parses_into_typed_sections(tmp_path):
    p = tmp_path / "robot.toml"
    p.write_text(FULL)
    rf = load_robot_file(p)
    assert rf.driver == "ur" and rf.limits.control_hz == 125.0 and rf.camera.source == "0"
    assert rf.keep_out[0].name == "camera mast" and rf.keep_out[0].max == (0.9, -0.3, 0.8)
    lim = rf.safety_limits()
    assert lim.max_force == 40.0 and lim.box_min == (0.2, -0.45, 0.005) and lim.joint_upper == (6.28, 6.28)
    kw = rf.driver_settings()
    assert kw["host"] == "192.168.1.10" and kw["base_yaw"] == 0.5 and kw["tcp_offset"] == (0.0, 0.0, 0.174, 0.0, 0.0, 0.0)
    assert kw["gripper"] == "tool_digital"
    from hardware.factory import make_robot

    robot = make_robot(rf.driver, **kw)  # the driver's own config accepts every key; nothing connects
    assert not robot.is_connected and robot.config.control_hz == 125.0


@pytest.mark.parametrize("edit, message", [
    (("[limits]", "[limits]\nmax_sped = 1.0"), "unknown key limits.max_sped"),
    (('driver = "ur"', 'driver = "kuka"'), "driver must be one of xarm, ur, franka, sim"),
    (("base_yaw = 0.5", "base_yaw = \"left\""), "frame.base_yaw must be a finite number"),
    (("min = [0.2, -0.45, 0.0]", "min = [0.2, -0.45]"), "workspace.min must be a list of 3 numbers"),
    (("max_speed = 0.25", "max_speed = -1.0"), "limits.max_speed must be positive"),
    (('name = "camera mast"', 'name = "camera mast"\ncolour = "red"'), r"keep_out\[0\] needs exactly min, max"),
    (("position = [0.35, 0.0, 0.35]", "position = [1.5, 0.0, 0.35]"), "home.position must lie inside the workspace"),
    (('address = "192.168.1.10"', ""), "address is required for the ur driver"),
    (("[home]", "colour = 1\n[home]"), None),
])
def test_bad_key_named(tmp_path, edit, message):
    p = tmp_path / "robot.toml"
    p.write_text(FULL.replace(*edit, 1))
    if message is None:  # a top-level key after a table belongs to that table: limits.colour
        message = "unknown key limits.colour"
    with pytest.raises(RobotConfigError, match=message) as e:
        load_robot_file(p)
    assert str(p) in str(e.value) and isinstance(e.value, UsageError)


def test_missing_and_invalid_toml(tmp_path):
    with pytest.raises(RobotConfigError, match="no such robot config file"):
        load_robot_file(tmp_path / "nope.toml")
    p = tmp_path / "bad.toml"
    p.write_text("driver = ")
    with pytest.raises(RobotConfigError, match="not valid TOML"):
        load_robot_file(p)


def test_sim_driver_needs_no_address():
    rf = parse_robot_file({"driver": "sim"})
    assert rf.driver_settings()["control_hz"] == 60.0

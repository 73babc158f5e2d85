"""An adapter cannot call what the vendor SDK does not have: every SDK member that ``hardware/ur.py``,
``franka.py`` and ``xarm.py`` name in their source (found by walking the syntax tree, so paths no test takes are
covered too) exists on the REAL installed SDK class, and every fake in ``hardware/fakes/`` offers only members the
real class has, with its parameter names in order. Skipped per SDK where it is not installed."""
from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from hardware.fakes.signatures import assert_fake_matches, signatures

ROOT = Path(__file__).parents[2] / "hardware"


def _is_handle(node: ast.AST, handles: dict[str, str]) -> str | None:
    """The handle name when ``node`` is ``self.<handle>`` (or a bare local alias of it), else None."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self" and node.attr in handles:
        return node.attr
    if isinstance(node, ast.Name) and node.id in handles:
        return node.id
    return None


def sdk_members(path: Path, handles: dict[str, str], call_helper: str | None = None) -> dict[str, set[str]]:
    """owner -> SDK member names the module uses, from ``self.<handle>.<name>``, ``getattr/hasattr(self.<handle>,
    "<name>")``, ``(self.<handle>, "<name>", ...)`` tuples, ``self.<call_helper>("<name>", ...)`` and loops over
    ``(("<name>", args), ...)`` that call ``getattr(self.<handle>, name)``."""
    tree = ast.parse(path.read_text())
    out: dict[str, set[str]] = {owner: set() for owner in handles.values()}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            h = _is_handle(node.value, handles)
            if h:
                out[handles[h]].add(node.attr)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr"):
            h = _is_handle(node.args[0], handles)
            if h and isinstance(node.args[1], ast.Constant):
                out[handles[h]].add(node.args[1].value)
        elif isinstance(node, ast.Tuple) and len(node.elts) >= 2:
            h = _is_handle(node.elts[0], handles)
            if h and isinstance(node.elts[1], ast.Constant) and isinstance(node.elts[1].value, str):
                out[handles[h]].add(node.elts[1].value)
        elif (call_helper and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == call_helper and node.args and isinstance(node.args[0], ast.Constant)):
            out[next(iter(handles.values()))].add(node.args[0].value)
        elif isinstance(node, ast.For) and isinstance(node.iter, ast.Tuple):
            calls = [n for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                     and n.func.id == "getattr" and _is_handle(n.args[0], handles)]
            for call in calls:
                owner = handles[_is_handle(call.args[0], handles)]  # type: ignore[index]
                for elt in node.iter.elts:
                    if isinstance(elt, ast.Tuple) and isinstance(elt.elts[0], ast.Constant):
                        out[owner].add(elt.elts[0].value)
    return out


def test_the_ur_adapter_names_only_what_ur_rtde_has():
    real = {"control": pytest.importorskip("rtde_control").RTDEControlInterface,
            "receive": pytest.importorskip("rtde_receive").RTDEReceiveInterface,
            "io": pytest.importorskip("rtde_io").RTDEIOInterface}
    used = sdk_members(ROOT / "ur.py", {"control": "control", "receive": "receive", "io": "io"})
    assert {"servoL", "moveL", "servoStop", "getActualTCPPose", "isProtectiveStopped"} <= used["control"] | used["receive"]
    for owner, names in used.items():
        for name in names:
            assert hasattr(real[owner], name), f"hardware/ur.py uses {owner}.{name}, which ur-rtde's {real[owner].__name__} lacks"


def test_the_franka_adapter_names_only_what_franky_has():
    franky = pytest.importorskip("franky")
    used = sdk_members(ROOT / "franka.py", {"robot": "Robot", "gripper": "Gripper", "fr": "module"})
    assert {"move", "stop", "current_cartesian_state"} <= used["Robot"] and {"grasp_async", "width"} <= used["Gripper"]
    for name in used["Robot"]:
        assert hasattr(franky.Robot, name), f"hardware/franka.py uses Robot.{name}, which franky.Robot lacks"
    for name in used["Gripper"]:
        assert hasattr(franky.Gripper, name), f"hardware/franka.py uses Gripper.{name}, which franky.Gripper lacks"
    for name in used["module"]:
        assert hasattr(franky, name), f"hardware/franka.py uses franky.{name}, which franky lacks"
    assert hasattr(franky.ReferenceType, "Absolute")


def test_the_xarm_adapter_names_only_what_xarm_api_has():
    XArmAPI = pytest.importorskip("xarm.wrapper").XArmAPI
    used = sdk_members(ROOT / "xarm.py", {"api": "XArmAPI"}, call_helper="_call")["XArmAPI"]
    assert {"set_servo_cartesian", "set_position", "get_position", "set_gripper_position", "disconnect"} <= used
    for name in used:
        assert hasattr(XArmAPI, name), f"hardware/xarm.py uses XArmAPI.{name}, which xarm-python-sdk lacks"


def test_every_fake_offers_only_what_the_real_sdk_has():
    from hardware.fakes import franka, ur, xarm

    for owner, fake in ur.FAKES.items():
        mod, cls = ur.REAL[owner].split(".")
        assert_fake_matches(fake, getattr(pytest.importorskip(mod), cls))
    franky = pytest.importorskip("franky")
    module = franka.FakeFranky().module
    for name in franka.OWNERS:
        assert_fake_matches(getattr(module, name), getattr(franky, name))
        for member, value in vars(getattr(module, name)).items():
            if isinstance(value, property):
                assert hasattr(getattr(franky, name), member), f"franky.{name} has no {member}"
    assert_fake_matches(xarm.FakeXArmAPI, pytest.importorskip("xarm.wrapper").XArmAPI)


def test_the_checker_catches_a_call_the_sdk_does_not_take():
    from hardware.fakes import SdkCallError
    from hardware.fakes.ur import Arm, FakeRTDEControl

    pytest.importorskip("rtde_control")
    arm = Arm(check=True)
    control = FakeRTDEControl(arm)
    assert control.servoStop(2.0) is True and arm.checked == 1
    with pytest.raises(SdkCallError, match="servoL"):
        arm.rec("control", "servoL", [0.0] * 6, 0.0)  # five arguments short
    with pytest.raises(SdkCallError, match="has no .*servoJointPose"):
        arm.rec("control", "servoJointPose", [0.0] * 6)
    assert signatures(type(control), "servoStop")[0].parameters["a"].default == 10.0
    assert "self" in inspect.signature(FakeRTDEControl.servoL).parameters


def test_what_the_franka_adapter_reads_from_franky_states_exists():
    """The chains ``current_cartesian_state.pose.end_effector_pose.translation / .quaternion``,
    ``current_joint_state.position`` and ``state.O_F_ext_hat_K`` that hardware/franka.py reads."""
    franky = pytest.importorskip("franky")
    for cls, attrs in (("CartesianState", ("pose",)), ("RobotPose", ("end_effector_pose",)),
                       ("Affine", ("translation", "quaternion")), ("JointState", ("position",)),
                       ("RobotState", ("O_F_ext_hat_K",))):
        for a in attrs:
            assert hasattr(getattr(franky, cls), a), f"franky.{cls} has no {a}"

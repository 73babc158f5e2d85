"""skills.schema: bounds, unknown arguments and objects, named spots, plan validation, diff_plans text."""
from __future__ import annotations

import copy
import math

import pytest

from hardware.scene import Scene, SceneObject
from skills.schema import NAMED_SPOTS, SKILLS, SkillArgError, clone_plan, diff_plans, validate_call, validate_plan

SCENE = {
    "objects": [
        {"name": "red block", "kind": "block", "color": "red", "size": 0.04, "position": [0.5, 0.1, 0.02]},
        {"name": "green bowl", "kind": "bowl", "color": "green", "size": 0.16, "position": [0.55, -0.1, 0.03]},
    ]
}


def _pick(**args):
    return {"skill": "pick", "args": {"object": "red block", **args}}


# --- bounds -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "skill, arg, lo, hi, unit",
    [
        ("pick", "yaw", -math.pi, math.pi, "rad"),
        ("pick", "speed", 0.1, 3.0, "x"),
        ("pick", "force", 2.0, 100.0, "N"),
        ("pick", "height", 0.02, 0.3, "m"),
        ("push", "distance", 0.0, 0.3, "m"),
        ("open_gripper", "width", 0.0, 0.08, "m"),
        ("close_gripper", "force", 2.0, 100.0, "N"),
        ("home", "speed", 0.1, 3.0, "x"),
    ],
)
def test_scalar_bounds_inclusive_and_enforced(skill, arg, lo, hi, unit):
    base = {"object": "red block"} if skill in ("pick", "push") else {}
    for v in (lo, hi, (lo + hi) / 2):
        assert validate_call({"skill": skill, "args": {**base, arg: v}}, SCENE)["args"][arg] == pytest.approx(v)
    span = hi - lo
    for v in (lo - 0.01 * span, hi + 0.01 * span):
        with pytest.raises(SkillArgError, match=f"{skill}.{arg} = .* {unit} is outside the safe range \\[{lo:g}, {hi:g}\\]"):
            validate_call({"skill": skill, "args": {**base, arg: v}}, SCENE)


def test_offset_bounds_per_component():
    assert validate_call(_pick(offset=[0.15, -0.15, 0]), SCENE)["args"]["offset"] == [0.15, -0.15, 0.0]
    with pytest.raises(SkillArgError, match=r"pick.offset\[2\] = -0.2 m is outside the safe range \[-0.15, 0.15\] m"):
        validate_call(_pick(offset=[0, 0, -0.2]), SCENE)
    with pytest.raises(SkillArgError, match=r"push.direction\[0\] = 2 .*\[-1, 1\]"):
        validate_call({"skill": "push", "args": {"object": "red block", "direction": [2, 0, 0]}}, SCENE)


@pytest.mark.parametrize(
    "args, msg",
    [
        ({"offset": [0, 0.01]}, r"pick.offset must be \[x, y, z\] in m"),
        ({"offset": "left"}, r"pick.offset must be \[x, y, z\]"),
        ({"speed": "fast"}, r"pick.speed must be a number \(x\), got 'fast'"),
        ({"speed": True}, r"pick.speed must be a number"),
        ({"force": float("nan")}, r"pick.force must be a number \(N\)"),
        ({"yaw": float("inf")}, r"pick.yaw must be a number \(rad\)"),
        ({"offset": [0, None, 0]}, r"pick.offset\[1\] must be a number"),
    ],
)
def test_wrong_types_rejected(args, msg):
    with pytest.raises(SkillArgError, match=msg):
        validate_call(_pick(**args), SCENE)


# --- unknown skills, arguments, objects -------------------------------------------------------
def test_unknown_skill_and_argument_messages():
    with pytest.raises(SkillArgError, match="unknown skill 'fly'; skills: pick, place, push, move_to, open_gripper, close_gripper, home"):
        validate_call({"skill": "fly", "args": {}})
    with pytest.raises(SkillArgError, match="pick does not take 'grip', 'x'; it takes: force, height, object, offset, speed, yaw"):
        validate_call(_pick(grip=1, x=2), SCENE)
    with pytest.raises(SkillArgError, match="a skill call is"):
        validate_call({"args": {}})
    with pytest.raises(SkillArgError, match="pick: args must be a mapping, got list"):
        validate_call({"skill": "pick", "args": [1]})
    with pytest.raises(SkillArgError, match="pick needs 'object'"):
        validate_call({"skill": "pick", "args": {}})
    with pytest.raises(SkillArgError, match="pick.object must be an object name, got 3"):
        validate_call({"skill": "pick", "args": {"object": 3}})
    with pytest.raises(SkillArgError, match="has no argument 'grip'; it takes: object, offset"):
        SKILLS["pick"].param("grip")


def test_unknown_object_error_lists_what_is_there():
    with pytest.raises(SkillArgError) as e:
        validate_call({"skill": "pick", "args": {"object": "purple block"}}, SCENE)
    assert str(e.value) == "there is no purple block; I see: red block, green bowl"
    with pytest.raises(SkillArgError) as e:
        validate_call({"skill": "place", "args": {"target": "purple bowl"}}, SCENE)
    assert str(e.value) == f"there is no purple bowl; I see: red block, green bowl; named spots: {', '.join(NAMED_SPOTS)}"


def test_scene_forms_and_no_scene():
    scene = Scene([SceneObject("red block", "block", "red", 0.04, (0.5, 0.1, 0.02))])
    assert validate_call(_pick(), scene)["args"]["object"] == "red block"
    assert validate_call(_pick(), ["red block"])["args"]["object"] == "red block"
    with pytest.raises(SkillArgError, match="there is no blue block; I see: red block"):
        validate_call({"skill": "pick", "args": {"object": "blue block"}}, scene)
    # without a scene, names are not checked (only shape and bounds)
    assert validate_call({"skill": "pick", "args": {"object": "anything"}})["args"]["object"] == "anything"


# --- named spots --------------------------------------------------------------------------------
@pytest.mark.parametrize("spot", list(NAMED_SPOTS))
def test_named_spots_are_targets_not_objects(spot):
    assert validate_call({"skill": "place", "args": {"target": spot}}, SCENE)["args"]["target"] == spot
    assert validate_call({"skill": "move_to", "args": {"target": spot}}, SCENE)["args"]["target"] == spot
    with pytest.raises(SkillArgError, match=f"there is no {spot}; I see"):
        validate_call({"skill": "pick", "args": {"object": spot}}, SCENE)


# --- defaults, normalisation, plans ------------------------------------------------------------
def test_defaults_filled_normalised_and_input_untouched():
    call = {"skill": "pick", "args": {"object": "red block", "offset": (0, 0.01, 0), "force": 30}}
    before = copy.deepcopy(call)
    out = validate_call(call, SCENE)
    assert call == before
    assert out == {"skill": "pick", "args": {"offset": [0.0, 0.01, 0.0], "yaw": 0.0, "speed": 1.0, "force": 30.0, "height": 0.1, "object": "red block"}}
    assert isinstance(out["args"]["force"], float)
    assert validate_call(call, SCENE, fill_defaults=False)["args"] == {"object": "red block", "offset": [0.0, 0.01, 0.0], "force": 30.0}
    assert validate_call({"skill": "home"})["args"] == {"speed": 1.0}
    out["args"]["offset"][0] = 1.0
    assert validate_call(call, SCENE)["args"]["offset"][0] == 0.0  # defaults are fresh lists every time


def test_validate_plan_names_the_failing_step():
    plan = [_pick(), {"skill": "place", "args": {"target": "green bowl", "height": 0.5}}]
    with pytest.raises(SkillArgError, match=r"^step 1: place.height = 0.5 m is outside the safe range \[0.02, 0.3\] m$"):
        validate_plan(plan, SCENE)
    with pytest.raises(SkillArgError, match="a plan is a list of skill calls, got dict"):
        validate_plan({"skill": "pick"}, SCENE)
    assert validate_plan([], SCENE) == []
    assert [c["skill"] for c in validate_plan([_pick(), {"skill": "place", "args": {"target": "center"}}], SCENE)] == ["pick", "place"]


# --- diff_plans ---------------------------------------------------------------------------------
def test_diff_plans_text():
    before = validate_plan([_pick(), {"skill": "place", "args": {"target": "green bowl"}}], SCENE)
    after = clone_plan(before)
    assert after == before and after is not before and after[1]["args"] is not before[1]["args"]
    assert diff_plans(before, after) == []
    after[1]["args"]["offset"] = [0.0, 0.015, -0.01]
    after[0]["args"]["speed"] = 0.6
    after[0]["args"]["yaw"] = math.radians(15)
    after[0]["args"]["force"] = 35.0
    assert diff_plans(before, after) == [
        "step 0 pick: force 20 → 35",
        "step 0 pick: speed 1 → 0.6",
        "step 0 pick: yaw +15°",
        "step 1 place: offset y +1.5 cm",
        "step 1 place: offset z -1.0 cm",
    ]
    retarget = clone_plan(before)
    retarget[1]["args"]["target"] = "center"
    assert diff_plans(before, retarget) == ["step 1 place: target green bowl → center"]
    inserted = [before[0], {"skill": "move_to", "args": {"target": "back"}}, before[1]]
    assert diff_plans(before, inserted) == ["plan: [pick(red block), place(green bowl)] → [pick(red block), move_to(back), place(green bowl)]"]
    assert diff_plans(before, before[:1]) == ["plan: [pick(red block), place(green bowl)] → [pick(red block)]"]
    home = [{"skill": "home", "args": {}}]
    assert diff_plans(home, [{"skill": "home", "args": {"speed": 2.0}}]) == ["step 0 home: speed default → 2"]

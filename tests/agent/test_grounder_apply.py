"""Intent -> effect -> plan, without the model: magnitudes, numbers, history, bounds, plan edits."""
import math

import pytest

from agent.grounder.apply import Effect, Intent, apply_effect, apply_plan_op, effect_of, pair_indices, resolve
from agent.grounder.labels import OFFSET_M
from grounder_helpers import call, pick_place
from skills.schema import validate_plan


def test_vague_magnitudes_follow_the_contract():
    for mag, (lo, hi) in {"s": (0.005, 0.02), "m": (0.01, 0.06), "l": (0.04, 0.2)}.items():
        e = effect_of(Intent("skill", signed={"y": "+" + mag}))
        assert lo <= e.offset[1] <= hi and e.offset[0] == e.offset[2] == 0


def test_number_is_taken_as_said():
    e = effect_of(Intent("skill", signed={"y": "+n"}, lengths=[0.03]))
    assert e.offset[1] == pytest.approx(0.03)
    # one number and one direction: the number wins even if the head said "medium"
    e = effect_of(Intent("skill", signed={"z": "-m"}, lengths=[0.005]))
    assert e.offset[2] == pytest.approx(-0.005)
    e = effect_of(Intent("skill", signed={"yaw": "-n"}, angles=[math.radians(45)]))
    assert e.yaw == pytest.approx(-math.radians(45))


def test_history_repeat_and_reverse():
    left = Effect(offset=[0.0, 0.03, 0.0])
    assert resolve(Intent("skill", hist="repeat"), [left]).offset == [0.0, 0.03, 0.0]
    small = resolve(Intent("skill", hist="repeat", hmag="small"), [left])
    assert small.offset[1] == pytest.approx(OFFSET_M["s"])
    back = resolve(Intent("skill", hist="reverse"), [left])
    assert -0.025 <= back.offset[1] <= -0.003
    slower = Effect(ratios={"speed": 0.6})
    assert resolve(Intent("skill", hist="reverse"), [slower]).ratios["speed"] > 1
    assert resolve(Intent("skill", hist="repeat"), []) is None
    assert resolve(Intent("skill", hist="repeat"), [left, None]).offset[1] == pytest.approx(0.03)


def test_apply_effect_targets_the_step_and_force_goes_to_the_pick():
    plan = pick_place()
    new = apply_effect(plan, 1, Effect(offset=[0.0, 0.02, 0.0], ratios={"force": 1.5}))
    assert new[1]["args"]["offset"] == [0.0, 0.02, 0.0]
    assert new[0]["args"]["force"] == pytest.approx(30.0)
    assert plan[1]["args"]["offset"] == [0.0, 0.0, 0.0]  # not mutated
    validate_plan(new)


def test_apply_effect_clips_to_safe_bounds():
    plan = pick_place()
    new = apply_effect(plan, 0, Effect(offset=[0.5, 0.0, 0.0], ratios={"speed": 10.0}))
    assert new[0]["args"]["offset"][0] == pytest.approx(0.15)
    assert new[0]["args"]["speed"] == pytest.approx(3.0)
    validate_plan(new)


def test_plan_ops():
    plan = pick_place() + [call("pick", object="blue block"), call("place", target="yellow bowl")]
    assert pair_indices(plan, 3) == (2, 3)
    assert pair_indices(plan, 1) == (0, 1)
    p = apply_plan_op(plan, 3, Intent("plan", plan_op="retarget_object", obj="red block"))
    assert p[2]["args"]["object"] == "red block" and p[0]["args"]["object"] == "red block"
    p = apply_plan_op(plan[:2], 0, Intent("plan", plan_op="retarget_target", tgt="yellow bowl"))
    assert p[1]["args"]["target"] == "yellow bowl"
    p = apply_plan_op(plan[:2], 1, Intent("plan", plan_op="append", obj="blue block"))
    assert [s["skill"] for s in p] == ["pick", "place", "pick", "place"]
    assert p[3]["args"]["target"] == "green bowl"

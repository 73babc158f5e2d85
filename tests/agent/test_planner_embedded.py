"""Task -> plan with the shipped checkpoint: the learned plan head, schema-valid plans, clear refusals."""
import pytest

from agent.policy import PolicyError
from grounder_helpers import obj, scene_rgby, shipped_policy
from skills.schema import validate_plan


def _targets(plan):
    return [(s["skill"], s["args"].get("object") or s["args"].get("target")) for s in plan]


def test_pick_and_place_paraphrases():
    pol = shipped_policy()
    sc = scene_rgby()
    for task in ("put the red block in the green bowl", "could you drop the blue cube into the yellow bowl",
                 "place the blue block inside the yellow one"):
        plan = pol.plan(sc, task)
        validate_plan(plan, sc)
        want = [("pick", "red block"), ("place", "green bowl")] if "red" in task else [("pick", "blue block"), ("place", "yellow bowl")]
        assert _targets(plan) == want, task
        assert plan[0]["args"] == {"object": plan[0]["args"]["object"], "offset": [0.0, 0.0, 0.0], "yaw": 0.0, "speed": 1.0, "force": 20.0, "height": 0.1}


def test_stack_by_size():
    pol = shipped_policy()
    sc = {"objects": [obj("small red block", "block", "red", 0.03, 0.45, 0.1), obj("large blue block", "block", "blue", 0.05, 0.6, -0.1),
                      obj("green bowl", "bowl", "green", 0.16, 0.5, 0.2)]}
    plan = pol.plan(sc, "put the small block on top of the large one")
    assert _targets(plan) == [("pick", "small red block"), ("place", "large blue block")]


def test_all_blocks_and_sets():
    pol = shipped_policy()
    sc = {"objects": [obj("red block", "block", "red", 0.04, 0.45, 0.1), obj("large red block", "block", "red", 0.05, 0.6, -0.1),
                      obj("blue block", "block", "blue", 0.04, 0.4, -0.2), obj("gray tray", "tray", "gray", 0.24, 0.55, 0.15)]}
    plan = pol.plan(sc, "put all the blocks in the tray")
    assert sorted(o for s, o in _targets(plan) if s == "pick") == ["blue block", "large red block", "red block"]
    assert {o for s, o in _targets(plan) if s == "place"} == {"gray tray"}
    plan = pol.plan(sc, "put all red blocks in the tray")
    assert sorted(o for s, o in _targets(plan) if s == "pick") == ["large red block", "red block"]


def test_sort_and_pick_only():
    pol = shipped_policy()
    sc = {"objects": [obj("red block", "block", "red", 0.04, 0.45, 0.1), obj("blue block", "block", "blue", 0.04, 0.6, -0.1),
                      obj("blue bowl", "bowl", "blue", 0.16, 0.4, -0.2), obj("red bowl", "bowl", "red", 0.16, 0.55, 0.2)]}
    plan = pol.plan(sc, "sort the blocks by colour")
    assert sorted(_targets(plan)[i] for i in range(0, len(plan), 2)) == [("pick", "blue block"), ("pick", "red block")]
    assert dict(zip([p[1] for p in _targets(plan)[0::2]], [p[1] for p in _targets(plan)[1::2]])) == {"red block": "red bowl", "blue block": "blue bowl"}
    assert _targets(pol.plan(sc, "pick up the red block")) == [("pick", "red block")]


def test_unknown_object_is_refused_clearly():
    with pytest.raises(PolicyError, match="there is no purple block; I see: red block"):
        shipped_policy().plan(scene_rgby(), "put the purple block in the green bowl")

"""Distillation: net effects, scope choice, success-only teaching, quirks never read."""
from __future__ import annotations

import copy

import pytest
from memtest_helpers import corr, episode, obj, pick, place, scene

from memory.distill import align_steps, distill_episode, is_negative_feedback, net_changes

BOWL = obj("green bowl", "bowl", "green", 0.16, (0.6, -0.1, 0.03))


def test_left_left_right_is_one_small_left():
    scn = scene(obj("red block", "block", "red", 0.04), BOWL)
    base = [pick("red block"), place("green bowl")]
    # path: left 2 cm, left 2 cm, right 3 cm -> net +1 cm in y
    p1 = [pick("red block"), place("green bowl", offset=[0.0, 0.02, 0.0])]
    p2 = [pick("red block"), place("green bowl", offset=[0.0, 0.04, 0.0])]
    p3 = [pick("red block"), place("green bowl", offset=[0.0, 0.01, 0.0])]
    cs = [corr("move left", 1, base, p1), corr("more to the left", 1, p1, p2), corr("too far, go right", 1, p2, p3)]
    entries = distill_episode(episode("put the red block in the green bowl", scn, base, p3, corrections=cs))
    assert len(entries) == 1
    e = entries[0]
    assert e.effect == {"skill": "place", "changes": [{"arg": "offset", "op": "add", "value": [0.0, 0.01, 0.0]}]}
    assert e.conditions == {"skill": "place", "target_kind": "bowl", "target_color": "green"}
    assert e.scope == "preference" and "left" in e.text and e.sources


def test_corrections_that_cancel_teach_nothing():
    scn = scene(obj("red block", "block", "red", 0.04), BOWL)
    base = [pick("red block"), place("green bowl")]
    assert distill_episode(episode("t", scn, base, copy.deepcopy(base), corrections=[corr("left", 1), corr("right", 1)])) == []


@pytest.mark.parametrize("success", [False, None])
def test_only_successful_episodes_teach(success):
    scn = scene(obj("small red block", "block", "red", 0.03), BOWL)
    base = [pick("small red block"), place("green bowl")]
    final = [pick("small red block", offset=[0, 0, -0.015]), place("green bowl")]
    assert distill_episode(episode("t", scn, base, final, success=success)) == []


def test_scope_size_for_geometry_on_small_block_colour_for_dynamics():
    scn = scene(obj("small blue block", "block", "blue", 0.03), obj("red block", "block", "red", 0.04, (0.4, 0.2, 0.02)), BOWL)
    base = [pick("small blue block"), place("green bowl"), pick("red block"), place("green bowl")]
    final = [pick("small blue block", offset=[0, 0, -0.015]), place("green bowl"),
             pick("red block", force=30.0, speed=0.6), place("green bowl", speed=0.6)]
    es = {e.text: e for e in distill_episode(episode("t", scn, base, final))}
    by_basis = {e.basis: e for e in es.values()}
    assert by_basis["size"].conditions == {"skill": "pick", "object_kind": "block", "object_size": "small"}
    assert by_basis["size"].text.startswith("small blocks: pick with offset z -1.5 cm")
    slip = by_basis["color"]
    assert slip.conditions == {"skill": "pick", "object_kind": "block", "object_color": "red"}
    assert {c["arg"]: c["value"] for c in slip.effect["changes"]} == {"force": 1.5, "speed": 0.6}
    held = by_basis["held"]  # place speed belongs to what is carried, not to the bowl
    assert held.conditions == {"skill": "place", "held_kind": "block", "held_color": "red"}


def test_colour_twin_adds_size_condition():
    scn = scene(obj("red block", "block", "red", 0.04), obj("large red block", "block", "red", 0.05, (0.4, 0.2, 0.025)), BOWL)
    base = [pick("red block"), place("green bowl")]
    final = [pick("red block", force=30.0), place("green bowl")]
    (e,) = distill_episode(episode("t", scn, base, final))
    assert e.conditions == {"skill": "pick", "object_kind": "block", "object_color": "red", "object_size": "medium"}


def test_distillation_never_reads_quirks():
    scn = scene(obj("small red block", "block", "red", 0.03), BOWL,
                quirks=[{"kind": "small_grasp", "object": "small red block", "params": {"max_dz": -0.01}, "hidden": True}])
    base = [pick("small red block"), place("green bowl")]
    final = [pick("small red block", offset=[0, 0, -0.015]), place("green bowl")]
    a = [e.to_dict() for e in distill_episode(episode("t", scn, base, final, id="x"))]
    scn2 = copy.deepcopy(scn)
    scn2["quirks"] = [{"kind": "slippery", "object": "green bowl", "params": {"min_force": 99}, "hidden": True}]
    b = [e.to_dict() for e in distill_episode(episode("t", scn2, base, final, id="x"))]
    del scn2["quirks"]
    c = [e.to_dict() for e in distill_episode(episode("t", scn2, base, final, id="x"))]
    assert a == b == c and len(a) == 1


def test_alignment_survives_an_inserted_step():
    base = [pick("red block"), place("green bowl")]
    final = [pick("red block"), place("green bowl"), pick("blue block"), place("green bowl", offset=[0.0, 0.01, 0.0])]
    assert align_steps(base, final)[0] == (0, 0)
    assert len(align_steps(base, final)) == 2


def test_net_changes_tolerances_and_ops():
    b = pick("x")["args"]
    a = dict(b, offset=[0.001, 0.0, -0.02], yaw=0.01, force=20.2, speed=0.5, height=0.15)
    ch = {c["arg"]: c for c in net_changes("pick", b, a)}
    assert set(ch) == {"offset", "speed", "height"}
    assert ch["offset"]["value"] == [0.0, 0.0, -0.02] and ch["speed"] == {"arg": "speed", "op": "scale", "value": 0.5}
    assert ch["height"]["op"] == "add" and abs(ch["height"]["value"] - 0.05) < 1e-9


def test_negative_feedback_words():
    assert is_negative_feedback("don't do that again")
    assert is_negative_feedback("Never do this again please")
    assert is_negative_feedback("forget that")
    assert not is_negative_feedback("a bit more to the left")

"""memory.knowledge.apply_knowledge: distilled knowledge applied to new scenes, within its scope only."""
from __future__ import annotations

from memtest_helpers import obj, pick, place, scene, taught

from memory.knowledge import apply_knowledge, apply_knowledge_detailed, matching_steps
from memory.distill import distill_episode

BOWL = obj("green bowl", "bowl", "green", 0.16, (0.6, -0.1, 0.03))
SAYS = {"pick": "lower", "place": "a bit left"}


def _learned(scn, base, final, says=None):
    says = says or {i: SAYS[c["skill"]] for i, (b, c) in enumerate(zip(base, final)) if b != c}
    es = distill_episode(taught("put it in the bowl", scn, base, final, says))
    return [dict(e.to_dict(), id=i + 1) for i, e in enumerate(es)]


def test_knowledge_fixes_a_fresh_plan_in_a_new_scene_with_the_same_kind_of_object():
    # Episode 1: a small blue block needed a lower grasp; the user corrected it ("lower").
    s1 = scene(obj("small blue block", "block", "blue", 0.03), BOWL,
               quirks=[{"kind": "small_grasp", "object": "small blue block", "params": {"max_dz": -0.01}, "hidden": True}])
    kn = _learned(s1, [pick("small blue block"), place("green bowl")],
                  [pick("small blue block", offset=[0.0, 0.0, -0.015]), place("green bowl")])
    # Episode 2: another small blue block, another bowl and place, a fresh policy plan.
    s2 = scene(obj("small blue block", "block", "blue", 0.03, (0.4, 0.2, 0.015)), obj("red bowl", "bowl", "red", 0.16, (0.6, 0.1, 0.03)))
    plan = [pick("small blue block"), place("red bowl")]
    new, notes = apply_knowledge(plan, s2, kn)
    assert new[0]["args"]["offset"] == [0.0, 0.0, -0.015]
    assert new[1] == plan[1] and plan[0]["args"]["offset"] == [0.0, 0.0, 0.0]  # input not mutated
    assert len(notes) == 1 and notes[0].startswith("applied #1 'small blue blocks: pick with offset z -1.5 cm")
    assert "scope: small blue blocks" in notes[0]
    # taught once, on a small blue block: a small yellow block is not covered (no evidence colour is irrelevant)
    s3 = scene(obj("small yellow block", "block", "yellow", 0.03), BOWL)
    assert apply_knowledge([pick("small yellow block")], s3, kn)[1] == []


def test_offset_axes_compose_and_hypotheses_never_apply():
    s = scene(obj("red block", "block", "red", 0.04), BOWL)
    x = {"id": 1, "text": "x", "confidence": 0.7, "effect": {"skill": "place", "changes": [
        {"arg": "offset", "op": "add", "value": [0.02, 0, 0]}]}, "conditions": {"skill": "place", "target_color": "green"}}
    y = dict(x, id=2, effect={"skill": "place", "changes": [{"arg": "offset", "op": "add", "value": [0, 0.03, 0]}]})
    y2 = dict(y, id=3, conditions={"skill": "place"}, effect={"skill": "place", "changes": [{"arg": "offset", "op": "add", "value": [0, -0.01, 0]}]})
    h = dict(x, id=4, status="hypothesis", confidence=0.9, effect={"skill": "place", "changes": [{"arg": "offset", "op": "add", "value": [0, 0, 0.05]}]})
    res = apply_knowledge_detailed([pick("red block"), place("green bowl")], s, [x, y, y2, h])
    assert res.plan[1]["args"]["offset"] == [0.02, 0.03, 0.0] and res.applied == {1: [1, 2]}
    assert [f["id"] for f in res.fired] == [1, 2] and res.fired[0]["why"].startswith("no recorded evidence")


def test_scoped_entry_does_not_fire_outside_its_scope():
    s1 = scene(obj("small blue block", "block", "blue", 0.03), BOWL)
    kn = _learned(s1, [pick("small blue block"), place("green bowl")],
                  [pick("small blue block", offset=[0.0, 0.0, -0.015]), place("green bowl")])
    s2 = scene(obj("large blue block", "block", "blue", 0.05), obj("blue block", "block", "blue", 0.04, (0.4, 0.2, 0.02)), BOWL)
    plan = [pick("large blue block"), place("green bowl"), pick("blue block"), place("green bowl")]
    new, notes = apply_knowledge(plan, s2, kn)
    assert new == plan and notes == []
    assert matching_steps(kn[0], plan, s2) == []


def test_slippery_colour_knowledge_applies_to_that_colour_only_and_is_clamped():
    s1 = scene(obj("blue block", "block", "blue", 0.04), BOWL)
    kn = _learned(s1, [pick("blue block"), place("green bowl")], [pick("blue block", force=30.0, speed=0.6), place("green bowl")],
                  says={0: "grip it harder and go slower"})
    s2 = scene(obj("blue block", "block", "blue", 0.04), obj("red block", "block", "red", 0.04, (0.4, 0.2, 0.02)), BOWL)
    plan = [pick("red block"), place("green bowl"), pick("blue block", force=90.0), place("green bowl")]
    new, notes = apply_knowledge(plan, s2, kn)
    assert new[0] == plan[0]
    assert new[2]["args"]["force"] == 100.0  # 90 x 1.5 clamped to the schema's 100 N
    assert abs(new[2]["args"]["speed"] - 0.6) < 1e-9 and len(notes) == 2  # two lessons: force, speed


def test_one_entry_per_argument_most_specific_wins_and_confidence_threshold():
    s = scene(obj("small blue block", "block", "blue", 0.03), BOWL)
    general = {"id": 1, "text": "small blocks lower", "confidence": 0.9, "effect": {"skill": "pick", "changes": [
        {"arg": "offset", "op": "add", "value": [0, 0, -0.01]}]}, "conditions": {"skill": "pick", "object_kind": "block", "object_size": "small"}}
    specific = {"id": 2, "text": "small blue block lower", "confidence": 0.5, "effect": {"skill": "pick", "changes": [
        {"arg": "offset", "op": "add", "value": [0, 0, -0.02]}]}, "conditions": {"skill": "pick", "object_kind": "block", "object_size": "small", "object_color": "blue"}}
    weak = {"id": 3, "text": "weak", "confidence": 0.1, "effect": {"skill": "pick", "changes": [
        {"arg": "force", "op": "scale", "value": 2.0}]}, "conditions": {"skill": "pick"}}
    new, notes = apply_knowledge([pick("small blue block")], s, [general, specific, weak])
    assert new[0]["args"]["offset"] == [0.0, 0.0, -0.02] and new[0]["args"]["force"] == 20.0
    assert len(notes) == 1 and "#2" in notes[0]
    assert apply_knowledge_detailed([pick("small blue block")], s, [general, specific, weak])[2] == {0: [2]}
    # unknown condition keys never match (inert, not wrong)
    odd = dict(general, id=4, conditions={"skill": "pick", "object_weight": "heavy"})
    assert apply_knowledge([pick("small blue block")], s, [odd])[1] == []


def test_place_preference_on_target_and_named_spot():
    s = scene(obj("red block", "block", "red", 0.04), BOWL)
    kn = _learned(s, [pick("red block"), place("green bowl"), pick("red block"), place("left side")],
                  [pick("red block"), place("green bowl", offset=[0.0, 0.02, 0.0]), pick("red block"), place("left side", offset=[-0.03, 0, 0])],
                  says={1: "a bit left", 3: "closer to me"})
    assert {e["basis"] for e in kn} == {"color", "name"}
    new, _ = apply_knowledge([pick("red block"), place("left side"), pick("red block"), place("green bowl")], s, kn)
    assert new[1]["args"]["offset"] == [-0.03, 0.0, 0.0] and new[3]["args"]["offset"] == [0.0, 0.02, 0.0]


def test_works_with_real_scene_objects_and_random_scenes():
    from hardware.scene import Quirk, Scene, SceneObject
    from sim.scene import random_scene

    s1 = Scene([SceneObject("small green block", "block", "green", 0.03, (0.5, 0.0, 0.015)),
                SceneObject("red bowl", "bowl", "red", 0.16, (0.6, 0.15, 0.03))],
               quirks=[Quirk("small_grasp", "small green block", {"max_dz": -0.012})])
    es = distill_episode(taught("put the small green block in the red bowl", s1.to_dict(),
                                [pick("small green block"), place("red bowl")],
                                [pick("small green block", offset=[0, 0, -0.015]), place("red bowl")], {0: "lower"}))
    kn = [dict(e.to_dict(), id=1) for e in es]
    for seed in range(4):
        s2 = random_scene(seed, n_blocks=3, n_bowls=1, sizes=("small", "large"))
        blocks = [o for o in s2.objects if o.kind == "block"]
        plan = [pick(b.name) for b in blocks]
        for sc in (s2, s2.to_contract(), s2.to_dict()):
            new, _ = apply_knowledge(plan, sc, kn)
            for b, call in zip(blocks, new):
                want = b.color == "green" and b.name.startswith("small")
                assert call["args"]["offset"][2] == (-0.015 if want else 0.0)

"""Task generators of the teaching benchmark and its scoring helpers (no simulator needed)."""
from __future__ import annotations

import copy
import random
from collections import Counter

import pytest

from agent.bench.teach import parse_seeds
from agent.bench.teach_metrics import (TaskResult, aggregate, ci95, correction_applied, knowledge_changes, out_of_scope,
                                       plan_changes, round_stats)
from hardware.scene import Scene, SceneError
from sim.quirk_kinds import get_kind
from sim.speaker import Utterance
from sim.tasks import CONTROL_SHARE, QUIRK_KINDS, HouseRules, TaskGenerator, round_plan


def test_rounds_are_seeded_and_new_scenes_each_round():
    g1, g2 = TaskGenerator(seed=3), TaskGenerator(seed=3)
    a, b = g1.round(1, 20), g2.round(1, 20)
    assert [t.text for t in a] == [t.text for t in b]
    assert [t.scene.to_dict() for t in a] == [t.scene.to_dict() for t in b]
    r2 = g1.round(2, 20)
    assert {tuple(o.position) for t in a for o in t.scene.objects}.isdisjoint({tuple(o.position) for t in r2 for o in t.scene.objects})


def test_kind_order_combinations_and_magnitudes_are_drawn_per_seed():
    rules = [HouseRules.draw(s) for s in range(6)]
    assert len({r.kinds for r in rules}) > 1, "the order of the kinds varies with the seed"
    assert len({tuple(r.attrs for r in rs.rules) for rs in rules}) > 1
    mags = {repr([r.magnitude for r in rs.rules if r.magnitude]) for rs in rules}
    assert len(mags) > 1, "magnitudes (bevel, pocket side, preferred spot) vary with the seed"
    for rs in rules:
        looks = [r.attrs for r in rs.rules]
        assert len(looks) == len(set(looks))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_round_has_a_third_controls_and_varied_tasks(seed):
    g = TaskGenerator(seed=seed)
    types = Counter()
    for rn in (1, 2, 3):
        ts = g.round(rn, 30)
        ctrl = [t for t in ts if t.control]
        assert len(ctrl) >= CONTROL_SHARE * 30 - 1e-9 and len(ctrl) / len(ts) >= 0.3
        types.update(t.recipe.split(":")[0] for t in ts)
        for t in ts:
            Scene.from_dict(t.scene.to_dict())
            goal_names = {n for pair in t.goal for n in pair}
            quirky_goal = [q for q in t.scene.quirks if q.object in goal_names]
            assert bool(quirky_goal) != t.control, t.recipe
            if t.control:
                assert t.scene.quirks, "control tasks stand beside quirky objects"
            for o in t.scene.objects:  # a consistent world: every object carries exactly the quirks of its looks
                assert sorted(q.kind for q in t.scene.quirks_for(o.name)) == sorted(r.quirk for r in g.rules.rules_for(o))
    assert set(types) >= {"move", "all", "stack", "sort"}, types
    assert sum(any(len(t.kinds) >= 2 for t in g.round(rn, 30)) for rn in (2, 3)) == 2  # combinations after round 1


def test_size_colour_and_kind_are_not_confounded():
    """Controls share one attribute with a quirky combination (same colour other size, same size other colour)."""
    g = TaskGenerator(seed=0)
    ctrl = [t for rn in (1, 2, 3) for t in g.round(rn, 30) if t.control]
    shared = [t.shares for t in ctrl if t.shares]
    assert len(shared) >= 5
    block_rules = [r for r in g.rules.rules if r.attr("kind") == "block"]
    for t in ctrl:
        for o, _tgt in t.goal:
            ob = t.scene.get(o)
            for r in block_rules:
                assert not r.matches(ob)
    sizes = {(t.scene.get(o).color, t.scene.get(o).size) for t in ctrl for o, _ in t.goal}
    rule_colours = {r.attr("color") for r in block_rules}
    assert any(c in rule_colours for c, _ in sizes), "some control goal block has a quirky block's colour"


def test_referring_expressions_appear():
    texts = [t.text for s in range(3) for rn in (1, 2, 3) for t in TaskGenerator(s).round(rn, 30)]
    assert any("leftmost" in x or "rightmost" in x for x in texts)
    assert any(x.startswith("put all the") for x in texts)
    assert any(x.startswith("sort") or "colour" in x for x in texts)
    assert any(x.startswith("stack") or "on top of" in x for x in texts)


def test_allowed_for_step_follows_the_hidden_rules():
    g = TaskGenerator(seed=0)
    for t in [t for rn in (1, 2) for t in g.round(rn, 30)]:
        plan = []
        for o, tgt in t.goal:
            plan += [{"skill": "pick", "args": {"object": o}}, {"skill": "place", "args": {"target": tgt}}]
        for i, c in enumerate(plan):
            name = c["args"].get("object") or c["args"].get("target")
            allowed = t.allowed_for_step(plan, i)
            if t.control:
                assert allowed == set(), (t.recipe, allowed)
            want = {a for q in t.scene.quirks_for(name) for sk, a in get_kind(q.kind).args if sk == c["skill"]}
            assert want <= allowed


def test_small_rounds_and_bad_input():
    rng = random.Random(0)
    rules = HouseRules.draw(0)
    assert len(round_plan(1, 2, rules, rng)) == 2 and round_plan(1, 0, rules, rng) == []
    with pytest.raises(SceneError, match="unknown quirk"):
        HouseRules.draw(0, kinds=("wobbly",))
    with pytest.raises(ValueError, match="rounds are numbered from 1"):
        TaskGenerator(0).round(0, 5)
    assert set(QUIRK_KINDS) == set(HouseRules.draw(0).kinds)


PLAN = [
    {"skill": "pick", "args": {"object": "red block", "offset": [0, 0, 0], "force": 20.0, "speed": 1.0}},
    {"skill": "place", "args": {"target": "green bowl", "offset": [0, 0, 0], "speed": 1.0}},
]


def moved(step: int, plan: list | None = None, **args) -> list[dict]:
    p = copy.deepcopy(plan or PLAN)
    p[step]["args"].update(args)
    return p


def test_correction_applied():
    left = Utterance("a bit to the left", "offset", 1, "offset", "y", +1)
    assert correction_applied(PLAN, moved(1, offset=[0, 0.01, 0]), left)
    assert not correction_applied(PLAN, moved(1, offset=[0, -0.01, 0]), left)  # wrong way
    assert not correction_applied(PLAN, PLAN, left)  # not at all
    assert not correction_applied(PLAN, moved(0, offset=[0, 0.01, 0]), left)  # wrong step
    harder = Utterance("grip harder", "force", 0, "force", None, +1)
    assert correction_applied(PLAN, moved(0, force=30.0), harder) and not correction_applied(PLAN, moved(0, force=15.0), harder)
    retarget = Utterance("no, the blue block", "retarget_object", 0, "object", value="blue block")
    assert correction_applied(PLAN, moved(0, object="blue block"), retarget)
    praise = Utterance("good", "confirm", 1)
    assert correction_applied(PLAN, PLAN, praise) and not correction_applied(PLAN, moved(1, offset=[0, 0.01, 0]), praise)


def test_an_extra_unneeded_change_is_misapplied():
    """"clamp down harder" grounded as force up AND the pick 3 cm lower is misapplied."""
    harder = Utterance("clamp down harder", "force", 0, "force", None, +1)
    both = moved(0, force=30.0, offset=[0, 0, -0.03])
    assert not correction_applied(PLAN, both, harder)
    left = Utterance("a bit to the left", "offset", 1, "offset", "y", +1)
    assert not correction_applied(PLAN, moved(1, offset=[0.02, 0.01, 0]), left)  # another axis moved too
    assert not correction_applied(PLAN, moved(0, moved(1, offset=[0, 0.01, 0]), speed=0.5), left)  # another step too
    # a vague complaint may change what it could mean, nothing else, or nothing
    vague = Utterance("you dropped it", "vague_pick", 0)
    assert correction_applied(PLAN, moved(0, force=30.0), vague) and correction_applied(PLAN, PLAN, vague)
    assert not correction_applied(PLAN, moved(1, offset=[0, 0.03, 0]), vague)
    # "no, the other way" after a backwards "left": the true direction is right
    back = Utterance("no, the other way", "other_way", 1, "offset", "y", -1)
    assert correction_applied(PLAN, moved(1, offset=[0, -0.02, 0]), back)
    assert not correction_applied(PLAN, moved(1, offset=[0, 0.02, 0]), back)


def test_knowledge_out_of_scope_on_any_task_at_planning_and_during_the_episode():
    kb_plan = moved(0, offset=[0, 0, -0.015])
    assert plan_changes(PLAN, kb_plan) == [(0, "pick", "offset.z")]
    ch = knowledge_changes(PLAN, kb_plan)
    assert out_of_scope(ch, lambda plan, i: {"offset"} if i == 0 else set()) == []
    # a non-control task whose rules call only for a firmer grip: the lowered pick is out of scope and counted
    bad = out_of_scope(ch, lambda plan, i: {"force"} if i == 0 else set())
    assert bad == ["plan: step 0 pick.offset.z"]
    assert out_of_scope(knowledge_changes(PLAN, moved(0, offset=[0, 0, -0.001])), lambda p, i: set()) == []  # within 2 mm

    class R:  # a correction result: the user retargeted the pick and knowledge re-tuned the new object's grasp
        level = "plan"
        before = PLAN
        after = moved(0, object="blue block", force=40.0, offset=[0, 0, 0])
    during = knowledge_changes(PLAN, PLAN, [R()])
    assert [(w, j, a) for w, _p, j, a in during] == [("episode", 0, "force")]
    assert out_of_scope(during, lambda plan, i: set()) == ["episode: step 0 pick.force"]
    res = [TaskResult("a", 1, "move:heavy", "t", False, True, 0, True, out_of_scope=bad),
           TaskResult("b", 1, "move:control", "t", True, True, 0, True)]
    s = round_stats(res, 1, 1.0)
    assert s["out_of_scope_rate"] == 0.5 and s["out_of_scope"] == 1 and s["out_of_scope_control"] == 0


def test_round_stats_and_seed_aggregation():
    rs = [TaskResult("a", 1, "move:small_grasp", "t", False, True, 2, False, misapplied=1, checked=2),
          TaskResult("b", 1, "move:control", "t", True, True, 0, True, out_of_scope=["plan: step 0 pick.offset.z"])]
    s = round_stats(rs, 1, 3.0)
    assert s["corrections_per_task"] == 1.0 and s["success_rate"] == 1.0 and s["intervention_rate"] == 0.5
    assert s["first_attempt_success"] == 0.5 and s["misapplied_corrections"] == 0.5 and s["out_of_scope_rate"] == 0.5
    s2 = dict(s, corrections_per_task=3.0)
    agg = aggregate([[s], [s2]])
    assert agg[0]["corrections_per_task"] == 2.0 and agg[0]["ci95"]["corrections_per_task"] == pytest.approx(12.706, abs=0.01)
    assert agg[0]["per_seed"]["corrections_per_task"] == [1.0, 3.0]
    assert ci95([1.0]) == 0.0 and ci95([1.0, 1.0, 1.0]) == 0.0


def test_parse_seeds():
    assert parse_seeds("0-4") == (0, 1, 2, 3, 4) and parse_seeds("0,3,7") == (0, 3, 7) and parse_seeds("5") == (5,)
    for bad in ("4-0", "a", ""):
        with pytest.raises(ValueError, match="--seeds"):
            parse_seeds(bad)

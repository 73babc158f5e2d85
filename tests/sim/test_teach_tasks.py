"""Task generators of the teaching benchmark and its scoring helpers (no simulator needed)."""
from __future__ import annotations

from collections import Counter

import pytest

from hardware.scene import Scene
from sim.tasks import QUIRK_KINDS, QuirkRules, TaskGenerator, round_recipes
from agent.bench.teach_metrics import TaskResult, correction_applied, out_of_scope_changes, plan_changes, round_stats
from sim.user import Utterance


def test_rounds_are_seeded_and_new_scenes_each_round():
    g1, g2 = TaskGenerator(seed=3), TaskGenerator(seed=3)
    a, b = g1.round(1, 20), g2.round(1, 20)
    assert [t.text for t in a] == [t.text for t in b]
    assert [t.scene.to_dict() for t in a] == [t.scene.to_dict() for t in b]
    r2 = g1.round(2, 20)
    assert {tuple(o.position) for t in a for o in t.scene.objects}.isdisjoint({tuple(o.position) for t in r2 for o in t.scene.objects})
    assert TaskGenerator(seed=4).rules != g1.rules or [t.text for t in TaskGenerator(seed=4).round(1, 20)] != [t.text for t in a]


def test_round_one_repeats_every_kind_and_later_rounds_add_combinations_and_controls():
    g = TaskGenerator(seed=0)
    r1 = g.round(1, 20)
    kinds = Counter(k for t in r1 for k in t.kinds)
    assert all(kinds[k] >= 3 for k in QUIRK_KINDS), kinds
    # every kind appears within the first tasks, so later tasks of the round can profit from memory
    assert {k for t in r1[:5] for k in t.kinds} >= set(QUIRK_KINDS) - {"heavy"} or len({t.recipe for t in r1[:5]}) == 5
    for r in (2, 3):
        ts = g.round(r, 20)
        assert sum(t.control for t in ts) >= 3
        assert any(len(t.kinds) >= 2 for t in ts)
        assert {k for t in ts for k in t.kinds} == set(QUIRK_KINDS)


def test_scenes_are_consistent_with_the_rules_and_serialisable():
    g = TaskGenerator(seed=1)
    r = g.rules
    for t in g.round(2, 20):
        Scene.from_dict(t.scene.to_dict())
        o, tgt = t.goal[0]
        assert o in t.scene.names and tgt in t.scene.names and o in t.text and tgt in t.text
        for obj in t.scene.objects:
            got = sorted(q.kind for q in t.scene.quirks_for(obj.name))
            assert got == sorted(r.quirk_kinds_for(obj))
        if t.control:
            assert not any(q.kind in ("small_grasp", "slippery", "offcenter_drop", "placement_pref")
                           for q in t.scene.quirks_for(o) + t.scene.quirks_for(tgt))
            assert t.scene.quirks, "control tasks stand beside quirky objects"


def test_control_allowed_args():
    g = TaskGenerator(seed=0)
    ctrl = [t for rn in (1, 2, 3) for t in g.round(rn, 20) if t.control]
    assert ctrl
    for t in ctrl:
        allowed = t.allowed_args()
        assert (0, "pick", "offset") not in allowed and (0, "place", "offset") not in allowed
    small = next(t for t in g.round(1, 20) if t.recipe == "small")
    assert (0, "pick", "offset") in small.allowed_args()


def test_recipes_small_runs_and_bad_input():
    rng = __import__("random").Random(0)
    assert len(round_recipes(1, 2, rng)) == 2 and round_recipes(1, 0, rng) == []
    with pytest.raises(ValueError, match="unknown quirk kinds"):
        QuirkRules.draw(0, kinds=("wobbly",))
    with pytest.raises(ValueError, match="rounds are numbered from 1"):
        TaskGenerator(0).round(0, 5)


PLAN = [
    {"skill": "pick", "args": {"object": "red block", "offset": [0, 0, 0], "force": 20.0, "speed": 1.0}},
    {"skill": "place", "args": {"target": "green bowl", "offset": [0, 0, 0], "speed": 1.0}},
]


def moved(step: int, **args) -> list[dict]:
    import copy

    p = copy.deepcopy(PLAN)
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


def test_out_of_scope_changes():
    kb_plan = moved(0, offset=[0, 0, -0.015])
    assert plan_changes(PLAN, kb_plan) == [(0, "pick", "offset")]
    assert out_of_scope_changes(PLAN, kb_plan, {(0, "pick", "offset")}) == []
    assert out_of_scope_changes(PLAN, kb_plan, {(0, "pick", "force")}) == ["step 0 pick.offset"]
    assert out_of_scope_changes(PLAN, moved(0, offset=[0, 0, -0.001]), set()) == []  # within 2 mm


def test_round_stats_keys():
    rs = [TaskResult("a", 1, "small", "t", False, True, 2, False, misapplied=1, checked=2),
          TaskResult("b", 1, "ctrl_plain", "t", True, True, 0, True, out_of_scope=["step 0 pick.offset"])]
    s = round_stats(rs, 1, 3.0)
    assert s["corrections_per_task"] == 1.0 and s["success_rate"] == 1.0 and s["intervention_rate"] == 0.5
    assert s["first_attempt_success"] == 0.5 and s["misapplied_corrections"] == 0.5 and s["out_of_scope_rate"] == 1.0
    assert s["wall_s"] == 3.0

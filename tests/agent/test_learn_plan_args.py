"""Plan arguments learned from the logs (agent.learn.plan_args): hindsight argument examples from hand-built
episodes, the scope rules, the gate's check, and the embedded policy's hook."""
from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from agent.learn.plan_args import FILE, ArgExample, ArgRule, PlanArgs, argument_examples, compare, learn_rules

BLOCKS = {  # name -> (colour, size word, edge m)
    "large yellow block": ("yellow", 0.05), "small purple block": ("purple", 0.03), "large green block": ("green", 0.05),
    "large red block": ("red", 0.05), "medium yellow block": ("yellow", 0.04), "large blue block": ("blue", 0.05),
}


def scene(*names: str) -> dict:
    objs = [{"name": n, "kind": "block", "color": BLOCKS[n][0], "size": BLOCKS[n][1], "position": [0.5, 0.1 * i, 0.02]}
            for i, n in enumerate(names)]
    objs += [{"name": "red bowl", "kind": "bowl", "color": "red", "size": 0.16, "position": [0.5, -0.2, 0.03]},
             {"name": "gray tray", "kind": "tray", "color": "gray", "size": 0.3, "position": [0.4, 0.25, 0.01]}]
    return {"objects": objs, "quirks": [{"kind": "heavy", "object": names[0], "params": {"min_force": 35.0}}]}


def call(skill: str, **args) -> dict:
    base = {"offset": [0.0, 0.0, 0.0], "yaw": 0.0, "speed": 1.0, "height": 0.1, **({"force": 20.0} if skill == "pick" else {})}
    return {"skill": skill, "args": {**base, **args}}


def run(index: int, c: dict, ok: bool, t: float) -> dict:
    return {"index": index, "call": c, "outcome": {"success": ok, "args": copy.deepcopy(c["args"])}, "t": t}


def episode(eid: str, obj: str, force: float = 20.0, target: str = "red bowl", success: bool = True,
            runs: list[tuple[dict, bool]] | None = None, initial_force: float = 20.0) -> dict:
    """pick ``obj`` -> place in ``target``; the final pick ran with ``force`` (after a failed run at the initial force
    when they differ), unless ``runs`` gives the pick's runs."""
    pick, place = call("pick", object=obj, force=force), call("place", target=target)
    first = call("pick", object=obj, force=initial_force)
    if runs is None:
        runs = [(first, False), (pick, True)] if force != initial_force else [(pick, True)]
    steps = [run(0, c, ok, float(i)) for i, (c, ok) in enumerate(runs)] + [run(1, place, True, 50.0)]
    return {"id": eid, "task": f"put the {obj} in the {target}", "scene": scene(obj, "large green block"),
            "initial_plan": [first, call("place", target=target)], "final_plan": [runs[-1][0], place],
            "success": success, "status": "success" if success else "failure", "steps": steps}


def ex(look: dict, value, eid: str, skill: str = "pick", arg: str = "force", default: bool = False) -> ArgExample:
    role = "object" if skill == "pick" else "target"
    return ArgExample(skill, arg, role, tuple(sorted(look.items())), value, default, eid)


LY = {"kind": "block", "color": "yellow", "size": "large"}
LR = {"kind": "block", "color": "red", "size": "large"}
LG = {"kind": "block", "color": "green", "size": "large"}
SP = {"kind": "block", "color": "purple", "size": "small"}
MY = {"kind": "block", "color": "yellow", "size": "medium"}


# --- hindsight: the arguments that worked ------------------------------------------------------------------------
def test_a_correction_that_made_the_step_work_is_an_argument_example_with_the_value_that_worked():
    exs = argument_examples(episode("e1", "large yellow block", force=35.0))
    force = [e for e in exs if e.arg == "force"]
    assert len(force) == 1 and force[0].value == 35.0 and not force[0].default and force[0].step == 0
    assert dict(force[0].looks) == LY and force[0].role == "object"
    # the other arguments worked at their defaults: evidence against rules there
    assert all(e.default for e in exs if e.arg != "force")
    place = {e.arg: e for e in exs if e.skill == "place"}
    assert place["offset"].role == "target" and dict(place["offset"].looks) == {"kind": "bowl", "color": "red"}
    assert place["speed"].role == "held" and dict(place["speed"].looks) == LY


def test_a_change_after_which_the_step_failed_again_is_no_evidence():
    """A firmer grip that did not stop the slipping, before a lower grasp did: only the lower grasp worked."""
    obj = "small purple block"
    r0 = call("pick", object=obj)
    r1 = call("pick", object=obj, force=45.0)
    r2 = call("pick", object=obj, force=45.0, offset=[0.0, 0.0, -0.012])
    exs = argument_examples(episode("e1", obj, runs=[(r0, False), (r1, False), (r2, True)]))
    by = {e.arg: e for e in exs if e.skill == "pick"}
    assert "force" not in by  # 45 N was already there when the step slipped again
    assert by["offset"].value == [0.0, 0.0, -0.012] and not by["offset"].default


def test_failed_episodes_and_values_the_plan_came_with_give_no_argument_examples():
    assert argument_examples(episode("e1", "large yellow block", force=35.0, success=False)) == []
    given = episode("e2", "large yellow block", force=35.0, initial_force=35.0)  # nobody changed it
    assert [e for e in argument_examples(given) if e.arg == "force"] == []


def test_only_the_first_place_into_a_container_teaches_the_container_and_hidden_quirks_are_never_read():
    rec = episode("e1", "large yellow block")
    second = call("pick", object="large green block")
    moved = call("place", target="red bowl", offset=[0.0, 0.05, 0.0])
    rec["final_plan"] += [second, moved]
    rec["steps"] += [run(2, second, True, 60.0), run(3, call("place", target="red bowl"), True, 70.0), run(3, moved, True, 80.0)]
    rec["initial_plan"] = rec["initial_plan"] + [second, call("place", target="red bowl")]
    exs = argument_examples(rec)
    assert not [e for e in exs if e.step == 3 and e.role == "target"]  # beside the first block, not the bowl's spot
    assert [e for e in exs if e.step == 3 and e.role == "held"]
    assert "quirks" not in json.dumps([e.to_dict() for e in exs]) and "min_force" not in json.dumps([e.to_dict() for e in exs])


# --- scope rules ------------------------------------------------------------------------------------------------
def test_repeated_consistent_evidence_on_one_look_makes_a_rule_of_that_look_only():
    rules = learn_rules([ex(LY, 35.0, "a"), ex(LY, 40.0, "b"), ex(LG, 20.0, "c", default=True), ex(SP, 20.0, "d", default=True)])
    assert len(rules) == 1 and rules[0].scope == LY and rules[0].support == 2
    assert rules[0].covers(LY) and not rules[0].covers(LG) and not rules[0].covers(MY)  # not "large" nor "yellow" blocks


def test_one_instance_one_episode_or_disagreeing_values_make_no_rule():
    assert learn_rules([ex(LY, 35.0, "a")]) == []
    assert learn_rules([ex(LY, 35.0, "a"), ex(LY, 36.0, "a")]) == []  # one episode
    assert learn_rules([ex(LY, 35.0, "a"), ex(LY, 0.5 * 20.0, "b"), ex(LY, 60.0, "c")]) == []  # firmer, gentler, ...
    assert learn_rules([ex(LY, 35.0, "a"), ex(LY, 35.0, "b"), ex(LY, 20.0, "c", default=True)]) == []  # also worked without


def test_an_argument_seen_on_two_looks_that_differ_in_two_attributes_does_not_spread_to_their_shared_kind():
    rules = learn_rules([ex(LY, 35.0, "a"), ex(SP, 35.0, "b")])
    assert rules == []  # each look once; "blocks" is not supported by a large yellow and a small purple one
    rules = learn_rules([ex(LY, 35.0, "a"), ex(LY, 35.0, "b"), ex(SP, 35.0, "c"), ex(SP, 35.0, "d")])
    assert sorted(tuple(sorted(r.scope.items())) for r in rules) == sorted(tuple(sorted(s.items())) for s in (LY, SP))


def test_looks_differing_in_one_attribute_merge_unless_the_wider_scope_holds_a_look_that_worked_without():
    rules = learn_rules([ex(LY, 35.0, "a"), ex(LR, 36.0, "b")])
    assert len(rules) == 1 and rules[0].scope == {"kind": "block", "size": "large"} and rules[0].support == 2
    blocked = learn_rules([ex(LY, 35.0, "a"), ex(LR, 36.0, "b"), ex(LG, 20.0, "c", default=True)])
    assert blocked == []  # a large green block worked at 20 N: not every large block needs it


def test_place_offsets_on_a_container_and_the_narrowest_rule_wins():
    tray = {"kind": "tray", "color": "gray"}
    rules = learn_rules([ex(tray, [0.0, 0.03, 0.0], "a", "place", "offset"), ex(tray, [0.005, 0.028, 0.0], "b", "place", "offset")])
    assert len(rules) == 1 and rules[0].value == [0.0025, 0.029, 0.0] and rules[0].role == "target"
    # a look that holds another value keeps a wider scope from forming over it
    assert learn_rules([ex(LY, 80.0, "a"), ex(LY, 80.0, "b"), ex(LR, 36.0, "c"), ex(LG, 36.0, "d")])[0].scope == LY
    pa = PlanArgs([ArgRule("pick", "force", "object", {"kind": "block", "size": "large"}, 36.0, 2, ["c", "d"]),
                   ArgRule("pick", "force", "object", dict(LY), 80.0, 2, ["a", "b"])])
    objs = scene("large yellow block", "large red block")["objects"]
    plan = [call("pick", object="large yellow block"), call("place", target="red bowl"), call("pick", object="large red block")]
    got = pa.predict(plan, objs)
    assert got[(0, "force")].scope == LY and got[(2, "force")].scope == {"kind": "block", "size": "large"}


# --- the checkpoint file and the gate's check -------------------------------------------------------------------
def test_learn_save_load_apply_and_the_gate_check(tmp_path: Path):
    recs = [episode(f"e{i}", "large yellow block", force=35.0 + i) for i in range(3)]
    recs.append(episode("e9", "large green block"))  # worked at the defaults
    pa = PlanArgs.learn(recs)
    assert [r.scope for r in pa.rules] == [LY] and pa.rules[0].value == 36.0
    pa.save(tmp_path)
    back = PlanArgs.load(tmp_path)
    assert back is not None and back.rules[0].scope == LY and len(back.evidence) == len(pa.evidence)
    assert PlanArgs.load(tmp_path / "nowhere") is None
    objs = scene("large yellow block", "large green block")["objects"]
    plan = [call("pick", object="large green block"), call("place", target="red bowl"), call("pick", object="large yellow block")]
    new, notes = back.apply(plan, objs)
    assert new[2]["args"]["force"] == 36.0 and new[0] == plan[0] and new[1] == plan[1] and len(notes) == 1
    # the next round learns from the old evidence and the new together
    more = PlanArgs.learn([episode("f1", "large red block", force=36.0), episode("f2", "large red block", force=36.0)], base=back)
    assert {tuple(sorted(r.scope.items())) for r in more.rules} == {tuple(sorted(LY.items())), tuple(sorted(LR.items()))}
    # gate: right where it fires on the looks it learnt, a flip where it fires on a look that worked without
    held = [episode("h1", "large yellow block", force=40.0), episode("h2", "large green block")]
    ok = compare(None, back, held)
    assert ok["flips"] == 0 and ok["fixed"] == 1 and ok["fired"] == 1 and ok["fired_out_of_scope"] == 0
    wide = PlanArgs(learn_rules([ex(LY, 35.0, "a"), ex(LR, 36.0, "b")]))  # every large block
    bad = compare(None, wide, held)
    assert bad["flips"] == 1 and bad["fired_out_of_scope"] == 1 and bad["flip_rate"] > 0.01


def test_the_gate_refuses_a_candidate_whose_plan_arguments_flip_held_out_answers():
    from agent.learn.data import FeatureSet
    from agent.learn.gate import GateConfig, judge
    from agent.learn.registry import shipped_checkpoint

    empty = FeatureSet([], {}, [], [], [], {})
    ck = str(shipped_checkpoint())
    check = {"answers": 20, "previously_right": 18, "flips": 2, "fixed": 0, "fired": 2, "fired_out_of_scope": 2, "flip_rate": 0.111}
    rep = judge(ck, ck, empty, empty, GateConfig(dev=""), log=lambda s: None, plan_args=check)
    assert not rep.accepted and any("plan arguments" in r for r in rep.reasons) and rep.plan_args == check


# --- the embedded policy's hook ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from agent.learn.registry import shipped_checkpoint

    root = tmp_path_factory.mktemp("ck")
    out = {}
    for name in ("none", "empty", "rule"):
        out[name] = root / name
        shutil.copytree(shipped_checkpoint(), out[name])
    PlanArgs().save(out["empty"])
    PlanArgs(learn_rules([ex(LY, 35.0, "a"), ex(LY, 35.0, "b")])).save(out["rule"])
    return out


def test_the_policy_hook_applies_nothing_without_learned_arguments_and_only_in_scope_with_them(checkpoints):
    from agent.grounder.model import Encoder
    from agent.grounder.policy import EmbeddedPolicy

    sc = {"objects": scene("large yellow block", "medium yellow block", "large green block")["objects"]}
    enc = Encoder.shared()
    plans = {}
    for name, folder in checkpoints.items():
        pol = EmbeddedPolicy(str(folder), encoder=enc)
        assert (pol.plan_args is None) == (name == "none")
        plans[name] = {t: pol.plan(sc, t) for t in ("put the large yellow block in the red bowl",
                                                    "put the medium yellow block in the red bowl",
                                                    "put the large green block in the gray tray")}
    assert not (checkpoints["none"] / FILE).exists()
    assert plans["none"] == plans["empty"]
    for t, p in plans["rule"].items():
        picked = p[0]["args"]["object"]
        if picked == "large yellow block":
            assert p[0]["args"]["force"] == 35.0 and p[1:] == plans["none"][t][1:]
        else:  # a medium yellow and a large green block share one attribute each: untouched
            assert p == plans["none"][t]


def test_the_teach_bench_counts_the_policys_own_arguments_and_those_no_hidden_rule_calls_for():
    from agent.bench.teach_metrics import out_of_scope, policy_changes

    plan = [call("pick", object="large yellow block", force=35.0), call("place", target="red bowl", offset=[0.0, 0.03, 0.0])]
    made = policy_changes(plan)
    assert [(w, j, a) for w, _p, j, a in made] == [("policy", 0, "force"), ("policy", 1, "offset.y")]
    assert policy_changes([call("pick", object="large yellow block"), call("place", target="red bowl")]) == []
    bad = out_of_scope(made, lambda p, j: {"force"} if j == 0 else set())  # the bowl has no rule here
    assert bad == ["policy: step 1 place.offset.y"]


def test_equal_on_the_held_out_utterances_the_plan_arguments_decide():
    """Both read every held-out utterance alike (here: no utterance differs, the same checkpoint): the candidate is
    better only when its plan arguments answer more held-out steps right and flip none."""
    from agent.learn.gate import GateConfig, judge
    from agent.learn.registry import shipped_checkpoint

    fs = _tiny_heldout()
    ck = str(shipped_checkpoint())
    fixed = {"answers": 20, "previously_right": 16, "flips": 0, "fixed": 3, "fired": 3, "fired_out_of_scope": 0, "flip_rate": 0.0}
    assert judge(ck, ck, fs, fs, GateConfig(dev=""), log=lambda s: None, plan_args=fixed).accepted
    for other in ({**fixed, "fixed": 0, "fired": 0}, {**fixed, "flips": 1, "flip_rate": 0.0625}):
        rep = judge(ck, ck, fs, fs, GateConfig(dev=""), log=lambda s: None, plan_args=other)
        assert not rep.accepted and any("not better" in r for r in rep.reasons)
    rep = judge(ck, ck, fs, fs, GateConfig(dev=""), log=lambda s: None)  # no plan-argument check: equal is not better
    assert not rep.accepted


def _tiny_heldout():
    """A few generated grounding examples encoded as a FeatureSet (the held-out utterances of a log)."""
    import random

    from agent.grounder.corpus import ground_example
    from agent.learn.data import FeatureSet

    rng = random.Random(5)
    exs = [ground_example(rng, "train") for _ in range(6)]
    return FeatureSet.encode(exs, [1] * len(exs), {}, None, None, lambda s: None)

"""Credit by re-running (memory.rerun): where a simulator is at hand, a part credited after a failure is kept only if
the step fails without it. The trial here is a stand-in for the replay (a rule on the plan); the real replay in a
PyBullet world is tested in tests/agent/test_session_replay.py."""
from __future__ import annotations

from memtest_helpers import episode, obj, pick, place, run, scene, taught

from memory.credit import assign
from memory.rerun import last_step, recheck, without

BOWL = obj("green bowl", "bowl", "green", 0.16, (0.6, -0.1, 0.03))
SLIPPERY = obj("blue block", "block", "blue", 0.04)


def needs_force(plan, last):
    """The world: the pick holds (and carries) the block only at 30 N or more; geometry does not matter."""
    calls = [{"force": 20.0, **c["args"]} for c in plan[: last + 1]]
    return all(c["force"] >= 30.0 for c, s in zip(calls, plan) if s["skill"] == "pick")


def lowered_and_harder():
    """'go down 8 mm' and 'squeeze harder' after the block slipped; the step then worked."""
    scn = scene(SLIPPERY, BOWL)
    base = [pick("blue block"), place("green bowl")]
    mid = [pick("blue block", offset=[0.0, 0.0, -0.008]), place("green bowl")]
    final = [pick("blue block", offset=[0.0, 0.0, -0.008], force=30.0), place("green bowl")]
    steps = [run(base[0], 1000.0, ok=False, failure="slipped"), run(final[0], 1006.0), run(final[1], 1007.0)]
    ep = taught("put the blue block in the green bowl", scn, base, final, {0: "go down 8 mm"}, steps=steps)
    ep["corrections"] = [
        {**ep["corrections"][0], "before": base, "after": mid, "utterance": "go down 8 mm"},
        {**ep["corrections"][0], "before": mid, "after": final, "utterance": "squeeze it harder"},
    ]
    return ep


def test_words_alone_credit_both_parts():
    ep = lowered_and_harder()
    assert {i.component for i in assign(ep).instances} == {"offset.z", "force"}


def test_rerun_drops_the_part_the_step_does_without():
    ep = lowered_and_harder()
    calls = []

    def trial(plan, last):
        calls.append((plan, last))
        return needs_force(plan, last)

    c = recheck(assign(ep), ep, trial)
    assert {i.component for i in c.instances} == {"force"}
    assert any("offset.z" in d and "re-run" in d for d in c.dropped)
    assert all(last == 1 for _, last in calls)  # a pick is judged with the place that carries its object
    assert len(calls) == 3  # with, without z, without force


def test_rerun_makes_a_needed_weak_part_strong():
    # "not like that" after a failure that explains neither part: force and speed are only hypotheses by the words
    scn = scene(SLIPPERY, BOWL)
    base = [pick("blue block"), place("green bowl")]
    final = [pick("blue block", force=30.0, speed=0.5), place("green bowl")]
    steps = [run(base[0], 1000.0, ok=False, failure="missed_target"), run(final[0], 1006.0), run(final[1], 1007.0)]
    ep = taught("t", scn, base, final, {0: "not like that"}, steps=steps)
    assert {i.component: i.weak for i in assign(ep).instances} == {"force": True, "speed": True}
    out = recheck(assign(ep), ep, needs_force)
    assert {i.component: i.weak for i in out.instances} == {"force": False}
    assert any("speed" in d for d in out.dropped)


def test_a_replay_that_does_not_reproduce_the_episode_leaves_the_words_to_decide():
    ep = lowered_and_harder()
    c = recheck(assign(ep), ep, lambda plan, last: False)
    assert {i.component for i in c.instances} == {"offset.z", "force"}
    c = recheck(assign(ep), ep, lambda plan, last: None)
    assert {i.component for i in c.instances} == {"offset.z", "force"}


def test_objections_are_not_re_run():
    # a placement the user asked for: no failure, the simulator cannot judge a wish
    scn = scene(obj("red block", "block", "red", 0.04), BOWL)
    base = [pick("red block"), place("green bowl")]
    final = [pick("red block"), place("green bowl", offset=[0.0, 0.02, 0.0])]
    ep = taught("t", scn, base, final, {1: "a bit to the left"})
    c = recheck(assign(ep), ep, lambda plan, last: True)
    assert [i.component for i in c.instances] == ["offset.y"]


def test_without_puts_one_component_back():
    plan = [pick("blue block", offset=[0.01, 0.0, -0.008], force=30.0), place("green bowl")]
    base = {"object": "blue block", "offset": [0.0, 0.0, 0.0], "force": 20.0}
    assert without(plan, 0, "offset.z", base)[0]["args"]["offset"] == [0.01, 0.0, 0.0]
    assert without(plan, 0, "force", base)[0]["args"]["force"] == 20.0
    assert plan[0]["args"]["force"] == 30.0  # the input is not changed
    assert last_step(plan, 0) == 1 and last_step(plan, 1) == 1
    assert last_step([pick("a"), pick("b"), place("c")], 0) == 0


def test_ingest_uses_the_trial(kb):
    ep = lowered_and_harder()
    rep = kb.ingest(ep, trial=needs_force)
    (e,) = kb.list()
    assert e.lesson == "pick|object|force|+" and rep.added == [e.id]
    assert any("offset.z" in d for d in rep.dropped)


def _slipped_then_harder(b):
    scn = scene(b, BOWL)
    base = [pick(b["name"]), place("green bowl")]
    final = [pick(b["name"], force=30.0), place("green bowl")]
    steps = [run(base[0], 1000.0, ok=False, failure="slipped"), run(final[0], 1006.0), run(final[1], 1007.0)]
    return taught("t", scn, base, final, {0: "squeeze it harder"}, steps=steps)


def test_a_generalisation_the_replay_shows_unneeded_narrows_the_scope(kb):
    medium, large = obj("blue block", "block", "blue", 0.04), obj("large blue block", "block", "blue", 0.05)
    small = obj("small blue block", "block", "blue", 0.03)
    kb.ingest(_slipped_then_harder(medium))
    kb.ingest(_slipped_then_harder(large))
    (e,) = kb.list()
    assert "object_size" not in e.conditions and e.conditions.get("object_color") == "blue"  # taught on two sizes
    # applied to the small blue block: the step worked, and a replay shows it also works at 20 N
    base = [pick("small blue block"), place("green bowl")]
    initial = [pick("small blue block", force=30.0), place("green bowl")]
    used = [{"id": e.id, "text": e.text, "effect": e.effect}]
    ep = episode("t", scene(small, BOWL), base, initial, knowledge_used=used, initial=initial)
    kb.ingest(ep, trial=lambda plan, last: True)
    after = kb.get(e.id)
    assert any(a.get("name") == "small blue block" for a in after.against)
    assert after.stats.get("unneeded") == 1 and after.confidence == e.confidence  # narrowed, not weakened
    covers_small = [x for x in kb.list() if x.conditions.get("object_color") == "blue" and
                    x.conditions.get("object_size") in (None, "small")]
    assert not covers_small, [x.conditions for x in kb.list()]
    # where the replay shows it needed (or cannot tell), nothing changes
    kb2_ep = episode("t", scene(small, BOWL), base, initial, knowledge_used=used, initial=initial)
    rep = kb.ingest(kb2_ep, trial=needs_force)
    assert not rep.narrowed

"""What the session adds to grounding and learning from its own context: "no, the other way" turns the last change
around on the step it changed, and, on a simulated world, a replica replays a step with and without each part of a
correction (credit by re-running, memory.rerun). Real PyBullet, real policy."""
from __future__ import annotations

import pytest

from agent.session import SessionConfig, TeachingSession
from agent.session.contradiction import is_other_way, mirror
from agent.session.trial import Replay
from hardware.scene import BOWL_HEIGHT, Scene, SceneObject
from memory.credit import assign
from memory.rerun import recheck

TASK = "put the blue block in the green bowl"


def table() -> Scene:
    from sim.quirks import add_quirk

    s = Scene(objects=[
        SceneObject("blue block", "block", "blue", 0.04, (0.5, -0.1, 0.02)),
        SceneObject("green bowl", "bowl", "green", 0.16, (0.55, 0.14, BOWL_HEIGHT / 2), mass=0.3),
    ])
    return add_quirk(s, "slippery", "blue block")  # holds at >= 32 N, the default grip is 20 N


def test_other_way_words() -> None:
    assert all(is_other_way(t) for t in ("no, the other way", "sorry, opposite direction", "no no, the opposite way",
                                         "I said the other way", "wrong way"))
    assert not any(is_other_way(t) for t in ("the other way, to the left", "move left", "the way", "other side", ""))


def test_mirror_turns_the_last_change_around() -> None:
    before = [{"skill": "pick", "args": {"object": "a", "force": 20.0, "offset": [0.0, 0.0, 0.0]}}]
    after = [{"skill": "pick", "args": {"object": "a", "force": 30.0, "offset": [0.0, 0.02, 0.0]}}]
    new, steps = mirror(before, after)
    assert steps == [0] and new[0]["args"]["offset"] == [0.0, -0.02, 0.0]
    assert new[0]["args"]["force"] == pytest.approx(20.0 * 20.0 / 30.0)
    assert mirror(before, before) is None
    assert mirror(before, [{"skill": "pick", "args": {"object": "b"}}]) is None  # a retarget is not turned around


def test_other_way_turns_the_last_change_around_on_its_step(world, policy) -> None:
    plain = Scene(objects=[o for o in table().objects])  # no quirk: every step works
    plain.get("blue block").friction, plain.get("blue block").mass = 0.9, 0.1
    s = TeachingSession.for_sim(world, policy, config=SessionConfig(frames=False))
    plan = s.start(TASK, plain)
    r = s.correct("the other way")
    assert r.question and s.plan == plan  # nothing to turn around yet
    assert s.step().success
    r = s.correct("a bit slower")
    assert r.changed and r.step == 0 and r.action == "redo"
    slower = s.plan[0]["args"]["speed"]
    assert slower < 1.0
    assert s.step().success and s.step().success
    assert s.last_step == 1  # the user speaks after the place; the contradiction still belongs to the pick
    r = s.correct("no, the other way")
    assert r.level == "skill" and r.step == 0 and r.parsed["other_way"]["steps"] == [0]
    assert s.plan[0]["args"]["speed"] == pytest.approx(1.0 / slower, rel=1e-3)
    assert s.plan[1] == plan[1] and {k: v for k, v in s.plan[0]["args"].items() if k != "speed"} == \
        {k: v for k, v in plan[0]["args"].items() if k != "speed"}
    assert s.correct("undo").after[0]["args"]["speed"] == pytest.approx(slower)


def test_replay_runs_in_a_replica_and_leaves_the_world_alone(world) -> None:
    from sim.world import SimWorld

    scene = table()
    world.reset(scene)
    pose = world.pose("blue block")
    made = []

    def replica():
        w = SimWorld(config=world.config)
        made.append(w)
        return w.robot, w, w.reset

    from skills.library import run_skill

    replay = Replay(replica, run_skill, max_runs=2)
    trial = replay.bind(scene)
    weak = [{"skill": "pick", "args": {"object": "blue block", "force": 20.0}}, {"skill": "place", "args": {"target": "green bowl"}}]
    firm = [{"skill": "pick", "args": {"object": "blue block", "force": 42.0}}, {"skill": "place", "args": {"target": "green bowl"}}]
    assert trial(firm, 1) is True
    assert trial(weak, 1) is False
    assert trial(firm, 1) is None  # past max_runs: cannot tell
    assert len(made) == 1 and world.pose("blue block") == pose
    made[0].close()


def test_replay_credits_force_not_the_stray_lowering(world) -> None:
    """The slippery block: 'go down 8 mm' and 'squeeze harder' after it slipped, then it held. The words credit both;
    the replay finds the step works without the lowering and not without the force."""
    from skills.library import run_skill
    from sim.world import SimWorld

    made = []

    def replica():
        w = SimWorld(config=world.config)
        made.append(w)
        return w.robot, w, w.reset

    ep = slipped_episode()
    credit = assign(ep)
    assert {i.component for i in credit.instances} == {"offset.z", "force"}
    out = recheck(credit, ep, Replay(replica, run_skill).bind(table()))
    assert [i.component for i in out.instances] == ["force"]
    assert any("offset.z" in d and "re-run" in d for d in out.dropped)
    made[0].close()


def _pick(**kw):
    return {"skill": "pick", "args": {"object": "blue block", "offset": [0.0, 0.0, 0.0], "force": 20.0, **kw}}


def slipped_episode() -> dict:
    """An episode record (memory.episodes) of the slippery block: slipped at 20 N; "go down 8 mm", "squeeze it
    harder"; then pick and place worked."""
    place = {"skill": "place", "args": {"target": "green bowl"}}
    base = [_pick(), place]
    mid = [_pick(offset=[0.0, 0.0, -0.008]), place]
    final = [_pick(offset=[0.0, 0.0, -0.008], force=30.0 * 1.4), place]
    corr = {"step": 0, "level": "skill", "changes": [], "parsed": {}, "t": 1005.0, "during_motion": False}
    return {"id": "slipped", "task": TASK, "scene": table().to_dict(), "base_plan": base, "initial_plan": base,
            "final_plan": final, "success": True, "status": "success", "knowledge_used": [], "utterances": [],
            "steps": [{"index": 0, "call": base[0], "outcome": {"skill": "pick", "success": False, "failure": "slipped"}, "t": 1000.0},
                      {"index": 0, "call": final[0], "outcome": {"skill": "pick", "success": True}, "t": 1006.0},
                      {"index": 1, "call": place, "outcome": {"skill": "place", "success": True}, "t": 1007.0}],
            "corrections": [{**corr, "utterance": "go down 8 mm", "before": base, "after": mid},
                            {**corr, "utterance": "squeeze it harder", "before": mid, "after": final}]}


def test_a_place_never_targets_the_object_its_pick_holds() -> None:
    from agent.session.plan_editor import PlanEditor

    ed = PlanEditor()
    start = [{"skill": "pick", "args": {"object": "blue block"}}, {"skill": "place", "args": {"target": "red bowl"}}]
    ed.load(start, start)
    # "the orange one instead" misheard as a new target, then "no, the orange block" retargets the pick
    new = [{"skill": "pick", "args": {"object": "orange block"}}, {"skill": "place", "args": {"target": "orange block"}}]
    assert ed.unself_place(new)[1]["args"]["target"] == "red bowl"
    fine = [{"skill": "pick", "args": {"object": "orange block"}}, {"skill": "place", "args": {"target": "green bowl"}}]
    assert ed.unself_place(fine) == fine


def test_try_again_after_a_place_that_lost_its_object_picks_it_again(world, policy) -> None:
    plain = Scene(objects=[o for o in table().objects])
    plain.get("blue block").friction, plain.get("blue block").mass = 0.9, 0.1
    s = TeachingSession.for_sim(world, policy, config=SessionConfig(frames=False))
    s.start(TASK, plain)
    assert s.step().success and s.cursor == 1
    s.robot.set_gripper(0.08, 0.0)  # the block is lost on the way
    s.world.settle(0.5)
    assert s.world.held() is None
    s.paused = True
    r = s.correct("try again")
    assert r.kind == "resume" and s.cursor == 0  # the pick runs again, not a place with empty hands


def test_a_bare_the_other_turns_a_direction_around_and_else_goes_to_the_policy(world, policy) -> None:
    from agent.session.contradiction import is_bare_other

    assert all(is_bare_other(t) for t in ("no, the other", "the other", "uh, the other!"))
    assert not any(is_bare_other(t) for t in ("the other one", "the other way", "the other block", ""))
    plain = Scene(objects=[o for o in table().objects])
    s = TeachingSession.for_sim(world, policy, config=SessionConfig(frames=False))
    plan = s.start(TASK, plain)
    r = s.correct("no, the other")  # no change yet: not a contradiction; the policy reads it (and changes nothing)
    assert "other_way" not in (r.parsed or {}) and s.plan == plan
    r = s.correct("a bit more to the left")
    assert r.changed
    left = s.plan[1]["args"]["offset"][1] if r.step == 1 else s.plan[0]["args"]["offset"][1]
    r = s.correct("no, the other")
    assert r.parsed["other_way"]["steps"] == [r.step]
    assert s.plan[r.step]["args"]["offset"][1] == pytest.approx(-left)

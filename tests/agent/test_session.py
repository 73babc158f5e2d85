"""The teaching session driven by scripted utterances in the real simulator with the real policy.

One SimWorld and one policy per module (``session.start`` reloads the world from each test's scene).
Frames: left is +y, forward +x, up +z (shared/spec/corrections.md).
"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest

from agent.channel import Cue, ScriptedChannel
from agent.session import SessionConfig, SessionError, TeachingSession, classify
from memory.episodes import EpisodeLog
from hardware.scene import BOWL_HEIGHT, Scene, SceneObject

TASK = "put the red block in the green bowl"


def table() -> Scene:
    return Scene(objects=[
        SceneObject("red block", "block", "red", 0.04, (0.48, -0.1, 0.02)),
        SceneObject("blue block", "block", "blue", 0.04, (0.62, -0.2, 0.02)),
        SceneObject("green bowl", "bowl", "green", 0.16, (0.54, 0.12, BOWL_HEIGHT / 2), mass=0.3),
    ])


@pytest.fixture()
def log(tmp_path: Path):
    with EpisodeLog(tmp_path / "episodes") as lg:
        yield lg


def make(world, policy, log=None, **cfg) -> TeachingSession:
    return TeachingSession.for_sim(world, policy, log=log, config=SessionConfig(frames=log is not None, frame_size=(96, 72), **cfg))


def test_session_words() -> None:
    assert [classify(t) for t in ("Stop!", "undo", "Done.", "give up", "don't do that again", "continue", "good job", "a bit lower")] == \
        ["stop", "undo", "done", "give_up", "dont_again", "resume", "praise", "correction"]


def test_correction_during_motion_changes_the_running_motion(world, policy, log) -> None:
    s = make(world, policy, log)
    ch = ScriptedChannel([Cue("3 cm to the left", at="moving", skill="place", tick=10), Cue("done", at="idle")])
    summary = s.run_episode(TASK, ch, scene=table())
    assert summary.success is True and summary.status == "success"
    corr = [c for c in s.corrections if c.changes]
    assert len(corr) == 1 and corr[0].during_motion and corr[0].action == "replace_args"
    assert corr[0].step == 1 and any("offset y +3.0 cm" in c for c in corr[0].changes)
    place = [o for i, o in s.outcomes if o.skill == "place"]
    assert len(place) == 1, "the place was re-aimed while it ran, not redone"
    assert place[0].success and place[0].ticks > 10
    assert place[0].args["offset"][1] == pytest.approx(0.03, abs=1e-6)
    # the block really went further left than the default place would have put it
    from skills.library import run_skill

    s2 = make(world, policy)
    s2.start(TASK, table())
    base = [run_skill(c, world.robot, world) for c in s2.plan][-1]
    assert place[0].error_xy[1] - base.error_xy[1] == pytest.approx(0.03, abs=0.01)
    rec = log.load(summary.episode_id)
    assert rec["status"] == "success" and rec["corrections"][0]["during_motion"] is True
    assert rec["final_plan"][1]["args"]["offset"][1] == pytest.approx(0.03)
    assert rec["base_plan"] == rec["initial_plan"] and len(rec["steps"]) == 2
    assert len(rec["frames"]) == 4 and all(log.media_path(f).exists() for f in rec["frames"])


PLAN = [{"skill": "pick", "args": {"object": "red block"}}, {"skill": "place", "args": {"target": "green bowl"}}]


def test_stop_halts_within_one_control_tick(world) -> None:
    s = make(world, None)  # session words need no model: the plan is given
    s.start(TASK, table(), plan=PLAN)
    ch = ScriptedChannel([Cue("stop", at="moving", step=0, tick=25)])
    s.channel = ch
    out = s.step()
    said_tick = ch.said[0][3]
    assert out.stopped and not out.success and out.failure == "stopped"
    assert out.ticks - said_tick <= 1
    assert s.paused and s.cursor == 0 and s.plan == s.initial_plan
    r = s.correct("continue")
    assert r.action == "continue" and not s.paused
    assert s.step().success and s.step().success
    assert s.goal_satisfied()
    s.finish(True)
    with pytest.raises(SessionError, match="has ended"):
        s.step()


def test_failed_grasp_then_lower_succeeds(world, policy, log) -> None:
    s = make(world, policy, log)
    too_high = [{"skill": "pick", "args": {"object": "red block", "offset": [0.0, 0.0, 0.015]}},
                {"skill": "place", "args": {"target": "green bowl"}}]
    ch = ScriptedChannel([Cue("lower", at="after_step", step=0, failed=True), Cue("done", at="idle")])
    summary = s.run_episode(TASK, ch, scene=table(), plan=too_high)
    picks = [o for i, o in s.outcomes if o.skill == "pick"]
    assert picks[0].failure == "missed_grasp"
    assert picks[1].success, picks[1].message
    lower = s.corrections[0]
    assert lower.action == "redo" and lower.step == 0 and not lower.during_motion
    dz = lower.after[0]["args"]["offset"][2] - lower.before[0]["args"]["offset"][2]
    assert -0.06 <= dz <= -0.01
    assert summary.success is True
    rec = log.load(summary.episode_id)
    assert [st["outcome"]["success"] for st in rec["steps"]] == [False, True, True]


def test_undo_restores_the_arguments_exactly(world, policy) -> None:
    s = make(world, policy)
    s.start(TASK, table())
    assert s.step().success
    before = copy.deepcopy(s.plan)
    r = s.correct("a bit slower and 2 cm further forward")
    assert r.changed and r.changes
    r2 = s.correct("turn it a little clockwise")
    assert r2.changed
    u = s.correct("undo")
    assert u.kind == "undo" and u.after == r2.before
    u = s.correct("undo")
    assert s.plan == before  # exactly, floats included
    assert s.correct("undo").question == "there is nothing to undo"
    assert s.plan == before


def test_unknown_object_asks_and_changes_nothing(world, policy) -> None:
    s = make(world, policy)
    plan = s.start(TASK, table())
    r = s.correct("no, put it in the purple bowl")
    assert r.question and "purple" in r.question and not r.changed
    assert s.plan == plan and s.cursor == 0
    with pytest.raises(SessionError, match="cannot plan"):
        make(world, policy).start("put the red block in the green bowl", table(), plan=[{"skill": "pick", "args": {"object": "purple block"}}])


def test_give_up_ends_as_failure_and_retarget_after_a_step(world, policy, log) -> None:
    s = make(world, policy, log)
    ch = ScriptedChannel([Cue("no, the blue block", at="after_step", step=0), Cue("give up", at="after_step", step=0)])
    summary = s.run_episode(TASK, ch, scene=table())
    retarget = s.corrections[0]
    assert retarget.level == "plan" and retarget.after[0]["args"]["object"] == "blue block"
    assert retarget.action == "redo"
    assert summary.success is False and summary.status == "failure"
    rec = log.load(summary.episode_id)
    assert rec["status"] == "failure" and rec["final_plan"][0]["args"]["object"] == "blue block"


def test_dont_do_that_again_weakens_the_knowledge_applied_to_the_step(world, policy, log, tmp_path: Path) -> None:
    from memory.kb import KnowledgeBase

    with KnowledgeBase(tmp_path / "kb") as kb:
        kid = kb.add({"text": "red blocks: grip harder", "scope": "skill", "confidence": 0.8,
                      "effect": {"skill": "pick", "changes": [{"arg": "force", "op": "scale", "value": 1.5}]},
                      "conditions": {"skill": "pick", "object_color": "red"}})
        s = TeachingSession.for_sim(world, policy, kb=kb, log=log, config=SessionConfig(frames=False, learn=False))
        s.start(TASK, table())
        assert s.base_plan[0]["args"]["force"] == pytest.approx(20.0)
        assert s.initial_plan[0]["args"]["force"] == pytest.approx(30.0)
        assert any(f"#{kid}" in n for n in s.knowledge_notes)
        assert s.step().success
        r = s.correct("don't do that again")
        assert r.kind == "dont_again" and r.parsed["weakened"] == [kid]
        assert kb.get(kid).confidence < 0.8
        assert s.plan[0]["args"]["force"] == pytest.approx(20.0) and s.cursor == 1  # recorded, not redone
        assert any("pick: force 30 → 20" in c for c in r.changes)
        assert s.step().success and s.goal_satisfied()
        s.finish(True)
        rec = log.load(s.episode_id)
        assert rec["knowledge_used"][0]["id"] == kid and rec["base_plan"][0]["args"]["force"] == pytest.approx(20.0)
        assert rec["corrections"] == []  # weakened here once; kb.ingest must not weaken it again
        assert rec["utterances"][0]["utterance"] == "don't do that again"
        assert rec["final_plan"][0]["args"]["force"] == pytest.approx(20.0)


def test_retarget_drops_the_old_objects_tuning_and_takes_the_new_ones_knowledge(world, policy, log, tmp_path: Path) -> None:
    """Knowledge learned for the red block must not ride along onto the blue block after "no, the blue one"."""
    from memory.kb import KnowledgeBase

    with KnowledgeBase(tmp_path / "kb") as kb:
        kb.add({"text": "the red block is slippery: force x1.5", "scope": "skill", "confidence": 0.8,
                "effect": {"skill": "pick", "changes": [{"arg": "force", "op": "scale", "value": 1.5}]},
                "conditions": {"skill": "pick", "object_color": "red", "object_kind": "block"}})
        blue = kb.add({"text": "the blue block: pick 1 cm lower", "scope": "skill", "confidence": 0.8,
                       "effect": {"skill": "pick", "changes": [{"arg": "offset", "op": "add", "value": [0, 0, -0.01]}]},
                       "conditions": {"skill": "pick", "object_color": "blue", "object_kind": "block"}})
        s = TeachingSession.for_sim(world, policy, kb=kb, log=log, config=SessionConfig(frames=False, learn=False))
        s.start(TASK, table())
        assert s.plan[0]["args"]["force"] == pytest.approx(30.0)
        r = s.correct("no, the blue block")
        assert r.level == "plan" and s.plan[0]["args"]["object"] == "blue block"
        assert s.plan[0]["args"]["force"] == pytest.approx(20.0)
        assert s.plan[0]["args"]["offset"] == pytest.approx([0.0, 0.0, -0.01])
        # "don't do that again" on the retargeted step now finds the blue block's entry
        r = s.correct("don't do that again")
        assert r.parsed["weakened"] == [blue]
        assert s.plan[0]["args"]["offset"] == pytest.approx([0.0, 0.0, 0.0])
        assert s.plan[0]["args"]["force"] == pytest.approx(20.0)


def test_stop_then_a_correction_halts_and_the_step_resumes_with_the_correction(world, policy) -> None:
    s = make(world, policy)
    s.start(TASK, table(), plan=PLAN)
    s.channel = ScriptedChannel([Cue("stop, move your arm up a bit", at="moving", step=0, tick=25)])
    out = s.step()
    assert out.stopped and s.paused and s.cursor == 0
    r = s.corrections[-1]
    assert r.level == "stop" and any("offset z +" in c or "height" in c for c in r.changes), r.changes
    assert s.plan[0]["args"] != s.initial_plan[0]["args"], "the correction after the halt is kept for the resume"
    s.correct("undo")
    assert s.plan == s.initial_plan

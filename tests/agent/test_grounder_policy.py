"""The shipped checkpoint grounds corrections: unseen paraphrases, history, plan edits, clarification,
stop, and every output validates against the skill schemas."""
import math

import pytest

from agent.policy import Grounding
from grounder_helpers import call, obj, pick_place, scene_rgby, shipped_policy
from skills.schema import validate_plan


def ground(utterance, step=1, history=(), plan=None, scene=None):
    sc = scene or scene_rgby()
    pl = plan or pick_place()
    g = shipped_policy().ground(sc, "put the red block in the green bowl", pl, step, list(history), [], utterance)
    assert isinstance(g, Grounding)
    validate_plan(g.plan, sc)
    return g, pl


def delta(g, pl, step, axis):
    return g.plan[step]["args"]["offset"]["xyz".index(axis)] - pl[step]["args"]["offset"]["xyz".index(axis)]


# phrasings written for this test, not copied from the corpus pools
@pytest.mark.parametrize("utterance,axis,lo,hi", [
    ("could you shift it just a little bit further to the left", "y", 0.003, 0.025),
    ("move the thing to the right", "y", -0.065, -0.008),
    ("okay so put it a lot lower", "z", -0.21, -0.035),
    ("bring it four centimeters closer to me", "x", -0.046, -0.034),
    ("uh go up an inch", "z", 0.021, 0.03),
    ("a tad to the write", "y", -0.025, -0.003),
])
def test_unseen_paraphrases(utterance, axis, lo, hi):
    g, pl = ground(utterance)
    assert g.level == "skill", (utterance, g.parsed)
    assert lo <= delta(g, pl, 1, axis) <= hi, (utterance, g.changes)
    for other in "xyz".replace(axis, ""):
        assert abs(delta(g, pl, 1, other)) < 1e-9


def test_compound_and_scales():
    g, pl = ground("a little lower and a bit more to the right", step=1)
    assert -0.025 <= delta(g, pl, 1, "z") <= -0.003 and -0.025 <= delta(g, pl, 1, "y") <= -0.003
    g, pl = ground("please go a lot slower", step=0)
    assert 0.05 <= g.plan[0]["args"]["speed"] <= 0.7
    g, pl = ground("squeeze it harder", step=0)
    assert g.plan[0]["args"]["force"] > 20.0
    g, pl = ground("rotate it thirty degrees counterclockwise", step=0)
    assert g.plan[0]["args"]["yaw"] == pytest.approx(math.radians(30), abs=0.01)


def test_history_more_again_and_too_far():
    g, pl = ground("a little more", history=[{"utterance": "move left", "step": 1}])
    assert 0.003 <= delta(g, pl, 1, "y") <= 0.025 and g.level == "skill"
    g, pl = ground("do it again", step=0, history=[{"utterance": "lower", "step": 0}])
    assert -0.065 <= delta(g, pl, 0, "z") <= -0.008
    g, pl = ground("that was too far, back a bit", history=[{"utterance": "move left", "step": 1}])
    assert -0.025 <= delta(g, pl, 1, "y") <= -0.003
    g, pl = ground("keep going", history=[{"utterance": "move forward", "step": 1}, {"utterance": "more", "step": 1}])
    assert 0.008 <= delta(g, pl, 1, "x") <= 0.065
    # "more" with nothing to repeat asks instead of guessing
    g, pl = ground("again")
    assert g.level == "none" and g.plan == pl


def test_plan_edits():
    g, pl = ground("no, take the blue one", step=0)
    assert g.level == "plan" and g.plan[0]["args"]["object"] == "blue block"
    g, pl = ground("wrong bowl, the yellow one please", step=1)
    assert g.level == "plan" and g.plan[1]["args"]["target"] == "yellow bowl"
    sc = {"objects": [obj("large red block", "block", "red", 0.05, 0.45, 0.1), obj("small red block", "block", "red", 0.03, 0.6, -0.1),
                      obj("gray tray", "tray", "gray", 0.24, 0.5, 0.2)]}
    plan = pick_place("small red block", "gray tray")
    g, _ = ground("grab the bigger one", step=0, plan=plan, scene=sc)
    assert g.plan[0]["args"]["object"] == "large red block"
    g, _ = ground("also put the large red block in the tray", step=1, plan=plan, scene=sc)
    assert [s["skill"] for s in g.plan] == ["pick", "place", "pick", "place"]
    assert g.plan[2]["args"]["object"] == "large red block" and g.plan[3]["args"]["target"] == "gray tray"


def test_clarification_path_keeps_the_plan():
    for utt in ("no, the purple block", "use the orange bowl", "put it in the green block"):
        g, pl = ground(utt, step=0)
        assert g.level == "none" and g.plan == pl and g.question, utt
        assert "I see: red block, blue block, green bowl, yellow bowl" in g.question
    g, pl = ground("no, the purple block", step=0)
    assert g.question.startswith("there is no purple block")


def test_stop_and_praise():
    for utt in ("stop", "wait!", "halt", "hold on a second"):
        g, pl = ground(utt)
        assert g.level == "stop" and g.plan == pl
    for utt in ("great, that's exactly right", "nice work"):
        g, pl = ground(utt)
        assert g.level == "none" and g.plan == pl and not g.question


def test_never_mutates_and_bad_input_is_refused():
    from agent.policy import PolicyError

    pl = pick_place()
    before = [dict(s, args=dict(s["args"])) for s in pl]
    shipped_policy().ground(scene_rgby(), "", pl, 1, [], [], "a lot more to the left")
    assert pl == before
    with pytest.raises(PolicyError, match="step 5"):
        shipped_policy().ground(scene_rgby(), "", pl, 5, [], [], "left")
    with pytest.raises(PolicyError, match="there is no pink bowl"):
        shipped_policy().ground(scene_rgby(), "", [call("pick", object="red block"), call("place", target="pink bowl")], 1, [], [], "left")


def test_several_numbers_go_to_the_axes_they_were_said_with():
    g, pl = ground("5 mm up and 2 cm to the left")
    assert delta(g, pl, 1, "z") == pytest.approx(0.005, abs=1e-6) and delta(g, pl, 1, "y") == pytest.approx(0.02, abs=1e-6)
    g, pl = ground("one centimeter lower and three centimeters further away")
    assert delta(g, pl, 1, "z") == pytest.approx(-0.01, abs=1e-6) and delta(g, pl, 1, "x") == pytest.approx(0.03, abs=1e-6)


def test_a_direction_word_is_not_read_as_undo_and_restatements_and_slips_are_read_through():
    """"move back" after "move left" is the contract's -x (not "undo that"); "undo that" still undoes; "I said ..." and
    a near-miss word ("harter") are read as the words meant (agent.grounder.spelling)."""
    history = [{"utterance": "move left", "step": 1}]
    g, pl = ground("move back", history=history)
    assert delta(g, pl, 1, "x") < -0.005 and abs(delta(g, pl, 1, "y")) < 1e-9
    g, pl = ground("undo that", history=history)
    assert g.level == "skill" and abs(delta(g, pl, 1, "x")) < 1e-9
    g, pl = ground("I said squeeze it harter", step=0)
    assert g.level == "skill" and not g.question and g.plan[0]["args"]["force"] > 20.0
    assert g.parsed["respelled"] == {"harter": "harder"} and g.parsed["heard_as"] == "squeeze it harder"


def test_a_bare_not_right_is_a_complaint_not_a_direction():
    for u in ("not right", "no, not quite right", "uh not right"):
        g, pl = ground(u)
        assert g.level == "none" and g.plan == pl and g.question is None, (u, g.changes)
    g, pl = ground("not right, a bit more to the left")
    assert g.level == "skill" and delta(g, pl, 1, "y") > 0


def test_a_kind_word_heard_as_a_colour_or_a_thing_the_scene_lacks_is_read_as_the_kind():
    g, pl = ground("I meant the blue black", step=0)
    assert g.level == "plan" and g.plan[0]["args"]["object"] == "blue block", (g.question, g.changes)
    g, pl = ground("no, the yellow ball")
    assert g.level == "plan" and g.plan[1]["args"]["target"] == "yellow bowl", (g.question, g.changes)
    g, pl = ground("no, the black block", step=0)  # a black block the scene lacks stays a question
    assert g.level == "none" and "no black" in g.question


def test_a_reading_that_refers_back_to_nothing_takes_the_direction_its_words_name():
    # said first, "come back a touch" / "back it up" cannot mean "less of the last change": the words say -x
    g, pl = ground("come back a touch")
    assert g.level == "skill" and -0.02 < delta(g, pl, 1, "x") < 0 and abs(delta(g, pl, 1, "y")) < 1e-9
    g, pl = ground("back it up")
    assert g.level == "skill" and delta(g, pl, 1, "x") < 0
    g, pl = ground("less")  # no direction said: still asks
    assert g.level == "none" and g.question

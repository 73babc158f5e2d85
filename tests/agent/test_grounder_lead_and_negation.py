"""Words the model reads but must not act on as it would: an unknown verb in front of a full correction ("dip
down a little"), a direction said NOT to take ("don't go down"), and "too far" / "back it up" said at another
object's steps than the change it would take back (agent/grounder/lead_words.py, negation.py, policy._direct)."""
from __future__ import annotations

from grounder_helpers import call, pick_place, scene_rgby, shipped_policy
from agent.grounder.lead_words import rest_after_lead, says_nothing
from agent.grounder.negation import goes_negated_way, negated

TASK = "put the red block in the green bowl"


def two_pairs() -> tuple[dict, list[dict]]:
    sc = scene_rgby()
    return sc, pick_place() + [call("pick", object="blue block"), call("place", target="green bowl")]


def ground(utterance: str, step: int = 1, history=(), plan=None, scene=None):
    sc = scene or scene_rgby()
    pl = plan or pick_place()
    return shipped_policy().ground(sc, TASK, pl, step, list(history), [], utterance), pl


def offset_delta(g, pl, step: int) -> list[float]:
    return [round(a - b, 4) for a, b in zip(g.plan[step]["args"]["offset"], pl[step]["args"]["offset"])]


def test_rest_after_lead_only_takes_unknown_words_in_front() -> None:
    assert rest_after_lead("dip down a little", ["dip"]) == "down a little"
    assert rest_after_lead("gently dip it lower", ["gently", "dip"]) == "it lower"
    assert rest_after_lead("much further bag", ["bag"]) is None  # not in front
    assert rest_after_lead("dont go down", ["dont"]) is None  # may negate
    assert rest_after_lead("unlift it", ["unlift"]) is None
    assert rest_after_lead("dip", ["dip"]) is None  # nothing left to read
    assert rest_after_lead("dip and dip down", ["dip"]) is None  # the word also comes later


def test_an_unknown_verb_before_a_full_correction_is_read_past() -> None:
    g, pl = ground("dip down a little")
    assert g.level == "skill" and g.parsed["read_without"] == ["dip"]
    dx, dy, dz = offset_delta(g, pl, 1)
    assert dx == dy == 0 and -0.025 <= dz < 0
    g, _ = ground("much further bag")  # an unknown word where the direction goes: ask
    assert g.level == "none" and g.question and "bag" in g.question


def test_negated_lists_the_ways_said_not_to_go() -> None:
    assert negated("don't go down") == {("z", "-")}
    assert negated("do not move it left, go right") == {("y", "+")}
    assert negated("not so far") == set() and negated("don't grip so hard") == set()
    assert goes_negated_way({"y": "+m"}, {}, "never go left")
    assert not goes_negated_way({"y": "-m"}, {}, "not left but right")


def test_a_negated_direction_never_moves_the_arm_that_way() -> None:
    for text in ("don't go down", "do not move left", "never go left"):
        g, pl = ground(text)
        assert g.level == "none" and g.question and not any(offset_delta(g, pl, 1)), text
    for text in ("no, not left, right", "not left but right"):  # the model alone read both as left
        g, pl = ground(text)
        assert g.level == "skill" and offset_delta(g, pl, 1)[1] < 0 and g.parsed.get("negated_clause"), text
    g, pl = ground("don't grip so hard", step=0)  # the reading goes the other way: it stands
    assert g.level == "skill" and g.plan[0]["args"]["force"] < pl[0]["args"]["force"]


def test_back_it_up_at_another_objects_steps_is_a_move_back() -> None:
    sc, pl = two_pairs()
    hist = [{"utterance": "shift it right", "step": 1}]
    g, _ = ground("back it up", step=3, history=hist, plan=pl, scene=sc)
    assert g.level == "skill" and offset_delta(g, pl, 3)[0] < 0 and offset_delta(g, pl, 3)[1] == 0
    g, _ = ground("too far", step=3, history=hist, plan=pl, scene=sc)  # nothing of this block's to take back
    assert g.level == "none" and g.question
    moved = shipped_policy().ground(sc, TASK, pl, 1, [], [], "shift it right").plan
    g, _ = ground("too far", step=1, history=hist, plan=moved, scene=sc)  # the same block's change: taken back in part
    assert g.level == "skill" and 0 < g.plan[1]["args"]["offset"][1] - moved[1]["args"]["offset"][1] <= 0.012 + 1e-9


def test_words_that_name_no_change_never_move_the_arm() -> None:
    assert says_nothing("move") and says_nothing("to the") and says_nothing("come") and says_nothing("uh, move it")
    assert not says_nothing("come closer") and not says_nothing("left") and not says_nothing("")
    for text in ("to the", "come", "move it"):  # the model alone read "to the" as right and "come" as slower
        g, pl = ground(text)
        assert g.level == "none" and g.question and g.plan == pl, text
    g, pl = ground("come closer")
    assert g.level == "skill" and offset_delta(g, pl, 1)[0] < 0


def test_contractions_negate_and_not_x_enough_wants_more_of_x() -> None:
    assert negated("you didn't grip it hard enough") == {("force", "-")}
    assert negated("it isn't left enough") == {("y", "-")} and negated("you're not low enough") == {("z", "+")}
    assert negated("that wasnt left") == {("y", "+")}
    assert negated("couldn't you go a bit lower") == set()  # a request, not a negation
    g, pl = ground("you didn't grip it hard enough", step=0)  # the model alone read it as a softer grip, 0.91 sure
    assert g.level == "none" and g.question and g.plan == pl
    g, pl = ground("couldn't you go a bit lower")
    assert g.level == "skill" and offset_delta(g, pl, 1)[2] < 0


def test_an_unknown_contraction_is_named_as_it_was_said() -> None:
    g, _ = ground("it didn't go in")
    assert g.level == "none" and g.question and "didn't" in g.question and "'didn'" not in g.question


def test_a_hesitation_sound_never_moves_the_arm() -> None:
    # the model read a bare "mm" (a unit without a number) as 3 cm down, 0.76 sure, alone or as a clause
    for text in ("mm", "hmm", "mm, how are you", "mm, what time is it"):
        g, pl = ground(text)
        assert g.level == "none" and g.plan == pl, text
    g, pl = ground("5 mm lower")
    assert g.level == "skill" and -0.006 < offset_delta(g, pl, 1)[2] < 0
    g, pl = ground("hmm, a bit lower")
    assert g.level == "skill" and offset_delta(g, pl, 1)[2] < 0


OVERDONE = {  # complaint alone -> the way the arm must not go further (head, sign)
    "too high": ("z", "+"), "you're way too low": ("z", "-"), "too far to the left": ("y", "+"),
    "it went too far left": ("y", "+"), "that's too much to the right": ("y", "-"), "way too far forward": ("x", "+"),
    "you are too close to me": ("x", "-"), "it's too far over to the right": ("y", "-"),
}


def test_a_complaint_that_a_way_was_overdone_steps_back_the_other_way() -> None:
    from agent.grounder.negation import overdone_only, too_far

    assert too_far("too far") == set() and too_far("me too") == set() and too_far("move it left too") == set()
    assert overdone_only("too high") == ("z", "+", "m") and overdone_only("too high, go down a bit") is None
    assert overdone_only("not too high") is None and overdone_only("you're a bit too far right") == ("y", "-", "s")
    axes = {"x": 0, "y": 1, "z": 2}
    for text, (head, sign) in OVERDONE.items():
        assert too_far(text) == {(head, sign)}, text
        g, pl = ground(text)  # the model alone read "too high" as up, "too far to the left" as left (0.78-0.90)
        d = offset_delta(g, pl, 1)[axes[head]] if g.level == "skill" else 0.0
        assert g.level == "skill" and g.parsed.get("overdone") and (d < 0) == (sign == "+") and d != 0, (text, g.changes)
    g, pl = ground("you're a bit too far right")  # a small step back
    assert 0 < offset_delta(g, pl, 1)[1] <= 0.02
    g, pl = ground("too high, go down a bit")  # the fix said with it stands
    assert g.level == "skill" and offset_delta(g, pl, 1)[2] < 0
    g, _ = ground("too fast")
    assert g.level == "skill" and g.plan[1]["args"]["speed"] < 1.0


def test_a_turn_toward_a_side_turns_the_gripper_and_never_moves_it_sideways() -> None:
    from agent.grounder.turns import turned_side

    assert turned_side("rotate left") == "+" and turned_side("twist it to the right a bit") == "-"
    assert turned_side("turn the gripper a little to the left") == "+"
    assert turned_side("rotate it clockwise") is None and turned_side("turn it and move left") is None
    assert turned_side("move it left") is None and turned_side("a bit to the left") is None
    for text, sign in (("rotate left", 1), ("turn it to the right", -1), ("rotate the gripper left a little", 1)):
        g, pl = ground(text)  # the model alone read these as a 3 cm move sideways (0.90 sure)
        assert g.level == "skill" and g.parsed.get("turned"), (text, g.changes)
        assert offset_delta(g, pl, 1) == [0.0, 0.0, 0.0], (text, g.changes)
        assert sign * (g.plan[1]["args"]["yaw"] - pl[1]["args"]["yaw"]) > 0.1, (text, g.changes)
    g, pl = ground("move it to the left")  # a move stays a move
    assert offset_delta(g, pl, 1)[1] > 0 and g.plan[1]["args"]["yaw"] == pl[1]["args"]["yaw"]


def test_a_clause_that_says_the_other_way_makes_the_utterance_ask_however_unsure_it_reads() -> None:
    """Two clauses that change one argument opposite ways are a contradiction even when only one of them is read
    surely: the policy asks instead of acting on the sure one (these moved or sped up the arm before)."""
    for text in ("increase the speed, and also cut the speed", "all right, come from higher, and also less lift right away"):
        g, pl = ground(text)
        assert g.level == "none" and g.plan == pl and g.question, text
    g, pl = ground("slow down, that's too fast")  # two clauses the same way still act
    assert g.level == "skill"


def test_contradicted_compares_each_clause_with_the_sure_ones() -> None:
    from agent.grounder.apply import Intent
    from agent.grounder.labels import SCALE_HEADS, SIGNED_HEADS
    from agent.grounder.reader import contradicted

    def reading(level: str = "skill", **changes: str) -> Intent:
        return Intent(level=level, hist="new", hmag="same", signed={h: changes.get(h, "none") for h in SIGNED_HEADS},
                      scale={h: changes.get(h, "none") for h in SCALE_HEADS}, plan_op="none")

    up, down, left = reading(z="+m"), reading(z="-s"), reading(y="+m")
    assert contradicted([up], [up, down])
    assert not contradicted([up], [up, left, reading("none")])
    assert not contradicted([up], [reading("unclear", z="-m")])  # only a reading of a change counts


def test_a_clause_that_only_approves_names_no_change() -> None:
    from agent.grounder.lead_words import approves

    for text in ("now that's the right grip", "that is correct", "it's perfect there", "yes, that's the right block", "that's right"):
        assert approves(text.replace(",", "")), text
    for text in ("that's too far right", "it's right of the bowl", "it's right above it", "move right", "a firmer grip"):
        assert not approves(text), text
    for text in ("that's the right grip, carry on", "now that's the right grip. carry on right away"):
        g, pl = ground(text)
        assert g.plan == pl, text  # praise with "right" and "grip" in it never moves or re-grips

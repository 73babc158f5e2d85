"""The observing simulated user: it gets only observations, learns of physical quirks from what goes wrong,
corrects its own wishes while the arm heads elsewhere, speaks like a person (vague, backwards then "the other
way", restatements, praise) and says nothing when the outcome is right."""
from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from sim.observe import IN, NEAR, ON_RIM, Observation, Seen
from sim.phrases import PhraseBank
from sim.user import SimulatedUser, UserConfig, Wish, YawWish

ROOT = Path(__file__).resolve().parents[2]
DEV_BANK = ROOT.parent / "shared" / "eval" / "phrases_dev.json"

BLOCK = Seen("red block", "block", "red", "medium", (0.5, 0.1, 0.02))
OTHER = Seen("blue block", "block", "blue", "medium", (0.45, -0.1, 0.02))
BOWL = Seen("green bowl", "bowl", "green", "", (0.6, -0.2, 0.03))
SEEN = (BLOCK, OTHER, BOWL)
PICK, PLACE = 0, 1


def quiet(**kw) -> UserConfig:
    """A user without randomness in what it says (no noise, no vague phrases, no backwards directions)."""
    base = dict(wrong_direction_rate=0.0, vague_rate=0.0, word_noise=0.0, number_rate=0.0, praise_rate=0.0)
    return UserConfig(**{**base, **kw})


def user(wishes=(), **kw) -> SimulatedUser:
    return SimulatedUser(SEEN, [("red block", "green bowl")], wishes, PhraseBank.load(), quiet(**kw))


def obs(phase, step, skill, objects=SEEN, rel=(), **kw) -> Observation:
    return Observation(phase=phase, step=step, skill=skill, objects=tuple(objects), relations=tuple(rel), **kw)


def at(seen: Seen, xyz) -> Seen:
    return Seen(seen.name, seen.kind, seen.color, seen.size, tuple(xyz))


def test_says_nothing_before_anything_goes_wrong_and_nothing_when_the_outcome_is_right():
    u = user()
    # the arm heads for the right block: whatever its hidden physics, the user cannot know it yet
    assert u.watch(obs("moving", PICK, "pick", heading=(0.5, 0.1, 0.02), heading_to="red block", object="red block")) is None
    assert u.react(obs("after_step", PICK, "pick", held="red block", step_ok=True, object="red block")) is None
    done = (at(BLOCK, (0.6, -0.2, 0.03)), OTHER, BOWL)
    assert u.react(obs("after_step", PLACE, "place", done, rel=[("red block", "green bowl", IN)], step_ok=True,
                       object="red block", picked_at=PICK)) is None
    assert u.at_end(obs("idle", PLACE, "place", done, rel=[("red block", "green bowl", IN)], plan_done=True), {"green bowl": PLACE}) is None
    assert u.n_corrections == 0


def test_physical_quirks_are_discovered_from_what_goes_wrong():
    u = user()
    s = u.react(obs("after_step", PICK, "pick", step_ok=False, event="slipped", object="red block"))
    assert (s.intent, s.sign, s.after_outcome) == ("force", +1, True)
    s = u.react(obs("after_step", PICK, "pick", step_ok=False, event="missed_grasp", object="red block"))
    assert s.after_outcome and s.intent in ("offset", "force")
    # dropped on the way: the grip was too weak, and the correction refers to the pick
    s = u.react(obs("after_step", PLACE, "place", step_ok=False, event="dropped", object="red block", picked_at=PICK,
                    rel=[("red block", "green bowl", NEAR)]))
    assert (s.intent, s.step) == ("force", PICK)
    s = u.react(obs("after_step", PICK, "pick", step_ok=False, event="knocked_over", object="red block"))
    assert (s.intent, s.sign) == ("height", +1)


def test_a_block_on_the_rim_makes_the_user_try_a_side_then_another():
    u = user()
    rim = (at(BLOCK, (0.6, -0.2, 0.08)), OTHER, BOWL)
    s1 = u.react(obs("after_step", PLACE, "place", rim, rel=[("red block", "green bowl", ON_RIM)], step_ok=False,
                     event="missed_target", object="red block", picked_at=PICK))
    assert s1.intent == "offset" and s1.amount_m == pytest.approx(0.035, abs=1e-6)
    side1 = (s1.axis, s1.sign)
    u.heard(s1, changed=True, asked=False)
    s2 = u.react(obs("after_step", PLACE, "place", rim, rel=[("red block", "green bowl", ON_RIM)], step_ok=False,
                     event="missed_target", object="red block", picked_at=PICK))
    assert (s2.axis, s2.sign) != side1, "after a side that did not work it tries another"
    # it went in: the spot is remembered; the next block heading elsewhere in the same task is corrected in motion
    inside = (at(BLOCK, (0.6 + 0.035 * (side1 == ("x", 1)) - 0.035 * (side1 == ("x", -1)), -0.2, 0.03)), OTHER, BOWL)
    u2 = SimulatedUser(SEEN, [("red block", "green bowl"), ("blue block", "green bowl")], (), PhraseBank.load(), quiet())
    u2._spots["green bowl"] = (0.035, 0.0)
    s = u2.watch(obs("moving", 3, "place", inside, heading=(0.6, -0.2, 0.1), heading_to="green bowl", held="blue block",
                     object="blue block", picked_at=2))
    assert (s.intent, s.axis, s.sign, s.after_outcome) == ("offset", "x", +1, False)


def test_its_own_wish_is_corrected_while_the_arm_heads_elsewhere():
    u = user([Wish("green bowl", (0.0, 0.03), 0.01)])
    s = u.watch(obs("moving", PLACE, "place", heading=(0.6, -0.2, 0.1), heading_to="green bowl", held="red block",
                    object="red block", picked_at=PICK))
    assert (s.intent, s.axis, s.sign, s.magnitude) == ("offset", "y", +1, "medium") and not s.after_outcome
    assert u.watch(obs("moving", PLACE, "place", heading=(0.6, -0.2, 0.1), heading_to="green bowl", held="red block")) is None  # once per motion
    ok = user([Wish("green bowl", (0.0, 0.03), 0.01)])
    assert ok.watch(obs("moving", PLACE, "place", heading=(0.6, -0.17, 0.1), heading_to="green bowl", held="red block",
                        object="red block")) is None


def test_wrong_object_and_wrong_container_are_retargeted_in_motion():
    u = user()
    s = u.watch(obs("moving", PICK, "pick", heading=(0.45, -0.1, 0.02), heading_to="blue block", object="blue block"))
    assert s.intent == "retarget_object" and s.value == "red block" and "red block" in s.text
    u = SimulatedUser(SEEN + (Seen("yellow bowl", "bowl", "yellow", "", (0.4, 0.22, 0.03)),), [("red block", "green bowl")],
                      (), PhraseBank.load(), quiet())
    s = u.watch(obs("moving", PLACE, "place", heading=(0.4, 0.22, 0.1), heading_to="yellow bowl", held="red block", object="red block"))
    assert s.intent == "retarget_target" and "green bowl" in s.text


def test_backwards_direction_is_taken_back_and_unheeded_words_are_restated():
    u = user([Wish("green bowl", (0.0, 0.03), 0.01)], wrong_direction_rate=1.0)
    s = u.watch(obs("moving", PLACE, "place", heading=(0.6, -0.2, 0.1), heading_to="green bowl", held="red block", object="red block"))
    assert s.wrong_direction and s.sign == -1
    u.heard(s, changed=True, asked=False)
    back = u.react(obs("after_step", PLACE, "place", step_ok=True, object="red block"))
    assert back.intent == "other_way" and (back.axis, back.sign) == ("y", +1) and back.counts
    # the robot announced a move the way the user really wanted (it misheard the backwards words): nothing to take back
    w = user([Wish("green bowl", (0.0, 0.03), 0.01)], wrong_direction_rate=1.0)
    s = w.watch(obs("moving", PLACE, "place", heading=(0.6, -0.2, 0.1), heading_to="green bowl", held="red block", object="red block"))
    w.heard(s, changed=True, asked=False, moved=-s.sign)
    nxt = w.react(obs("after_step", PLACE, "place", step_ok=True, object="red block"))
    assert nxt is None or nxt.intent != "other_way"
    r = user([Wish("green bowl", (0.0, 0.03), 0.01)])
    s = r.watch(obs("moving", PLACE, "place", heading=(0.6, -0.2, 0.1), heading_to="green bowl", held="red block", object="red block"))
    r.heard(s, changed=False, asked=True)
    again = r.at_end(obs("idle", PLACE, "place"), {})
    assert again.restated and again.intent == s.intent and (again.axis, again.sign) == (s.axis, s.sign)
    assert again.clean_text != s.clean_text
    assert r.n_corrections == 2


def test_vague_words_praise_patience_and_noise():
    u = user(vague_rate=1.0)
    s = u.react(obs("after_step", PICK, "pick", step_ok=False, event="slipped", object="red block"))
    assert s.intent == "vague_pick" and s.text in PhraseBank.load().data["vague_pick"]
    s = u.react(obs("after_step", PICK, "pick", step_ok=False, event="slipped", object="red block"))
    assert s.intent != "vague_pick", "never vague twice in a row"
    p = user(praise_rate=1.0)
    p.react(obs("after_step", PICK, "pick", step_ok=False, event="slipped", object="red block"))
    s = p.react(obs("after_step", PICK, "pick", step_ok=True, held="red block", object="red block"))
    assert s.intent == "confirm" and not s.counts
    g = user(patience=2)
    for _ in range(2):
        assert g.react(obs("after_step", PICK, "pick", step_ok=False, event="slipped", object="red block")) is not None
    assert g.react(obs("after_step", PICK, "pick", step_ok=False, event="slipped", object="red block")) is None and g.gave_up
    n = user(word_noise=1.0)
    s = n.react(obs("after_step", PICK, "pick", step_ok=False, event="slipped", object="red block"))
    assert s.text != s.clean_text


def test_defaults_are_noisy_and_the_dev_bank_works_with_borrowed_categories():
    c = UserConfig()
    assert c.wrong_direction_rate > 0 and c.vague_rate > 0 and c.word_noise > 0
    with pytest.raises(ValueError, match="vague_rate"):
        UserConfig(vague_rate=2.0)
    if not DEV_BANK.exists():
        pytest.skip(f"no dev phrase bank at {DEV_BANK}")
    dev = PhraseBank.load(DEV_BANK)
    assert "vague_pick" not in dev.data and dev.has("vague_pick") and dev.has("other_way")
    u = SimulatedUser(SEEN, [("red block", "green bowl")], (), dev, quiet(vague_rate=1.0), random.Random(0))
    s = u.react(obs("after_step", PICK, "pick", step_ok=False, event="slipped", object="red block"))
    assert s.text in PhraseBank.load().data["vague_pick"]


def test_told_a_word_is_unknown_the_user_restates_without_it() -> None:
    from sim.user import unknown_words_named

    assert unknown_words_named("I don't know the words 'aye', 'skosh'; did you mean up?") == {"aye", "skosh"}
    assert unknown_words_named("I am not sure what 'port' means") == frozenset() and unknown_words_named(None) == frozenset()
    assert unknown_words_named("I don't know the word \"didn't\"; did you mean back?") == {"didn"}  # as phrases.words_of splits it
    sailor = PhraseBank.load(str(Path(__file__).resolve().parents[2] / "sim" / "phrases" / "sailor.json"))
    checked = 0
    for seed in range(12):
        u = SimulatedUser(SEEN, [("red block", "green bowl")], [Wish("green bowl", (0.0, 0.03), 0.01)], sailor,
                          quiet(number_rate=0.5, seed=seed))
        s = u.watch(obs("moving", PLACE, "place", heading=(0.6, -0.2, 0.1), heading_to="green bowl", held="red block", object="red block"))
        assert s.intent == "offset" and s.axis == "y" and s.sign == 1
        if "port" not in s.clean_text:
            continue  # the plain phrase ("move it leftward"): the robot would not have named "port"
        checked += 1
        u.heard(s, changed=False, asked=True, question="I don't know the word 'port'; did you mean back? say it again in other words")
        again = u.at_end(obs("idle", PLACE, "place"), {})
        assert again.restated and "port" not in again.clean_text and (again.axis, again.sign) == ("y", 1)
    assert checked >= 4


def test_a_spot_that_gave_no_trouble_is_not_required_of_the_next_block():
    two = [("red block", "green bowl"), ("blue block", "green bowl")]
    u = SimulatedUser(SEEN, two, (), PhraseBank.load(), quiet())
    inside = (at(BLOCK, (0.62, -0.2, 0.03)), OTHER, BOWL)
    assert u.react(obs("after_step", PLACE, "place", inside, rel=[("red block", "green bowl", IN)], step_ok=True,
                       object="red block", picked_at=PICK)) is None
    # the first block went in 2 cm forward of the centre with no trouble: the second may go to the centre
    assert u.watch(obs("moving", 3, "place", inside, rel=[("red block", "green bowl", IN)], heading=(0.6, -0.2, 0.1),
                       heading_to="green bowl", held="blue block", object="blue block", picked_at=2)) is None


def test_a_block_left_on_top_of_the_first_is_asked_beside_it_and_the_wish_allows_the_spot_beside():
    tray = Seen("gray tray", "tray", "gray", "", (0.5, 0.2, 0.01))
    first, second = at(BLOCK, (0.5, 0.2, 0.03)), at(OTHER, (0.505, 0.2, 0.07))
    goal = [("red block", "gray tray"), ("blue block", "gray tray")]
    u = SimulatedUser((BLOCK, OTHER, tray), goal, (), PhraseBank.load(), quiet())
    rel = [("red block", "gray tray", IN), ("blue block", "gray tray", ON_RIM)]
    s = u.react(obs("after_step", 3, "place", (first, second, tray), rel=rel, step_ok=False, event="missed_target",
                    object="blue block", picked_at=2))
    # not "try again" at the spot it cannot take, nor a side of a bowl: beside the block (4 cm blocks, 1 cm gap)
    assert s.intent == "offset" and s.amount_m == pytest.approx(0.05 - 0.005, abs=0.006)
    # with a wish, a block resting beside the one that took the wished spot is where the user wants it
    w = SimulatedUser((BLOCK, OTHER, tray), goal, [Wish("gray tray", (0.0, 0.0), 0.015)], PhraseBank.load(), quiet())
    beside = (first, at(OTHER, (0.5, 0.25, 0.03)), tray)
    rel = [("red block", "gray tray", IN), ("blue block", "gray tray", IN)]
    assert w.at_end(obs("idle", 3, "place", beside, rel=rel, plan_done=True), {"gray tray": 3}) is None
    far = (first, at(OTHER, (0.5, 0.30, 0.03)), tray)
    assert w.at_end(obs("idle", 3, "place", far, rel=rel, plan_done=True), {"gray tray": 3}) is not None


def test_a_place_that_never_went_to_the_target_is_answered_with_the_target():
    u = user()
    s = u.react(obs("after_step", PLACE, "place", SEEN, step_ok=False, held="red block", object="red block", picked_at=PICK))
    assert (s.intent, s.value) == ("retarget_target", "green bowl")


def turned(seen: Seen, yaw: float) -> Seen:
    return Seen(seen.name, seen.kind, seen.color, seen.size, seen.position, seen.upright, yaw)


def test_a_block_about_to_go_down_turned_off_square_is_turned_while_the_arm_moves():
    """The yaw wish (``square_pref``): the user sees how the carried block will be turned (``heading_yaw``) and says
    which way to turn it, once per motion; a quarter turn off looks the same as square."""
    u = SimulatedUser(SEEN, [("red block", "green bowl")], (), PhraseBank.load(), quiet(), yaw_wishes=[YawWish("green bowl", 0.0, 0.15)])
    moving = dict(heading=(0.6, -0.2, 0.1), heading_to="green bowl", held="red block", object="red block", picked_at=PICK)
    s = u.watch(obs("moving", PLACE, "place", heading_yaw=0.4, **moving))
    assert (s.intent, s.arg, s.sign, s.magnitude) == ("yaw", "yaw", -1, "medium") and not s.after_outcome
    assert u.watch(obs("moving", PLACE, "place", heading_yaw=0.4, **moving)) is None  # once per motion
    for yaw in (0.1, -0.1, math.pi / 2 + 0.05, -math.pi / 2):
        ok = SimulatedUser(SEEN, [("red block", "green bowl")], (), PhraseBank.load(), quiet(), yaw_wishes=[YawWish("green bowl", 0.0, 0.15)])
        assert ok.watch(obs("moving", PLACE, "place", heading_yaw=yaw, **moving)) is None, yaw
    small = SimulatedUser(SEEN, [("red block", "green bowl")], (), PhraseBank.load(), quiet(), yaw_wishes=[YawWish("green bowl", 0.0, 0.15)])
    s = small.watch(obs("moving", PLACE, "place", heading_yaw=math.pi / 2 + 0.2, **moving))
    assert (s.sign, s.magnitude) == (-1, "small")
    assert "rotate" in s.text or "turn" in s.text or "twist" in s.text or "clockwise" in s.text


def test_a_block_put_down_turned_off_square_is_turned_after_the_place_and_at_the_end():
    wish = YawWish("green bowl", 0.0, 0.15)
    in_bowl = (("red block", "green bowl", IN),)
    placed = (turned(at(BLOCK, (0.6, -0.2, 0.05)), -0.5), OTHER, BOWL)
    u = SimulatedUser(SEEN, [("red block", "green bowl")], (), PhraseBank.load(), quiet(), yaw_wishes=[wish])
    s = u.react(obs("after_step", PLACE, "place", objects=placed, rel=in_bowl, object="red block", step_ok=True))
    assert (s.intent, s.sign, s.step, s.after_outcome) == ("yaw", +1, PLACE, True)
    v = SimulatedUser(SEEN, [("red block", "green bowl")], (), PhraseBank.load(), quiet(), yaw_wishes=[wish])
    s = v.at_end(obs("idle", PLACE, None, objects=placed, rel=in_bowl, plan_done=True), {"green bowl": PLACE})
    assert (s.intent, s.sign, s.step) == ("yaw", +1, PLACE)
    square = (turned(at(BLOCK, (0.6, -0.2, 0.05)), 0.05), OTHER, BOWL)
    assert v.at_end(obs("idle", PLACE, None, objects=square, rel=in_bowl, plan_done=True), {"green bowl": PLACE}) is None
    plain = user()  # no wish: a turned block is fine
    assert plain.react(obs("after_step", PLACE, "place", objects=placed, rel=in_bowl, object="red block", step_ok=True)) is None


def test_a_turn_it_did_not_act_on_is_restated():
    u = SimulatedUser(SEEN, [("red block", "green bowl")], (), PhraseBank.load(), quiet(), yaw_wishes=[YawWish("green bowl", 0.0, 0.15)])
    s = u.watch(obs("moving", PLACE, "place", heading=(0.6, -0.2, 0.1), heading_to="green bowl", held="red block",
                    heading_yaw=-0.3, object="red block", picked_at=PICK))
    u.heard(s, changed=False, asked=True, question="Which way should I turn it?")
    r = u.react(obs("after_step", PLACE, "place", object="red block", step_ok=True))
    assert r.intent == "yaw" and r.restated and r.sign == +1

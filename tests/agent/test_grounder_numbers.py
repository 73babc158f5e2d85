"""The deterministic layer: numbers with units, safety words, unknown colour/kind words."""
import math

import pytest

from agent.grounder.numbers import angles, is_safety_stop, lengths, parse_quantities
from agent.grounder.scene_words import unknown_reference
from grounder_helpers import scene_rgby


@pytest.mark.parametrize("text,metres", [
    ("3 cm to the left", 0.03), ("5 millimeters lower", 0.005), ("move it two centimeters forward", 0.02),
    ("an inch up", 0.0254), ("half an inch left", 0.0127), ("1.5 cm higher", 0.015), ("twenty five mm back", 0.025),
    ("one and a half centimetres", 0.015), ("3cm right", 0.03), ("0.05 m forward", 0.05), ("2 inches down", 0.0508),
])
def test_lengths(text, metres):
    assert lengths(text) == pytest.approx([metres])


@pytest.mark.parametrize("text,deg", [("rotate 45 degrees clockwise", 45), ("turn ten deg", 10), ("a quarter turn", 90)])
def test_angles(text, deg):
    assert angles(text) == pytest.approx([math.radians(deg)])


def test_several_numbers_in_order_and_no_false_numbers():
    q = parse_quantities("2 cm left and 5 mm up, then rotate 30 degrees")
    assert [round(x.value, 4) for x in q] == [0.02, 0.005, round(math.radians(30), 4)]
    assert [x.kind for x in q] == ["length", "length", "angle"]
    for text in ("put it in the bowl", "a bit to the left", "the red one", "move two the left"):
        assert parse_quantities(text) == []


@pytest.mark.parametrize("text", ["stop", "STOP!", "wait", "halt please", "hold on", "okay stop now", "freeze"])
def test_safety_words(text):
    assert is_safety_stop(text)


@pytest.mark.parametrize("text", ["a bit to the left", "hold it tighter", "hold on tighter", "slow down", "grip harder"])
def test_not_safety(text):
    assert not is_safety_stop(text)


def test_unknown_colour_and_kind():
    objs = scene_rgby()["objects"]
    q = unknown_reference("no, the purple block", objs)
    assert q.startswith("there is no purple block; I see: red block, blue block")
    assert unknown_reference("use the green block", objs).startswith("there is no green block")  # green bowl only
    assert unknown_reference("grab the ball", objs).startswith("there is no ball")
    assert unknown_reference("no, the blue block", objs) is None
    assert unknown_reference("wrong bowl, use the yellow one", objs) is None
    assert unknown_reference("a bit to the left", objs) is None


@pytest.mark.parametrize("text,factor", [("twice as fast", 2.0), ("double the speed", 2.0), ("half the speed", 0.5),
                                         ("three times slower", 3.0), ("more than double the speed", 2.5), ("less than half the force", 0.4),
                                         ("50% slower", 0.5), ("30 percent faster", 1.3), ("go 2x faster", 2.0), ("a third of the speed", 1 / 3),
                                         ("one and a half times faster", 1.5)])
def test_factors(text, factor):
    from agent.grounder.numbers import parse_factor

    assert parse_factor(text) == pytest.approx(factor)


@pytest.mark.parametrize("text", ["half an inch to the left", "rotate a quarter turn", "move left", "a bit more"])
def test_no_factor(text):
    from agent.grounder.numbers import parse_factor

    assert parse_factor(text) is None

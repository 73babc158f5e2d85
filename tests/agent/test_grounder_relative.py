"""Object-relative geometry and viewpoints (no model)."""
import math

import pytest

from agent.grounder.relative import find_relative, to_base
from grounder_helpers import scene_rgby


OBJS = scene_rgby()["objects"]  # red (0.45, 0.1), blue (0.55, -0.1), green bowl (0.6, 0.2), yellow bowl (0.4, -0.2)


def test_toward_and_away_follow_the_line_to_the_object():
    r = find_relative("move toward the blue block", OBJS, [0.6, 0.2, 0.0], moving="red block")
    ux, uy = (0.55 - 0.6), (-0.1 - 0.2)
    n = math.hypot(ux, uy)
    assert r.offset[0] == pytest.approx(0.03 * ux / n, abs=1e-4) and r.offset[1] == pytest.approx(0.03 * uy / n, abs=1e-4)
    r = find_relative("a bit further from the blue block", OBJS, [0.6, 0.2, 0.0], moving="red block")
    assert r.offset[1] > 0 and math.hypot(*r.offset[:2]) == pytest.approx(0.012, abs=1e-4)
    r = find_relative("2 cm towards the blue block", OBJS, [0.6, 0.2, 0.0], moving="red block")
    assert math.hypot(*r.offset[:2]) == pytest.approx(0.02, abs=1e-4)


def test_references_that_are_not_objects_are_left_to_the_model():
    for u in ("closer to me", "toward you", "further from the robot", "toward the left", "closer to the table", "away from the base"):
        assert find_relative(u, OBJS, [0.5, 0.0, 0.0]) is None, u


def test_ambiguous_or_missing_reference_asks():
    assert "which bowl" in find_relative("closer to the bowl", OBJS, [0.45, 0.1, 0.0]).question
    assert "there is no" in find_relative("toward the purple block", OBJS, [0.45, 0.1, 0.0]).question


def test_edges():
    r = find_relative("away from the edge", OBJS, [0.5, -0.7, 0.0])  # 10 cm from the right edge
    assert r.offset[1] > 0 and r.offset[0] == 0
    r = find_relative("toward the far edge", OBJS, [0.5, 0.0, 0.0])
    assert r.offset[0] > 0


def test_viewpoints_rotate_the_users_words():
    assert to_base([0.0, 0.03, 0.0], "behind") == pytest.approx([0.0, 0.03, 0.0])
    assert to_base([0.0, 0.03, 0.0], "facing") == pytest.approx([0.0, -0.03, 0.0], abs=1e-9)
    assert to_base([0.03, 0.0, 0.01], "camera", camera_yaw=math.pi / 2) == pytest.approx([0.0, 0.03, 0.01], abs=1e-9)

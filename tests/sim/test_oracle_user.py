"""The oracle user (``--oracle``, the user as it was): it reads the hidden quirk params and asks before a step runs,
with the right direction and magnitude; one correction at a time, patience, praise, phrase banks, robustness options."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from hardware.scene import Quirk, Scene, SceneObject
from sim.noise import add_word_noise
from sim.oracle import OracleConfig as UserConfig
from sim.oracle import OracleUser as SimulatedUser
from sim.phrases import DEFAULT_PHRASES, PhraseBank, PhraseBankError
from sim.speaker import magnitude_word, spoken_amount
from skills.base import Outcome

ROOT = Path(__file__).resolve().parents[2]  # the repository root
DEV_BANK = ROOT.parent / "shared" / "eval" / "phrases_dev.json"
needs_dev_bank = pytest.mark.skipif(not DEV_BANK.exists(), reason=f"no dev phrase bank at {DEV_BANK}")


def plan(pick: dict | None = None, place: dict | None = None, obj: str = "small red block", tgt: str = "green bowl") -> list[dict]:
    return [
        {"skill": "pick", "args": {"object": obj, "offset": [0.0, 0.0, 0.0], "yaw": 0.0, "speed": 1.0, "force": 20.0, "height": 0.1, **(pick or {})}},
        {"skill": "place", "args": {"target": tgt, "offset": [0.0, 0.0, 0.0], "yaw": 0.0, "speed": 1.0, "height": 0.1, **(place or {})}},
    ]


def scene(*quirks: Quirk) -> Scene:
    return Scene(
        objects=[
            SceneObject("small red block", "block", "red", 0.03, (0.5, 0.1, 0.015)),
            SceneObject("blue block", "block", "blue", 0.04, (0.45, -0.1, 0.02)),
            SceneObject("green bowl", "bowl", "green", 0.16, (0.6, -0.2, 0.03)),
            SceneObject("yellow bowl", "bowl", "yellow", 0.16, (0.4, 0.22, 0.03)),
        ],
        quirks=list(quirks),
    )


def user(*quirks: Quirk, bank: PhraseBank | None = None, **cfg) -> SimulatedUser:
    cfg.setdefault("number_rate", 0.0)
    return SimulatedUser(scene(*quirks), [("small red block", "green bowl")], bank or PhraseBank.load(), UserConfig(**cfg))


OFFCENTER = Quirk("offcenter_drop", "green bowl", {"offset": [0.0, 0.03], "tol": 0.01})


def test_place_landing_right_of_wanted_spot_says_left_with_magnitude_by_error():
    # the place aims 3 cm right (-y) of where the user wants: "left", medium (2..6 cm)
    u = user(OFFCENTER)
    said = u.before_step(plan(), 1)
    assert said.intent == "offset" and said.axis == "y" and said.sign == +1 and said.magnitude == "medium"
    assert said.text in PhraseBank.load().data["offset"]["+y"]["medium"]
    # 1 cm off -> small; 8 cm off -> large
    assert user(OFFCENTER).before_step(plan(place={"offset": [0.0, 0.015, 0.0]}), 1).magnitude == "small"
    big = Quirk("offcenter_drop", "green bowl", {"offset": [0.0, -0.08], "tol": 0.01})
    s = user(big).before_step(plan(), 1)
    assert (s.sign, s.magnitude) == (-1, "large")


def test_magnitude_thresholds_and_spoken_numbers():
    assert [magnitude_word(e) for e in (0.005, 0.019, 0.021, 0.059, 0.07, -0.03)] == ["small", "small", "medium", "medium", "large", "medium"]
    assert spoken_amount(0.005) == "5 mm" and spoken_amount(0.031) == "3 cm"


@needs_dev_bank
def test_number_phrases_when_the_bank_has_them():
    u = user(OFFCENTER, number_rate=1.0)
    s = u.before_step(plan(), 1)
    assert s.magnitude == "number" and "3 cm" in s.text and s.said_m == pytest.approx(0.03)
    # the dev bank has no number phrases: falls back to magnitude words
    dev = user(OFFCENTER, bank=PhraseBank.load(DEV_BANK), number_rate=1.0).before_step(plan(), 1)
    assert dev.magnitude == "medium" and dev.text in json.loads(DEV_BANK.read_text())["offset"]["+y"]["medium"]


def test_small_block_grasp_too_high_says_lower():
    u = user(Quirk("small_grasp", "small red block", {"max_dz": -0.012}))
    s = u.before_step(plan(), 0)
    assert (s.intent, s.axis, s.sign, s.step) == ("offset", "z", -1, 0)
    assert u.before_step(plan(pick={"offset": [0, 0, -0.016]}), 0) is None
    assert u.before_step(plan(pick={"offset": [0, 0, -0.0125]}), 0).sign == -1  # not clearly lower yet
    # far too low: back up
    s = u.before_step(plan(pick={"offset": [0, 0, -0.03]}), 0)  # the fingers would hit the table
    assert (s.axis, s.sign) == ("z", +1)


def test_slippery_block_asks_for_force_then_speed_and_carry_speed():
    q = Quirk("slippery", "small red block", {"min_force": 40, "max_speed": 0.6})
    u = user(q)
    s = u.before_step(plan(), 0)
    assert (s.intent, s.arg, s.sign) == ("force", "force", +1) and s.text in PhraseBank.load().data["force"]["more"]
    s = u.before_step(plan(pick={"force": 45.0}), 0)
    assert (s.intent, s.sign) == ("speed", -1)
    assert u.before_step(plan(pick={"force": 45.0, "speed": 0.5}), 0) is None
    assert u.before_step(plan(pick={"force": 45.0, "speed": 0.5}), 1).intent == "speed"  # carried too fast


def test_tall_neighbour_asks_to_come_in_higher():
    u = user(Quirk("tall_neighbor", "small red block", {"min_height": 0.18}))
    s = u.before_step(plan(), 0)
    assert (s.intent, s.sign) == ("height", +1)
    assert u.before_step(plan(pick={"height": 0.2}), 0) is None


def test_retarget_object_and_target():
    u = user()
    s = u.before_step(plan(obj="blue block"), 0)
    assert s.intent == "retarget_object" and s.value == "small red block" and "small red block" in s.text
    s = u.before_step(plan(tgt="yellow bowl"), 1)
    assert s.intent == "retarget_target" and "green bowl" in s.text


def test_plan_addition_for_a_missing_goal_pair():
    sc = scene()
    u = SimulatedUser(sc, [("small red block", "green bowl"), ("blue block", "yellow bowl")], PhraseBank.load(), UserConfig())
    s = u.before_step(plan(), 0)
    assert s.intent == "add_step" and "blue block" in s.text and "yellow bowl" in s.text


@needs_dev_bank
def test_after_failed_outcomes():
    u = user()
    p = plan()
    # a pick that fails although its arguments look right: first "try again", then a change
    s = u.after_step(p, 0, Outcome("pick", False, failure="slipped"))
    assert s.intent == "retry" and s.counts and s.text in PhraseBank.load().data["retry"]
    assert u.after_step(p, 0, Outcome("pick", False, failure="slipped")).intent == "force"
    assert u.after_step(p, 0, Outcome("pick", False, failure="missed_grasp")).axis == "z"
    assert u.after_step(p, 0, Outcome("pick", False, failure="knocked_over")).intent == "height"
    # a known requirement is named at once
    q = user(Quirk("slippery", "small red block", {"min_force": 40}))
    assert q.after_step(p, 0, Outcome("pick", False, failure="slipped")).intent == "force"
    # the dev bank has no retry phrases: a plain "try again"
    assert user(bank=PhraseBank.load(DEV_BANK)).after_step(p, 0, Outcome("pick", False, failure="slipped")).text == "try again"
    s = u.after_step(p, 1, Outcome("place", False, failure="missed_target", error_xy=(0.0, -0.03)))  # landed 3 cm right of the centre
    assert (s.axis, s.sign, s.magnitude, s.after_outcome) == ("y", +1, "medium", True)


def test_praise_when_right_after_a_correction_and_not_counted():
    u = user(OFFCENTER)
    u.before_step(plan(), 1)
    good = plan(place={"offset": [0.0, 0.03, 0.0]})
    assert u.before_step(good, 1) is None
    s = u.after_step(good, 1, Outcome("place", True))
    assert s.intent == "confirm" and not s.counts and s.text in PhraseBank.load().data["confirm"]
    assert u.n_corrections == 1
    assert u.after_step(good, 1, Outcome("place", True)) is None  # praises once
    # an uncorrected step that works: nothing said
    assert user().after_step(plan(), 0, Outcome("pick", True)) is None


def test_gives_up_after_eight_corrections():
    u = user(OFFCENTER)
    said = [u.before_step(plan(), 1) for _ in range(8)]
    assert all(s is not None and s.counts for s in said) and u.n_corrections == 8
    assert u.before_step(plan(), 1) is None and u.gave_up
    assert u.after_step(plan(), 1, Outcome("place", False, failure="missed_target", error_xy=(0, 0.05))) is None


def test_wrong_direction_rate():
    u = user(OFFCENTER, wrong_direction_rate=1.0, patience=50)
    s = u.before_step(plan(), 1)
    assert s.wrong_direction and s.sign == -1 and s.text in PhraseBank.load().data["offset"]["-y"]["medium"]
    u = user(OFFCENTER, wrong_direction_rate=0.3, patience=400, seed=3)
    said = [u.before_step(plan(), 1) for _ in range(300)]
    frac = sum(s.wrong_direction for s in said) / len(said)
    assert 0.2 < frac < 0.4


def test_word_noise():
    rng = random.Random(0)
    assert add_word_noise("a bit to the left", 0.0, rng) == "a bit to the left"
    noisy = [add_word_noise("move a bit to the left please", 0.5, rng) for _ in range(50)]
    assert any(n != "move a bit to the left please" for n in noisy) and all(n for n in noisy)
    u = user(OFFCENTER, word_noise=1.0)
    s = u.before_step(plan(), 1)
    assert s.text != s.clean_text and s.clean_text in PhraseBank.load().data["offset"]["+y"]["medium"]


@needs_dev_bank
def test_phrase_banks_load_and_differ():
    mine, dev = PhraseBank.load(DEFAULT_PHRASES), PhraseBank.load(DEV_BANK)
    flat = lambda d: {s for v in d.values() for s in (flat(v) if isinstance(v, dict) else v if isinstance(v, list) else [])}
    assert not (flat(mine.data) & flat(dev.data)), "the default bank must use other wording than the dev bank"


def test_bad_bank_and_config_are_rejected(tmp_path):
    with pytest.raises(PhraseBankError, match="no phrase bank"):
        PhraseBank.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"offset": {"left": {"small": ["x"]}}}))
    with pytest.raises(PhraseBankError, match="direction 'left'"):
        PhraseBank.load(bad)
    bad.write_text(json.dumps({"offset": {"+y": {"small": []}}}))
    with pytest.raises(PhraseBankError, match=r"offset\.\+y\.small"):
        PhraseBank.load(bad)
    with pytest.raises(ValueError, match="wrong_direction_rate"):
        UserConfig(wrong_direction_rate=1.5)
    with pytest.raises(Exception, match="there is no purple block"):
        SimulatedUser(scene(), [("purple block", "green bowl")])

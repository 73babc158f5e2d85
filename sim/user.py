"""A simulated person who teaches the robot by talking, for the teaching benchmark.

The user knows what the policy never sees: the scene's hidden :class:`hardware.scene.Quirk` list (what each
skill call needs to work, or what the user prefers) and the true goal of the task. Like a person it says
ONE short correction at a time, in words drawn from a phrase bank file (``--phrases``).

When it speaks (one rule, used everywhere):

1. **Before a step runs** (the arm is about to act, the user watches): if the arguments of the step
   about to run break a requirement the user knows of (wrong object or target, a place offset away
   from the wanted spot, a pick too high for a small block, a grip too weak for a slippery or heavy
   block, a speed too high, an approach too low next to a tall neighbour), it says the correction for
   the most important problem and looks again at the changed plan. See :meth:`SimulatedUser.before_step`.
   (The benchmark asks at the first control ticks of the step, while the arm starts to move and nothing can
   have gone wrong yet, so that the correction is grounded against that running step.)
2. **After a step ran** (the user saw the outcome through the simulator's ground truth): if it failed
   anyway, it says what a person would say about that failure (DROC style): the known requirement the
   step still breaks if there is one; else, for a pick whose arguments looked right, first "try again",
   then "grip harder" after a slip, "lower" after a missed grasp, "come in from higher" after knocking
   something over, "a bit to the left" when the object landed 3 cm right of where it should. If the step
   succeeded after having been corrected, it praises once. See :meth:`SimulatedUser.after_step`.

Magnitude words follow the size of the error along the corrected axis: small < 2 cm, medium < 6 cm,
large otherwise; with probability ``number_rate`` (and when the bank has ``offset_number``) the user says
a number instead ("3 cm to the left"). Frames (``shared/spec/corrections.md``): left is +y, forward is
+x, up is +z, metres.

Limited patience: after ``patience`` (8) corrections on one task, the next needed correction makes the
user give up (the task fails). Robustness options: ``wrong_direction_rate`` (the user says the opposite
direction by mistake) and ``word_noise`` (ASR-style per-word substitutions, drops and fillers).

Phrase bank format (``shared/eval/phrases_dev.json``): ``offset`` -> ``+x|-x|+y|-y|+z|-z`` -> ``small|medium|large``
-> phrases; ``yaw`` -> ``+|-`` -> magnitude -> phrases; ``speed`` -> ``slower|faster``; ``force`` and
``height`` -> ``more|less``; ``retarget_object`` / ``retarget_target`` (with ``{object}`` / ``{target}``);
``confirm``; optionally ``offset_number`` (``{amount}``), ``add_step`` (``{object}``, ``{target}``), ``stop``,
``retry`` (said after a pick failed although its arguments looked right; "try again" when the bank has none).
"""
from __future__ import annotations

import json
import math
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from hardware.scene import Quirk, Scene
from hardware.errors import RobocorrectError

DEFAULT_PHRASES = Path(__file__).with_name("phrases") / "default.json"
DIRECTIONS = ("+x", "-x", "+y", "-y", "+z", "-z")
MAGNITUDES = ("small", "medium", "large")
AXES = {"x": 0, "y": 1, "z": 2}
# Error thresholds for magnitude words (m): small < 2 cm, medium < 6 cm, large otherwise.
SMALL_MAX = 0.02
MEDIUM_MAX = 0.06
# Counted corrections are everything but praise.
NOT_COUNTED = ("confirm",)
# Nominal skill arguments when a plan leaves them out (skills/schema.py defaults).
ARG_DEFAULTS = {"offset": [0.0, 0.0, 0.0], "yaw": 0.0, "speed": 1.0, "force": 20.0, "height": 0.1}


class PhraseBankError(RobocorrectError, ValueError):
    """A phrase bank file that cannot be used; the message names the file and the faulty key."""


# ----------------------------------------------------------------------------------------------
# Phrase bank
# ----------------------------------------------------------------------------------------------
class PhraseBank:
    """Phrases by intent (see module docstring for the format), loaded from a JSON file."""

    def __init__(self, data: dict[str, Any], source: str = "<dict>") -> None:
        self.source = source
        self.data = data
        self._validate()

    @classmethod
    def load(cls, path: str | Path | None = None) -> "PhraseBank":
        """Load ``path`` (default: ``sim/phrases/default.json``); raises :class:`PhraseBankError`."""
        p = Path(path) if path else DEFAULT_PHRASES
        try:
            data = json.loads(p.read_text())
        except FileNotFoundError:
            raise PhraseBankError(f"no phrase bank at {p}") from None
        except json.JSONDecodeError as e:
            raise PhraseBankError(f"phrase bank {p} is not valid JSON: {e}") from None
        if not isinstance(data, dict):
            raise PhraseBankError(f"phrase bank {p}: top level must be an object of intents")
        return cls(data, str(p))

    def _validate(self) -> None:
        src = self.source
        off = self.data.get("offset")
        if not isinstance(off, dict) or not off:
            raise PhraseBankError(f"phrase bank {src}: needs an 'offset' section (direction -> magnitude -> phrases)")
        for d, mags in off.items():
            if d not in DIRECTIONS:
                raise PhraseBankError(f"phrase bank {src}: offset direction {d!r} unknown; use {', '.join(DIRECTIONS)}")
            if not isinstance(mags, dict) or not mags:
                raise PhraseBankError(f"phrase bank {src}: offset.{d} must map magnitudes to phrase lists")
            for m, lst in mags.items():
                if m not in MAGNITUDES:
                    raise PhraseBankError(f"phrase bank {src}: offset.{d}.{m}: magnitude must be one of {', '.join(MAGNITUDES)}")
                self._check_list(lst, f"offset.{d}.{m}")
        for intent in ("speed", "force", "height", "yaw", "offset_number"):
            sec = self.data.get(intent)
            if sec is None:
                continue
            if not isinstance(sec, dict):
                raise PhraseBankError(f"phrase bank {src}: {intent} must be an object")
            for k, v in sec.items():
                if isinstance(v, dict):
                    for m, lst in v.items():
                        self._check_list(lst, f"{intent}.{k}.{m}")
                else:
                    self._check_list(v, f"{intent}.{k}")
        for intent in ("retarget_object", "retarget_target", "confirm", "add_step", "stop", "retry"):
            if intent in self.data:
                self._check_list(self.data[intent], intent)

    def _check_list(self, lst: Any, where: str) -> None:
        if not isinstance(lst, list) or not lst or not all(isinstance(s, str) and s.strip() for s in lst):
            raise PhraseBankError(f"phrase bank {self.source}: {where} must be a non-empty list of phrases")

    def has(self, intent: str, key: Optional[str] = None) -> bool:
        sec = self.data.get(intent)
        if sec is None:
            return False
        if key is None:
            return True
        return isinstance(sec, dict) and key in sec

    def choose(self, rng: random.Random, intent: str, key: Optional[str] = None, magnitude: Optional[str] = None, **fill: str) -> str:
        """One phrase for ``intent`` / ``key`` / ``magnitude`` (the nearest magnitude the bank has), placeholders filled."""
        sec: Any = self.data.get(intent)
        if sec is None:
            raise PhraseBankError(f"phrase bank {self.source} has no {intent!r} phrases")
        if key is not None:
            if not isinstance(sec, dict) or key not in sec:
                raise PhraseBankError(f"phrase bank {self.source} has no {intent}.{key} phrases")
            sec = sec[key]
        if isinstance(sec, dict):
            order = _nearest_magnitudes(magnitude or "medium")
            m = next((m for m in order if m in sec), None) or next(iter(sec))
            sec = sec[m]
        text = rng.choice(sec)
        for k, v in fill.items():
            text = text.replace("{" + k + "}", v)
        return text

    def magnitudes(self, intent: str, key: str) -> list[str]:
        sec = self.data.get(intent, {}).get(key, {})
        return [m for m in MAGNITUDES if isinstance(sec, dict) and m in sec]


def _nearest_magnitudes(m: str) -> list[str]:
    return {"small": ["small", "medium", "large"], "medium": ["medium", "small", "large"], "large": ["large", "medium", "small"]}[m]


def magnitude_word(error_m: float) -> str:
    """Magnitude word for an error of ``error_m`` metres: small < 2 cm, medium < 6 cm, large otherwise."""
    e = abs(error_m)
    return "small" if e < SMALL_MAX else "medium" if e < MEDIUM_MAX else "large"


def spoken_amount(error_m: float) -> str:
    """A distance as a person would say it: '5 mm' under a centimetre, else whole centimetres ('3 cm')."""
    e = abs(error_m)
    if e < 0.0095:
        return f"{max(1, int(round(e * 1000)))} mm"
    return f"{int(round(e * 100))} cm"


# ----------------------------------------------------------------------------------------------
# ASR-style word noise
# ----------------------------------------------------------------------------------------------
ASR_CONFUSIONS: dict[str, list[str]] = {
    "left": ["lift", "let"], "right": ["write", "rite"], "lower": ["lore", "lowers"], "higher": ["hire", "hyer"],
    "bit": ["bet", "but"], "forward": ["foreword", "for word"], "closer": ["closure", "clothes her"],
    "harder": ["harter", "hard"], "slower": ["slow", "lower"], "slow": ["slo", "so"], "grip": ["grep", "trip"],
    "blue": ["blew"], "red": ["read"], "two": ["to", "too"], "four": ["for"], "tad": ["tab"], "touch": ["much"],
    "back": ["bag"], "up": ["app"], "down": ["town"], "cm": ["centimeters", "see em"], "little": ["lil"],
    "firmer": ["farmer"], "tighter": ["titer"], "bowl": ["ball", "bold"], "block": ["blog", "black"],
}
FILLERS = ("uh", "um", "like", "er")


def add_word_noise(text: str, rate: float, rng: random.Random) -> str:
    """Corrupt ``text`` like a speech recogniser would: each word, with probability ``rate``, is replaced by a
    sound-alike (when one is known), dropped, or preceded by a filler. ``rate`` 0 returns ``text`` unchanged."""
    if rate <= 0:
        return text
    out: list[str] = []
    for w in text.split():
        if rng.random() >= rate:
            out.append(w)
            continue
        key = re.sub(r"[^a-z]", "", w.lower())
        r = rng.random()
        if key in ASR_CONFUSIONS and r < 0.6:
            out.append(rng.choice(ASR_CONFUSIONS[key]))
        elif r < 0.8:
            continue  # dropped word
        else:
            out.extend([rng.choice(FILLERS), w])
    return " ".join(out) if out else text.split()[0]


# ----------------------------------------------------------------------------------------------
# What the user says
# ----------------------------------------------------------------------------------------------
@dataclass
class Utterance:
    """One thing the user says, with the structured intent behind it (for scoring, never shown to the policy).

    ``text``: what is said (after word noise); ``clean_text``: before noise. ``intent``: offset, yaw, speed,
    force, height, retarget_object, retarget_target, add_step, stop, retry, confirm. ``step``: index of the plan step
    it refers to. ``arg``: the plan argument the user wants changed (offset, speed, force, height, object,
    target) or None. ``axis``: 'x'|'y'|'z' for offsets. ``sign``: +1/-1, the direction ASKED for (after a
    deliberate wrong-direction slip), 0 when no direction. ``magnitude``: small|medium|large|number.
    ``amount_m``: the error the user wanted fixed (m, or N / ratio units for scalars), ``said_m``: the number
    said, if any. ``value``: object/target name for retargets. ``wrong_direction``: the user erred on purpose.
    ``after_outcome``: said after seeing a failed outcome (else before the step ran).
    """

    text: str
    intent: str
    step: int
    arg: Optional[str] = None
    axis: Optional[str] = None
    sign: int = 0
    magnitude: Optional[str] = None
    amount_m: float = 0.0
    said_m: Optional[float] = None
    value: Optional[str] = None
    clean_text: str = ""
    wrong_direction: bool = False
    after_outcome: bool = False
    reason: str = ""

    @property
    def counts(self) -> bool:
        """Whether this is a correction (praise is not)."""
        return self.intent not in NOT_COUNTED

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Violation:
    """A requirement that the step about to run breaks: ``error`` is the wanted change of ``arg`` (m along
    ``axis`` for offsets, N for force, scale for speed, m for height); ``value`` a name for retargets."""

    intent: str
    arg: str
    error: float = 0.0
    axis: Optional[str] = None
    value: Optional[str] = None
    reason: str = ""


@dataclass
class UserConfig:
    """How the simulated user behaves.

    ``patience``: corrections per task before giving up. ``wrong_direction_rate``: probability that a
    directional correction names the opposite direction. ``word_noise``: per-word ASR corruption rate.
    ``number_rate``: probability of saying a number ("3 cm to the left") instead of a magnitude word, when
    the phrase bank has ``offset_number``. ``praise``: say a confirm phrase when a corrected step then works.
    ``z_window``: how far below a small block's ``max_dz`` the user still accepts a pick (m); ``margin_dz``: how
    far below ``max_dz`` the grasp must be before the user is content (m): a person asks for a clearly lower grasp.
    """

    patience: int = 8
    wrong_direction_rate: float = 0.0
    word_noise: float = 0.0
    number_rate: float = 0.25
    praise: bool = True
    z_window: float = 0.009
    margin_dz: float = 0.002
    seed: int = 0

    def __post_init__(self) -> None:
        if self.patience < 1:
            raise ValueError(f"patience must be at least 1 correction, got {self.patience}")
        for name in ("wrong_direction_rate", "word_noise", "number_rate"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be a probability in [0, 1], got {v}")


def _arg(call: dict[str, Any], name: str) -> Any:
    v = call.get("args", {}).get(name)
    if v is None:
        v = ARG_DEFAULTS.get(name)
    return list(v) if isinstance(v, (list, tuple)) else v


class SimulatedUser:
    """The person teaching one task: knows ``scene`` (with hidden quirks) and the ``goal``.

    ``goal``: list of ``(object, target)`` pairs, in order (one pair for "put X in Y"). Create one user per
    task; it counts its corrections and gives up after ``config.patience``.
    """

    def __init__(self, scene: Scene, goal: Sequence[tuple[str, str]], bank: PhraseBank | None = None,
                 config: UserConfig | None = None, rng: random.Random | None = None) -> None:
        self.scene = scene
        self.goal = [(str(o), str(t)) for o, t in goal]
        for o, t in self.goal:
            scene.get(o)
            if t not in scene.names:
                from skills.schema import NAMED_SPOTS

                if t not in NAMED_SPOTS:
                    scene.get(t)
        self.bank = bank or PhraseBank.load()
        self.config = config or UserConfig()
        self.rng = rng or random.Random(self.config.seed)
        self.corrections: list[Utterance] = []
        self.said: list[Utterance] = []
        self.gave_up = False
        self._corrected_steps: set[int] = set()
        self._unexplained: dict[int, int] = {}  # failures of a step whose arguments looked right
        self._praised_steps: set[int] = set()

    # --- counters --------------------------------------------------------------------------------
    @property
    def n_corrections(self) -> int:
        return len(self.corrections)

    @property
    def patience_left(self) -> int:
        return self.config.patience - self.n_corrections

    # --- what is required --------------------------------------------------------------------------
    def _goal_for_step(self, plan: Sequence[dict[str, Any]], i: int) -> Optional[tuple[str, str]]:
        """The goal pair that step ``i`` serves: the k-th pick / place of the plan serves the k-th pair."""
        skill = plan[i]["skill"]
        if skill not in ("pick", "place"):
            return None
        k = sum(1 for s in plan[:i] if s["skill"] == skill)
        return self.goal[k] if k < len(self.goal) else None

    def held_object(self, plan: Sequence[dict[str, Any]], i: int) -> Optional[str]:
        """The object the arm holds while step ``i`` runs (the object of the latest pick before it)."""
        for s in reversed(plan[:i]):
            if s["skill"] == "pick":
                return s.get("args", {}).get("object")
        return None

    def violations(self, plan: Sequence[dict[str, Any]], i: int) -> list[Violation]:
        """What is wrong with step ``i`` of ``plan`` by what the user knows, most important first."""
        call = plan[i]
        skill, args = call["skill"], call.get("args", {})
        g = self._goal_for_step(plan, i)
        out: list[Violation] = []
        if skill == "pick":
            obj = args.get("object")
            if g and obj != g[0]:
                return [Violation("retarget_object", "object", value=g[0], reason=f"picks {obj}, wants {g[0]}")]
            off, force, speed, height = _arg(call, "offset"), _arg(call, "force"), _arg(call, "speed"), _arg(call, "height")
            for q in self.scene.quirks_for(obj):
                p = q.params
                if q.kind == "small_grasp":
                    max_dz = float(p.get("max_dz", -0.01))
                    if off[2] > max_dz - self.config.margin_dz:
                        aim = max_dz - max(self.config.margin_dz, self.config.z_window / 2)
                        out.append(Violation("offset", "offset", aim - off[2], "z", reason=f"small {obj}: grasp z {off[2]:+.3f} > {max_dz:+.3f}"))
                    elif off[2] < max_dz - self.config.z_window:
                        aim = max_dz - self.config.z_window / 2
                        out.append(Violation("offset", "offset", aim - off[2], "z", reason=f"small {obj}: grasp too low"))
                elif q.kind in ("slippery", "heavy"):
                    mf = p.get("min_force")
                    if mf is not None and force < float(mf):
                        out.append(Violation("force", "force", float(mf) - force, reason=f"{q.kind} {obj}: force {force:g} < {mf}"))
                    ms = p.get("max_speed")
                    if ms is not None and speed > float(ms) + 1e-9:
                        out.append(Violation("speed", "speed", float(ms) - speed, reason=f"{q.kind} {obj}: speed {speed:g} > {ms}"))
                elif q.kind == "tall_neighbor":
                    mh = float(p.get("min_height", 0.15))
                    if height < mh:
                        out.append(Violation("height", "height", mh - height, reason=f"tall neighbour by {obj}: height {height:g} < {mh}"))
        elif skill == "place":
            tgt = args.get("target")
            if g and tgt != g[1]:
                return [Violation("retarget_target", "target", value=g[1], reason=f"places on {tgt}, wants {g[1]}")]
            off, speed = _arg(call, "offset"), _arg(call, "speed")
            for q in self.scene.quirks_for(tgt) if tgt in self.scene.names else []:
                if q.kind in ("offcenter_drop", "placement_pref"):
                    want = [float(v) for v in q.params.get("offset", [0.0, 0.0])][:2]
                    tol = float(q.params.get("tol", 0.015))
                    ex, ey = want[0] - off[0], want[1] - off[1]
                    if math.hypot(ex, ey) > tol:
                        ax, e = ("x", ex) if abs(ex) >= abs(ey) else ("y", ey)
                        out.append(Violation("offset", "offset", e, ax, reason=f"{q.kind} {tgt}: offset off by ({ex:+.3f}, {ey:+.3f})"))
            held = self.held_object(plan, i)
            for q in self.scene.quirks_for(held) if held else []:
                ms = q.params.get("max_speed") if q.kind in ("slippery", "heavy") else None
                if ms is not None and speed > float(ms) + 1e-9:
                    out.append(Violation("speed", "speed", float(ms) - speed, reason=f"{q.kind} {held} carried at speed {speed:g} > {ms}"))
        return out

    def missing_pairs(self, plan: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
        """Goal pairs the plan does not cover (fewer pick/place pairs than the goal asks for)."""
        n = min(sum(1 for s in plan if s["skill"] == "pick"), sum(1 for s in plan if s["skill"] == "place"))
        return self.goal[n:]

    # --- speaking --------------------------------------------------------------------------------------
    def before_step(self, plan: Sequence[dict[str, Any]], i: int) -> Optional[Utterance]:
        """What the user says while step ``i`` is about to run; None when it looks right.

        Returns a ``give_up`` decision (``self.gave_up`` set, return value None) once patience is spent.
        Missing goal pairs are raised at the first step (a plan addition) when the bank has ``add_step``.
        """
        if self.gave_up:
            return None
        vs = self.violations(plan, i)
        if not vs and i == 0 and self.bank.has("add_step"):
            miss = self.missing_pairs(plan)
            if miss:
                vs = [Violation("add_step", "plan", value=f"{miss[0][0]}|{miss[0][1]}", reason="plan misses a goal pair")]
        if not vs:
            return None
        return self._say(vs[0], i, after_outcome=False)

    def after_step(self, plan: Sequence[dict[str, Any]], i: int, outcome: Any, world: Any = None) -> Optional[Utterance]:
        """What the user says after seeing step ``i``'s outcome (an ``skills.base.Outcome``).

        Success: praise once if the step had been corrected (and ``config.praise``), else None.
        Failure: the correction a person would give for that failure, or None when nothing short helps.
        """
        if self.gave_up:
            return None
        if getattr(outcome, "success", False):
            if self.config.praise and i in self._corrected_steps and i not in self._praised_steps and self.bank.has("confirm"):
                self._praised_steps.add(i)
                text = self.bank.choose(self.rng, "confirm")
                u = Utterance(text=add_word_noise(text, self.config.word_noise, self.rng), intent="confirm", step=i, clean_text=text)
                self.said.append(u)
                return u
            return None
        v = self._failure_violation(plan, i, outcome)
        if v is None:
            return None
        return self._say(v, i, after_outcome=True)

    def _failure_violation(self, plan: Sequence[dict[str, Any]], i: int, outcome: Any) -> Optional[Violation]:
        known = self.violations(plan, i)
        if known:
            return known[0]
        call = plan[i]
        code = getattr(outcome, "failure", None)
        force, speed = _arg(call, "force"), _arg(call, "speed")
        self._unexplained[i] = self._unexplained.get(i, 0) + 1
        if call["skill"] == "pick" and code in ("missed_grasp", "slipped") and self._unexplained[i] == 1:
            # the arguments look right to the user: first just ask for another try (pick only: after a failed
            # place the object is no longer held, so something must change for the robot to start over)
            return Violation("retry", "plan", reason=f"{code} although the arguments look right")
        if code == "missed_grasp":
            if any(q.kind == "small_grasp" for q in self.scene.quirks_for(call.get("args", {}).get("object", ""))):
                return Violation("retry", "plan", reason="missed the grasp of a small block at a good height")
            return Violation("offset", "offset", -0.01, "z", reason="missed the grasp")
        if code in ("slipped", "dropped"):
            if call["skill"] == "pick" and force < 60:
                return Violation("force", "force", 10.0, reason=code)
            return Violation("speed", "speed", -0.3, reason=code)
        if code in ("knocked_over", "collision"):
            return Violation("height", "height", 0.05, reason=code)
        if code == "missed_target":
            err = getattr(outcome, "error_xy", None)  # where it landed relative to the target's centre (m)
            if err is not None:
                want = self.wanted_offset(call.get("args", {}).get("target"))
                ex, ey = want[0] - float(err[0]), want[1] - float(err[1])
                ax, e = ("x", ex) if abs(ex) >= abs(ey) else ("y", ey)
                if abs(e) > 0.003:
                    return Violation("offset", "offset", e, ax, reason=f"landed {err[0]:+.3f}, {err[1]:+.3f} m from the centre")
        return None

    def wanted_offset(self, target: Optional[str]) -> list[float]:
        """Where, relative to ``target``'s centre, the user wants things to land ([dx, dy] m; the centre by default)."""
        if target and target in self.scene.names:
            for q in self.scene.quirks_for(target):
                if q.kind in ("offcenter_drop", "placement_pref"):
                    return [float(v) for v in q.params.get("offset", [0.0, 0.0])][:2]
        return [0.0, 0.0]

    def _say(self, v: Violation, i: int, after_outcome: bool) -> Optional[Utterance]:
        if self.n_corrections >= self.config.patience:
            self.gave_up = True
            return None
        cfg, rng, bank = self.config, self.rng, self.bank
        wrong = False
        sign = 0
        magnitude: Optional[str] = None
        said: Optional[float] = None
        axis = v.axis
        if v.intent in ("offset", "force", "speed", "height"):
            sign = 1 if v.error > 0 else -1
            if rng.random() < cfg.wrong_direction_rate:
                sign, wrong = -sign, True
        if v.intent == "offset":
            assert axis is not None
            d = ("+" if sign > 0 else "-") + axis
            if d not in bank.data["offset"]:
                raise PhraseBankError(f"phrase bank {bank.source} has no offset.{d} phrases")
            if bank.has("offset_number", d) and rng.random() < cfg.number_rate:
                said = abs(v.error)
                magnitude = "number"
                amount = spoken_amount(said)
                said = float(amount.split()[0]) / (1000 if amount.endswith("mm") else 100)
                text = bank.choose(rng, "offset_number", d, amount=amount)
            else:
                magnitude = magnitude_word(v.error)
                text = bank.choose(rng, "offset", d, magnitude)
        elif v.intent == "speed":
            text = bank.choose(rng, "speed", "faster" if sign > 0 else "slower")
        elif v.intent in ("force", "height"):
            text = bank.choose(rng, v.intent, "more" if sign > 0 else "less")
        elif v.intent == "retarget_object":
            text = bank.choose(rng, "retarget_object", object=v.value or "")
        elif v.intent == "retarget_target":
            text = bank.choose(rng, "retarget_target", target=v.value or "")
        elif v.intent == "add_step":
            o, t = (v.value or "|").split("|")
            text = bank.choose(rng, "add_step", object=o, target=t)
        elif v.intent == "stop":
            text = bank.choose(rng, "stop") if bank.has("stop") else "stop"
        elif v.intent == "retry":
            text = bank.choose(rng, "retry") if bank.has("retry") else "try again"
        else:
            raise ValueError(f"unknown correction intent {v.intent!r}")
        u = Utterance(
            text=add_word_noise(text, cfg.word_noise, rng), intent=v.intent, step=i, arg=v.arg, axis=axis, sign=sign,
            magnitude=magnitude, amount_m=abs(v.error), said_m=said, value=v.value, clean_text=text,
            wrong_direction=wrong, after_outcome=after_outcome, reason=v.reason,
        )
        self.corrections.append(u)
        self.said.append(u)
        self._corrected_steps.add(i)
        return u

    def stop(self, i: int) -> Optional[Utterance]:
        """Say "stop" (the robot is doing something the user does not want and cannot fix with one phrase)."""
        return self._say(Violation("stop", "plan", reason="stop"), i, after_outcome=False)


def quirk_requirements(q: Quirk) -> str:
    """One line, in words, of what a quirk asks for (for reports and logs)."""
    p = q.params
    return {
        "small_grasp": f"pick {q.object} with offset z <= {p.get('max_dz')} m",
        "slippery": f"pick {q.object} with force >= {p.get('min_force')} N" + (f", speed <= {p['max_speed']}" if p.get("max_speed") else ""),
        "heavy": f"pick {q.object} with force >= {p.get('min_force')} N" + (f", speed <= {p['max_speed']}" if p.get("max_speed") else ""),
        "tall_neighbor": f"pick {q.object} with height >= {p.get('min_height')} m",
        "offcenter_drop": f"place into {q.object} at offset {p.get('offset')} ± {p.get('tol')} m",
        "placement_pref": f"user wants things in {q.object} at offset {p.get('offset')} ± {p.get('tol')} m",
    }.get(q.kind, f"{q.kind} on {q.object}")

"""The training corpus: a grammar of tasks and corrections over random scenes.

The phrase pools and the homophone table are data (``agent/grounder/data/*.json``, loaded and validated by
:mod:`agent.grounder.phrases`). Every pool is ``core`` (always trained) plus ``extra`` paraphrases split by
position: every fourth one is held out (``split="test"`` draws only from held-out ones where a pool has
them), and a phrase held out in one pool is trained through no other, so the test split measures
phrasings the model never saw. No utterance of ``../shared/eval`` or of the held-out real phrasings
(``tests/data/real_corrections.jsonl``) is ever generated: :func:`ground_example` rejects any whose
digest is in ``data/blocked.json`` (the texts themselves are not in the repository).

Scenes come from :func:`sim.scene.random_scene` (sizes small/large, a gray tray, same-colour blocks of other
sizes). Utterances get fillers ("uh", "okay so", "please"), a leading interjection sometimes ("that's
wrong.", "perfect but"), and ASR-style noise (dropped / swapped letters, homophones). Beside single and
compound corrections, plan edits, stop and praise, the grammar says what people say: factors ("twice as
fast"), "undo that", a speed or force word after a motion verb ("approach slower" changes speed only),
the held object named ("nudge the red block right"), an observation then its fix ("going too fast, slow
down"), praise with "right" meaning correct, and things that are not corrections at all (keyboard mash,
other languages, off-topic talk, emoji, bare numbers, placeholder Latin, unknown words in a correction's
shape), which must change nothing.

Two kinds of examples (plain dicts, JSON-serialisable):

- grounding: ``{"kind": "ground", "scene", "task", "plan", "step", "history": [{"utterance", "step",
  "labels"}], "utterance", "labels": {head: class}, "obj", "tgt", "has_history", "step_skill"}``
- planning: ``{"kind": "plan", "scene", "task", "labels": {"task": type}, "obj", "tgt", "set": [names]}``

:func:`to_case` turns a grounding example into a contract evaluation case (with ``expect`` checks), and
:func:`to_plan_case` a planning example into a task-to-plan case, so a generated held-out set can be
scored with ``shared/eval/score_grounding.py`` and ``robocorrect plan --score``.
"""
from __future__ import annotations

import math
import random
from typing import Any, Optional

from hardware.scene import BLOCK_SIZES, SceneError, SceneObject, block_size_word, object_name
from sim.scene import random_scene
from skills.schema import SKILLS

from .labels import active_of
from .numbers import parse_factor
from .phrases import Pool, is_blocked, load_homophones, load_pools

# ----------------------------------------------------------------------------------------------
# phrase pools: (core, extra)

POOLS = load_pools()
HOMOPHONES = load_homophones()


def pick(rng: random.Random, pool: Pool, split: str) -> str:
    """A phrase of ``pool``: held-out phrases for ``split="test"`` (core ones only if the pool has none)."""
    if split == "test" and pool.test:
        return rng.choice(pool.test)
    return rng.choice(pool.train)


def _family(prefix: str) -> dict[str, Pool]:
    return {k[len(prefix) + 1:]: v for k, v in POOLS.items() if k.startswith(prefix + " ")}


DIR_BARE = _family("dir_bare")
DIR_CMP = _family("dir_cmp")
YAW_DIR = _family("yaw_dir")
REPEAT = _family("repeat")
SCALE_PHR = {tuple(k.split(" ")): v for k, v in _family("scale").items()}
FACTOR = {tuple(k.split(" ")): v for k, v in _family("factor").items()}  # ("speed", "+") -> "twice as fast", ...
COMPLAINT = _family("complaint")
MORE_SUFFIX = _family("more suffix")
(OFF_VERB, SMALL_PRE, SMALL_POST, LARGE_PRE_BARE, LARGE_PRE_CMP, LARGE_POST, NUM_VERB, YAW_VERB, RETARGET_OBJ, RETARGET_TGT,
 RETARGET_TGT_ON, GENERIC_RETARGET, APPEND, APPEND_ON, APPEND_SAME, STOP, PRAISE, UNCLEAR_FREE, REVERSE, CONNECT, PREFIX, SUFFIX,
 MOVE_TASK, STACK_TASK, ALL_TASK, EVERYTHING_TASK, SORT_TASK, PICK_TASK, INTERJECTION, PRAISE_RIGHT, CONTINUE, UNDO, SPEED_VERB,
 FORCE_VERB, OBJECT_VERB, GREETING, OFFTOPIC, FOREIGN, LATIN, NONCE) = (POOLS[k] for k in (
    "off_verb", "small_pre", "small_post", "large_pre_bare", "large_pre_cmp", "large_post", "num_verb", "yaw_verb", "retarget_obj",
    "retarget_tgt", "retarget_tgt_on", "generic_retarget", "append", "append_on", "append_same", "stop", "praise", "unclear_free",
    "reverse", "connect", "prefix", "suffix", "move_task", "stack_task", "all_task", "everything_task", "sort_task", "pick_task",
    "interjection", "praise_right", "continue", "undo", "speed verb", "force verb", "object verb", "greeting", "offtopic", "foreign",
    "latin", "nonce"))
SPEED_WORD = {"-": POOLS["speed word -"], "+": POOLS["speed word +"]}
FORCE_WORD = {"-": POOLS["force word -"], "+": POOLS["force word +"]}

# short words ASR tends to blur: only swapped for another plausible spelling, never for a direction word
_SHORT_BLUR = {"a": "uh", "to": "ta", "it": "et", "and": "an", "more": "mor", "bit": "bet", "tad": "ted", "way": "wey", "far": "fa"}
from .numbers import UNITS, WORD_NUMBERS

_NUMBER_WORDS = set(WORD_NUMBERS) | set(UNITS) | {"by"}


def asr_noise(rng: random.Random, text: str, n_ops: int = 1) -> str:
    """ASR-like noise: a homophone, a dropped / swapped / doubled letter; numbers and units kept."""
    words = text.split(" ")
    for _ in range(n_ops):
        cands = [i for i, w in enumerate(words) if w.strip(",.").lower() not in _NUMBER_WORDS and not any(ch.isdigit() for ch in w)]
        if not cands:
            return " ".join(words)
        i = rng.choice(cands)
        w = words[i]
        core = w.strip(",.")
        tail = w[len(core):] if w.endswith((",", ".")) else ""
        if core.lower() in HOMOPHONES and rng.random() < 0.6:
            # "block" -> "black" would change meaning (a colour): only in words that are not names
            new = rng.choice(HOMOPHONES[core.lower()])
            if new == "black":
                continue
            words[i] = new + tail
            continue
        if len(core) < 4:
            if core.lower() in _SHORT_BLUR and rng.random() < 0.5:
                words[i] = _SHORT_BLUR[core.lower()] + tail
            elif core.lower() in ("the", "a", "to", "it", "uh", "um") and len(words) > 2 and rng.random() < 0.5:
                words[i] = ""  # a dropped function word
            continue
        j = rng.randrange(1, len(core) - 1)
        op = rng.random()
        if op < 0.4:
            core = core[:j] + core[j + 1:]
        elif op < 0.8:
            core = core[:j] + core[j + 1] + core[j] + core[j + 2:]
        else:
            core = core[:j] + core[j] + core[j:]
        words[i] = core + tail
    return " ".join(w for w in words if w)


def decorate(rng: random.Random, text: str, split: str, noise: float = 0.3) -> str:
    """Fillers and ASR noise around an utterance."""
    if rng.random() < 0.3:
        p = pick(rng, PREFIX, split)
        text = f"{p}, {text}" if rng.random() < 0.5 else f"{p} {text}"
    if rng.random() < 0.2:
        text = f"{text} {pick(rng, SUFFIX, split)}"
    if rng.random() < noise:
        text = asr_noise(rng, text, rng.choices([1, 2, 3], [0.6, 0.3, 0.1])[0])
    if rng.random() < 0.05:  # run-together words ("abit", "alittle")
        text = text.replace("a bit", "abit").replace("a little", "alittle").replace("a lot", "alot")
    if rng.random() < 0.1:
        text = text.capitalize()
    if rng.random() < 0.15:
        text += rng.choice([".", "!", "?"])
    return text


# ----------------------------------------------------------------------------------------------
# numbers said with units

_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"]
_TENS = {20: "twenty", 30: "thirty", 40: "forty", 50: "fifty", 60: "sixty", 70: "seventy", 80: "eighty", 90: "ninety"}


def _say_int(rng: random.Random, n: int) -> str:
    if rng.random() < 0.5:
        return str(n)
    if n <= 20:
        return _WORDS[n]
    t, u = divmod(n, 10)
    return _TENS[t * 10] + ("" if u == 0 else " " + _WORDS[u])


def say_length(rng: random.Random) -> tuple[str, float]:
    """A spoken length ("3 cm", "two centimeters", "an inch") and its value in metres."""
    u = rng.random()
    if u < 0.45:
        n = rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 8, 10])
        unit = rng.choice(["cm", "cm", "centimeters", "centimetres", "centimeter" if n == 1 else "centimeters", "cms"])
        if n == 1 and rng.random() < 0.4:
            return f"a {rng.choice(['centimeter', 'centimetre', 'cm'])}", 0.01
        if rng.random() < 0.12:
            return f"{n}.5 {unit}", (n + 0.5) / 100
        return f"{_say_int(rng, n)} {unit}", n / 100
    if u < 0.75:
        n = rng.choice([2, 3, 4, 5, 5, 8, 10, 10, 12, 15, 20, 25, 30, 40, 50])
        unit = rng.choice(["mm", "mm", "millimeters", "millimetres", "millimeter"])
        return f"{_say_int(rng, n)} {unit}", n / 1000
    if u < 0.92:
        c = rng.random()
        if c < 0.35:
            return rng.choice(["an inch", "one inch", "1 inch", '1"']), 0.0254
        if c < 0.5:
            return "half an inch", 0.0127
        n = rng.choice([2, 3])
        return f"{_say_int(rng, n)} {rng.choice(['inches', 'in', 'inches'])}", n * 0.0254
    n = rng.choice([0.02, 0.03, 0.05, 0.1])
    return f"{n:g} {rng.choice(['m', 'meters', 'metres'])}", n


def say_angle(rng: random.Random) -> tuple[str, float]:
    """A spoken angle ("45 degrees", "a quarter turn") and its value in radians."""
    if rng.random() < 0.08:
        return "a quarter turn", math.pi / 2
    n = rng.choice([5, 10, 10, 15, 20, 30, 30, 45, 45, 60, 90])
    return f"{_say_int(rng, n)} {rng.choice(['degrees', 'degrees', 'deg', 'degree' if n == 1 else 'degrees'])}", math.radians(n)


# ----------------------------------------------------------------------------------------------
# clauses: (text, labels, info)

def offset_clause(rng: random.Random, split: str, axis_dir: Optional[str] = None, mag: Optional[str] = None,
                  verbless: bool = False) -> tuple[str, dict[str, str], dict[str, Any]]:
    d = axis_dir or rng.choice(list(DIR_BARE))
    mag = mag or rng.choices(["s", "m", "l", "n"], [0.3, 0.3, 0.2, 0.2])[0]
    sign, axis = d[0], d[1]
    verb = pick(rng, OFF_VERB, split) if (not verbless and rng.random() < 0.45) else ""
    info: dict[str, Any] = {"axis": axis, "sign": sign, "mag": mag, "numbers": []}
    if mag == "s":
        form = rng.random()
        if form < 0.4:
            t = f"{pick(rng, SMALL_PRE, split)} {pick(rng, DIR_BARE[d], split)}"
        elif form < 0.7:
            t = f"{pick(rng, DIR_BARE[d], split)} {pick(rng, SMALL_POST, split)}"
        else:
            t = f"{pick(rng, SMALL_PRE, split)} {pick(rng, DIR_CMP[d], split)}"
    elif mag == "m":
        t = pick(rng, DIR_BARE[d], split) if rng.random() < 0.6 else pick(rng, DIR_CMP[d], split)
        if not verb and not verbless and rng.random() < 0.3:
            verb = pick(rng, OFF_VERB, split)
    elif mag == "l":
        form = rng.random()
        if form < 0.45:
            t = f"{pick(rng, LARGE_PRE_CMP, split)} {pick(rng, DIR_CMP[d], split)}"
        elif form < 0.7:
            t = f"{pick(rng, LARGE_PRE_BARE, split)} {pick(rng, DIR_BARE[d], split)}"
        else:
            t = f"{pick(rng, DIR_BARE[d], split)} {pick(rng, LARGE_POST, split)}"
    else:
        txt, val = say_length(rng)
        info["numbers"] = [val]
        info["num_by"] = {axis: val}
        form = rng.random()
        if form < 0.4:
            t = f"{txt} {pick(rng, DIR_BARE[d], split)}"
        elif form < 0.6:
            t = f"{pick(rng, DIR_BARE[d], split)} {txt}"
        elif form < 0.8:
            t = f"{pick(rng, DIR_BARE[d], split)} by {txt}"
        else:
            t = f"{txt} {pick(rng, DIR_CMP[d], split)}"
        if not verb and not verbless and rng.random() < 0.5:
            verb = pick(rng, NUM_VERB, split)
    text = f"{verb} {t}".strip()
    info["verb"] = bool(verb)
    return text, {axis: f"{sign}{mag}"}, info


def yaw_clause(rng: random.Random, split: str, verbless: bool = False) -> tuple[str, dict[str, str], dict[str, Any]]:
    sign = rng.choice("+-")
    mag = rng.choices(["s", "m", "l", "n"], [0.3, 0.3, 0.1, 0.3])[0]
    verb = pick(rng, YAW_VERB, split)
    dr = pick(rng, YAW_DIR[sign], split)
    info: dict[str, Any] = {"axis": "yaw", "sign": sign, "mag": mag, "numbers": []}
    if mag == "s":
        t = f"{verb} {pick(rng, SMALL_PRE, split)} {dr}" if rng.random() < 0.6 else f"{verb} {dr} {pick(rng, SMALL_POST, split)}"
        if rng.random() < 0.15:
            t = f"{verb} {rng.choice(['a few degrees', 'a couple of degrees'])} {dr}"
            info["numbers"] = [math.radians(3 if 'few' in t else 2)]
            info["num_by"] = {"yaw": info["numbers"][0]}
            mag = info["mag"] = "n"
    elif mag == "m":
        t = f"{verb} {dr}" if (rng.random() < 0.85 or verbless) else dr
    elif mag == "l":
        t = f"{verb} {pick(rng, LARGE_PRE_BARE, split)} {dr}" if rng.random() < 0.5 else f"{verb} {dr} {pick(rng, LARGE_POST, split)}"
    else:
        txt, val = say_angle(rng)
        info["numbers"] = [val]
        info["num_by"] = {"yaw": val}
        t = f"{verb} {txt} {dr}" if rng.random() < 0.6 else f"{verb} {dr} by {txt}"
    return t, {"yaw": f"{sign}{mag}"}, info


def scale_clause(rng: random.Random, split: str, head: Optional[str] = None, sign: Optional[str] = None) -> tuple[str, dict[str, str], dict[str, Any]]:
    head = head or rng.choice(["speed", "speed", "force", "height"])
    classes, weights = ["-m", "-s", "-l", "+m", "+s", "+l"], [0.3, 0.12, 0.1, 0.3, 0.1, 0.08]
    if sign:
        weights = [w if c[0] == sign else 0.0 for c, w in zip(classes, weights)]
    cls = rng.choices(classes, weights)[0]
    return pick(rng, SCALE_PHR[(head, cls)], split), {head: cls}, {"axis": head, "sign": cls[0], "mag": cls[1], "numbers": []}


def skill_clause(rng: random.Random, split: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    u = rng.random()
    if u < 0.55:
        return offset_clause(rng, split)
    if u < 0.72:
        return yaw_clause(rng, split)
    return scale_clause(rng, split)


def compound_clause(rng: random.Random, split: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """Two corrections in one utterance: "a bit lower and more to the left", "slower and a little lower"."""
    t1, l1, i1 = skill_clause(rng, split)
    for _ in range(20):
        if rng.random() < 0.6:
            # second one an offset on another axis; vague magnitudes may carry over ("a bit lower and more to the left")
            axes = [d for d in DIR_BARE if d[1] not in l1]
            d = rng.choice(axes)
            if i1["mag"] in ("s", "l") and rng.random() < 0.5:
                txt = pick(rng, DIR_CMP[d], split) if rng.random() < 0.6 else pick(rng, DIR_BARE[d], split)
                t2, l2, i2 = txt, {d[1]: d[0] + i1["mag"]}, {"axis": d[1], "sign": d[0], "mag": i1["mag"], "numbers": []}
            else:
                t2, l2, i2 = offset_clause(rng, split, axis_dir=d, verbless=True)
        else:
            t2, l2, i2 = skill_clause(rng, split)
        if i2["axis"] in ("x", "y", "z") and i2["mag"] == "m" and not i2.get("verb") and i1["mag"] in ("s", "l"):
            # an unmodified direction after a modified clause shares its modifier, always
            # ("a bit lower and to the left": both small), so the grammar never contradicts itself
            l2 = {i2["axis"]: i2["sign"] + i1["mag"]}
            i2 = {**i2, "mag": i1["mag"]}
        if not set(l2) & set(l1):
            break
    else:
        return t1, l1, i1
    info = {"axis": None, "mag": None, "numbers": i1["numbers"] + i2["numbers"], "parts": [i1, i2],
            "num_by": {**i1.get("num_by", {}), **i2.get("num_by", {})}}
    return f"{t1}{pick(rng, CONNECT, split)}{t2}", {**l1, **l2}, info


# ----------------------------------------------------------------------------------------------
# how people really say it: factors, verbs that name the motion, the held object, an observation before
# its fix, a leading interjection, praise that says "right", things that are not corrections at all

def _mag_of(text: str) -> str:
    """s / m / l of a phrase's own modifier ("a bit slower" -> s, "much slower" -> l)."""
    t = f" {text} "
    if any(w in t for w in (" a bit ", " a little ", " slightly ", " a touch ", " a tad ", " just a ")):
        return "s"
    if any(w in t for w in (" much ", " a lot ", " way ", " far ", " really ")):
        return "l"
    return "m"


def factor_clause(rng: random.Random, split: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """"twice as fast", "half the speed", "more than double the force": direction by the heads, factor by numbers.py."""
    head = rng.choice(["speed", "speed", "speed", "force", "height"])
    sign = rng.choice("+-")
    text = pick(rng, FACTOR[(head, sign)], split)
    f = parse_factor(text) or 2.0
    ratio = f if (f > 1) == (sign == "+") else 1 / f
    return text, {head: sign + "l"}, {"axis": head, "sign": sign, "mag": "f", "numbers": [], "num_by": {head: ratio}}


def verb_scale_clause(rng: random.Random, split: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """A speed or force word after a motion verb: "approach slower" changes speed only, "clamp down harder" force only."""
    sign = rng.choice("+-")
    if rng.random() < 0.6:
        head, word = "speed", pick(rng, SPEED_WORD[sign], split)
        text = f"{pick(rng, SPEED_VERB, split)} {word}"
    else:
        head, word = "force", pick(rng, FORCE_WORD[sign], split)
        text = f"{pick(rng, FORCE_VERB, split)} {word}"
    mag = _mag_of(word)
    return text, {head: sign + mag}, {"axis": head, "sign": sign, "mag": mag, "numbers": []}


def restate_clause(rng: random.Random, split: str) -> tuple[str, dict[str, str], dict[str, Any]]:
    """An observation, then its fix, one meaning: "going too fast, slow down", "too low, go up a bit"."""
    key = rng.choice(sorted(COMPLAINT))
    obs = pick(rng, COMPLAINT[key], split)
    if key.startswith(("speed", "force")):
        head, sign = key.split()
        if rng.random() < 0.25:  # the observation alone says what to change
            return obs, {head: sign + "m"}, {"axis": head, "sign": sign, "mag": "m", "numbers": []}
        text, lab, info = scale_clause(rng, split, head=head, sign=sign)
    else:
        text, lab, info = offset_clause(rng, split, axis_dir=key)
    return f"{obs}{rng.choice([', ', '. ', ' so ', ', so ', ' - ', ', just '])}{text}", lab, info


def object_offset_clause(rng: random.Random, split: str, obj: dict[str, Any], objs: list[dict[str, Any]]) -> tuple[str, dict[str, str], dict[str, Any]]:
    """An offset that names the object being moved: "nudge the red block right a bit"."""
    verb = pick(rng, OBJECT_VERB, split).format(o=ref(rng, obj, objs, split))
    text, lab, info = offset_clause(rng, split, verbless=True)
    return f"{verb} {text}", lab, info


def praise_text(rng: random.Random, split: str) -> str:
    """Praise, also with "right" meaning correct, and "continue" after it."""
    u = rng.random()
    if u < 0.5:
        return pick(rng, PRAISE, split)
    base = pick(rng, PRAISE_RIGHT if u < 0.8 else PRAISE, split)
    if rng.random() < 0.6:
        sep = rng.choice([", ", ". ", " now, ", ". now ", ", you can "])
        return f"{base}{sep}{pick(rng, CONTINUE, split)}"
    return base


_KEYS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_EMOJI = ("\U0001F600", "\U0001F44D", "\U0001F916", "\U0001F642", "\U0001F602", "\U0001F389", "\u2764\ufe0f", "\U0001F525",
          "\u2705", "\u274C", "\U0001F64F", "\U0001F605", "\U0001F440", "\U0001F914", "\U0001F4AF", "\U0001F44B")


def not_a_correction(rng: random.Random, split: str) -> str:
    """Something that is not about the robot's work: it must change nothing (level "unclear" -> ask)."""
    u = rng.random()
    if u < 0.16:  # keyboard mash
        words = []
        for _ in range(rng.randint(1, 3)):
            row = rng.choice(_KEYS)
            a = rng.randrange(len(row) - 2)
            w = row[a:a + rng.randint(3, 7)] if rng.random() < 0.6 else "".join(rng.choice("".join(_KEYS)) for _ in range(rng.randint(3, 8)))
            words.append(w)
        return " ".join(words)
    if u < 0.32:
        return pick(rng, FOREIGN, split)
    if u < 0.52:
        return pick(rng, OFFTOPIC, split)
    if u < 0.6:
        return pick(rng, GREETING, split)
    if u < 0.66:
        return " ".join(rng.choice(_EMOJI) for _ in range(rng.randint(1, 3)))
    if u < 0.72:
        return rng.choice([str(rng.randint(0, 999)), f"{rng.uniform(0, 100):.2f}", _say_int(rng, rng.randint(1, 20)), f"{rng.randint(1, 9)} {rng.randint(1, 9)} {rng.randint(1, 9)}"])
    if u < 0.79:
        return " ".join(pick(rng, LATIN, split) for _ in range(rng.randint(2, 5)))
    if u < 0.94:  # a correction's shape with a word nobody taught: do not guess what it means
        w = pick(rng, NONCE, split)
        return rng.choice([f"move it {w}", f"{w} {pick(rng, SMALL_POST, split)}", f"go {w}", f"{pick(rng, OFF_VERB, split)} {w}",
                           f"more {w} please", f"{w} please", f"make it more {w}", f"{pick(rng, OFF_VERB, split)} {pick(rng, SMALL_PRE, split)} {w}"])
    return pick(rng, UNCLEAR_FREE, split)


def contradiction_clause(rng: random.Random, split: str) -> str:
    u = rng.random()
    if u < 0.6:
        a = rng.choice(["x", "y", "z"])
        d1, d2 = ("+" + a, "-" + a) if rng.random() < 0.5 else ("-" + a, "+" + a)
        return f"{pick(rng, DIR_BARE[d1], split)}{pick(rng, CONNECT, split)}{pick(rng, DIR_BARE[d2], split)}"
    if u < 0.8:
        s = rng.choice([("speed", "+m", "-m"), ("force", "+m", "-m"), ("height", "+m", "-m")])
        return f"{pick(rng, SCALE_PHR[(s[0], s[1])], split)}{pick(rng, CONNECT, split)}{pick(rng, SCALE_PHR[(s[0], s[2])], split)}"
    return pick(rng, UNCLEAR_FREE, split)


# ----------------------------------------------------------------------------------------------
# scenes, references, tasks and plans

SIZE_WORD = {0.03: "small", 0.04: "medium", 0.05: "large"}
SIZE_SYN = {"small": ["small", "little", "tiny", "smaller"], "large": ["large", "big", "bigger", "larger"]}
KIND_SYN = {"block": ["block", "cube"], "bowl": ["bowl"], "tray": ["tray"]}


def size_word(o: dict[str, Any]) -> str:
    return block_size_word(o["size"]) if o["kind"] == "block" else "medium"


def make_scene(rng: random.Random, n_blocks: Optional[int] = None, n_bowls: Optional[int] = None,
               tray: Optional[bool] = None, palette: Optional[tuple[str, ...]] = None) -> dict[str, Any]:
    """A contract scene from :func:`sim.scene.random_scene`, sometimes with a same-colour block of another size."""
    nb = n_blocks if n_blocks is not None else rng.randint(2, 4)
    nw = n_bowls if n_bowls is not None else rng.randint(1, 3)
    tr = tray if tray is not None else rng.random() < 0.35
    sizes = rng.choice([("medium",), ("medium",), ("small", "medium", "large"), ("small", "large")])
    for _ in range(20):
        try:
            sc = random_scene(rng.randrange(10**9), n_blocks=nb, n_bowls=nw, tray=tr, sizes=sizes, colors=palette)
            break
        except SceneError:  # crowded table: try again, then with fewer containers
            if rng.random() < 0.5:
                tr, nw = False, max(1, nw - 1) if n_bowls is None else nw
    objs = [o.to_contract() for o in sc.objects]
    if rng.random() < 0.3:
        blocks = [o for o in objs if o["kind"] == "block"]
        b = rng.choice(blocks)
        others = [s for s in ("small", "medium", "large") if s != size_word(b)]
        sw = rng.choice(others)
        name = object_name(b["color"], "block", sw)
        if name not in {o["name"] for o in objs}:
            s = BLOCK_SIZES[sw]
            extra = SceneObject(name, "block", b["color"], s, (rng.uniform(0.36, 0.66), rng.uniform(-0.28, 0.28), s / 2))
            objs.append(extra.to_contract())
    rng.shuffle(objs)
    return {"objects": objs}


def references(o: dict[str, Any], objs: list[dict[str, Any]], split: str, rng: random.Random) -> list[str]:
    """Unambiguous ways to say ``o`` in this scene: "large red block", "big red cube", "red one", "the big one"."""
    same_kind = [p for p in objs if p["kind"] == o["kind"]]
    refs = [o["name"]]
    sw = size_word(o)
    kinds = KIND_SYN[o["kind"]]
    for k in kinds[1:]:
        refs.append(o["name"].replace(o["kind"], k))
    if len([p for p in same_kind if p["color"] == o["color"]]) == 1:
        refs += [f"{o['color']} one", f"{o['color']} {rng.choice(kinds)}"]
    if o["kind"] == "tray":
        refs += ["tray", "grey tray"]
    if o["kind"] == "block" and len(same_kind) >= 2:
        sizes = [p["size"] for p in same_kind]
        if o["size"] == max(sizes) and sizes.count(max(sizes)) == 1:
            w = rng.choice(SIZE_SYN["large"])
            refs += [f"{w} one", f"{w} {rng.choice(kinds)}"]
            if len([p for p in same_kind if p["color"] == o["color"]]) > 1:
                refs.append(f"{w} {o['color']} one")
        if o["size"] == min(sizes) and sizes.count(min(sizes)) == 1:
            w = rng.choice(SIZE_SYN["small"])
            refs += [f"{w} one", f"{w} {rng.choice(kinds)}"]
            if len([p for p in same_kind if p["color"] == o["color"]]) > 1:
                refs.append(f"{w} {o['color']} one")
        if sw != "medium":
            refs.append(f"{rng.choice(SIZE_SYN[sw])} {o['color']} {rng.choice(kinds)}")
    return refs


def ref(rng: random.Random, o: dict[str, Any], objs: list[dict[str, Any]], split: str) -> str:
    rs = references(o, objs, split, rng)
    return rs[0] if rng.random() < 0.4 else rng.choice(rs)


def _default_call(skill: str, **kw: Any) -> dict[str, Any]:
    args = {"offset": [0.0, 0.0, 0.0], "yaw": 0.0, "speed": 1.0, "height": 0.1}
    if skill == "pick":
        args["force"] = 20.0
    args.update(kw)
    return {"skill": skill, "args": args}


def task_text(rng: random.Random, o: dict[str, Any], t: dict[str, Any], objs: list[dict[str, Any]], split: str, plain: bool = False) -> str:
    pool = STACK_TASK if t["kind"] == "block" else MOVE_TASK
    if plain:
        return pool.core[0].format(o=o["name"], t=t["name"])
    return pick(rng, pool, split).format(o=ref(rng, o, objs, split), t=ref(rng, t, objs, split))


def _move_pair(rng: random.Random, objs: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    blocks = [o for o in objs if o["kind"] == "block"]
    conts = [o for o in objs if o["kind"] in ("bowl", "tray")]
    o = rng.choice(blocks)
    if len(blocks) >= 2 and (not conts or rng.random() < 0.3):
        t = rng.choice([b for b in blocks if b is not o])
    else:
        t = rng.choice(conts)
    return o, t


# ----------------------------------------------------------------------------------------------
# grounding examples

def _base(rng: random.Random) -> dict[str, Any]:
    scene = make_scene(rng)
    objs = scene["objects"]
    o, t = _move_pair(rng, objs)
    plan = [_default_call("pick", object=o["name"]), _default_call("place", target=t["name"])]
    task = task_text(rng, o, t, objs, "train", plain=True)
    if rng.random() < 0.15:
        others = [b for b in objs if b["kind"] == "block" and b["name"] not in (o["name"], t["name"])]
        if others:
            o2 = rng.choice(others)
            plan += [_default_call("pick", object=o2["name"]), _default_call("place", target=t["name"])]
    if rng.random() < 0.3:  # earlier corrections left non-default values
        for s in plan:
            if rng.random() < 0.5:
                s["args"]["offset"] = [round(rng.uniform(-0.03, 0.03), 3) for _ in range(3)]
            if rng.random() < 0.3:
                s["args"]["speed"] = rng.choice([0.6, 0.8, 1.25])
            if rng.random() < 0.2:
                s["args"]["yaw"] = round(rng.uniform(-0.3, 0.3), 3)
            if s["skill"] == "pick" and rng.random() < 0.2:
                s["args"]["force"] = rng.choice([15.0, 30.0])
    step = rng.randrange(len(plan))
    return {"kind": "ground", "scene": scene, "task": task, "plan": plan, "step": step, "history": [],
            "step_skill": plan[step]["skill"], "has_history": 0, "obj": None, "tgt": None}


def _labels(**kw: str) -> dict[str, str]:
    lab = {"level": "skill", "hist": "new", "hmag": "same", "x": "none", "y": "none", "z": "none", "yaw": "none",
           "speed": "none", "force": "none", "height": "none", "plan_op": "none"}
    lab.update(kw)
    lab["active"] = active_of(lab)
    return lab


def ground_example(rng: random.Random, split: str = "train") -> dict[str, Any]:
    """One grounding example with gold labels (see module docstring); never an evaluation utterance."""
    for _ in range(100):
        ex = _ground_example(rng, split)
        core = ex.pop("_core", "")
        if not (is_blocked(ex["utterance"]) or is_blocked(core) or any(is_blocked(h["utterance"]) for h in ex["history"])):
            return ex
    raise RuntimeError("the grammar produced only blocked utterances; check agent/grounder/data/phrases.json")


def _finish(ex: dict[str, Any], rng: random.Random, text: str, lab: dict[str, str], split: str,
            numbers: Optional[dict[str, float]] = None, interject: float = 0.0) -> dict[str, Any]:
    core = text
    if interject and rng.random() < interject:  # "that's wrong. move right", "perfect but slightly slower"
        text = f"{pick(rng, INTERJECTION, split)}{rng.choice(['. ', ', ', ' ', '! '])}{text}"
    ex.update(utterance=decorate(rng, text, split), labels=lab, numbers=numbers or {}, _core=core)
    return ex


def _ground_example(rng: random.Random, split: str) -> dict[str, Any]:
    ex = _base(rng)
    objs = ex["scene"]["objects"]
    plan = ex["plan"]
    from .apply import pair_indices
    pk, pl = pair_indices(plan, ex["step"])
    cur_o = next(o for o in objs if o["name"] == plan[pk]["args"]["object"])
    cur_t = next(o for o in objs if o["name"] == plan[pl]["args"]["target"])
    u = rng.random()
    info: dict[str, Any] = {"numbers": []}
    if rng.random() < 0.3:  # give it a history
        hist_text, hist_lab, hist_info = skill_clause(rng, split)
        if rng.random() < 0.5 and hist_info["mag"] == "n":
            hist_text, hist_lab, hist_info = offset_clause(rng, split, mag="m")
        ex["history"] = [{"utterance": decorate(rng, hist_text, split), "step": ex["step"], "labels": _labels(**hist_lab),
                          "numbers": hist_info.get("num_by", {})}]
        ex["has_history"] = 1
        if rng.random() < 0.6:
            v = rng.random()
            if v < 0.5:
                hm = rng.choices(["same", "small", "large"], [0.55, 0.3, 0.15])[0]
                text, lab = pick(rng, REPEAT[hm], split), _labels(hist="repeat", hmag=hm)
            elif v < 0.72:
                text, lab = pick(rng, REVERSE, split), _labels(hist="reverse")
            elif v < 0.86 or hist_info["axis"] not in ("x", "y", "z"):
                text, lab = pick(rng, UNDO, split), _labels(hist="undo")
            else:  # the direction said again with "more": "go backwards a bit more" after "move back"
                d = hist_info["sign"] + hist_info["axis"]
                m = rng.choice("sml")
                dtext = pick(rng, DIR_BARE[d] if rng.random() < 0.6 else DIR_CMP[d], split)
                verb = f"{pick(rng, OFF_VERB, split)} " if rng.random() < 0.4 else ""
                text, lab = f"{verb}{dtext} {pick(rng, MORE_SUFFIX[m], split)}", _labels(**{hist_info["axis"]: hist_info["sign"] + m})
            return _finish(ex, rng, text, lab, split)
    if u < 0.30:
        text, lab, info = skill_clause(rng, split)
        return _finish(ex, rng, text, _labels(**lab), split, info.get("num_by"), interject=0.1)
    if u < 0.44:
        text, lab, info = compound_clause(rng, split)
        return _finish(ex, rng, text, _labels(**lab), split, info.get("num_by"), interject=0.1)
    if u < 0.53:
        v = rng.random()
        if v < 0.35:
            text, lab, info = object_offset_clause(rng, split, cur_o, objs)
        elif v < 0.62:
            text, lab, info = verb_scale_clause(rng, split)
        elif v < 0.82:
            text, lab, info = restate_clause(rng, split)
        else:
            text, lab, info = factor_clause(rng, split)
        return _finish(ex, rng, text, _labels(**lab), split, info.get("num_by"), interject=0.1)
    if u < 0.70:  # plan edits
        blocks = [o for o in objs if o["kind"] == "block"]
        conts = [o for o in objs if o["kind"] in ("bowl", "tray")]
        stack = cur_t["kind"] == "block"
        v = rng.random()
        if v < 0.38:
            cands = [b for b in blocks if b["name"] not in (cur_o["name"], cur_t["name"])]
            if not cands:
                return _ground_example(rng, split)
            new = rng.choice(cands)
            r = ref(rng, new, objs, split)
            if rng.random() < 0.3:
                t = pick(rng, GENERIC_RETARGET, split).format(r=r)
                op = "retarget_target" if (stack and ex["step_skill"] == "place") else "retarget_object"
            else:
                t, op = pick(rng, RETARGET_OBJ, split).format(r=r), "retarget_object"
            text, lab = t, _labels(level="plan", plan_op=op)
            if op == "retarget_object":
                ex["obj"] = new["name"]
            else:
                ex["tgt"] = new["name"]
        elif v < 0.72:
            if stack:
                cands = [b for b in blocks if b["name"] not in (cur_o["name"], cur_t["name"])]
                pool = RETARGET_TGT_ON
            else:
                cands = [c for c in conts if c["name"] != cur_t["name"]]
                pool = RETARGET_TGT if rng.random() < 0.75 else GENERIC_RETARGET
            if not cands:
                return _ground_example(rng, split)
            new = rng.choice(cands)
            text = pick(rng, pool, split).format(r=ref(rng, new, objs, split))
            lab = _labels(level="plan", plan_op="retarget_target")
            ex["tgt"] = new["name"]
        else:
            in_plan = {s["args"].get("object") for s in plan}
            cands = [b for b in blocks if b["name"] not in in_plan and b["name"] != cur_t["name"]]
            if not cands:
                return _ground_example(rng, split)
            new = rng.choice(cands)
            w = rng.random()
            if w < 0.25:
                text = pick(rng, APPEND_SAME, split).format(o=ref(rng, new, objs, split))
                ex["tgt"] = plan[-1]["args"]["target"]
            else:
                tg = rng.choice(conts + [b for b in blocks if b is not new and b["name"] not in in_plan]) if conts else None
                if tg is None:
                    return _ground_example(rng, split)
                pool = APPEND_ON if tg["kind"] == "block" else APPEND
                text = pick(rng, pool, split).format(o=ref(rng, new, objs, split), t=ref(rng, tg, objs, split))
                ex["tgt"] = tg["name"]
            ex["obj"] = new["name"]
            lab = _labels(level="plan", plan_op="append")
        return _finish(ex, rng, text, lab, split, interject=0.1)
    if u < 0.75:
        return _finish(ex, rng, pick(rng, STOP, split), _labels(level="stop"), split)
    if u < 0.81:
        return _finish(ex, rng, praise_text(rng, split), _labels(level="none"), split)
    if u < 0.92:
        return _finish(ex, rng, not_a_correction(rng, split), _labels(level="unclear"), split)
    return _finish(ex, rng, contradiction_clause(rng, split), _labels(level="unclear"), split)


# ----------------------------------------------------------------------------------------------
# planning examples

def plan_example(rng: random.Random, split: str = "train") -> dict[str, Any]:
    """One task-to-plan example with gold labels."""
    u = rng.random()
    if u < 0.45:
        scene = make_scene(rng)
        objs = scene["objects"]
        o, t = _move_pair(rng, objs)
        text = task_text(rng, o, t, objs, split)
        ex = {"labels": {"task": "move"}, "obj": o["name"], "tgt": t["name"], "set": []}
    elif u < 0.7:
        scene = make_scene(rng, n_blocks=rng.randint(2, 4), tray=rng.random() < 0.6)
        objs = scene["objects"]
        conts = [o for o in objs if o["kind"] in ("bowl", "tray")]
        t = rng.choice(conts)
        blocks = [o for o in objs if o["kind"] == "block"]
        f = rng.random()
        if f < 0.2:
            text = pick(rng, EVERYTHING_TASK, split).format(t=ref(rng, t, objs, split))
            members = blocks
        else:
            b = rng.choice(blocks)
            g = rng.random()
            if g < 0.35:
                filt, members = "", blocks
            elif g < 0.75:
                filt, members = f"{b['color']} ", [p for p in blocks if p["color"] == b["color"]]
            elif size_word(b) != "medium":
                w = size_word(b)
                filt, members = f"{rng.choice(SIZE_SYN[w][:3])} ", [p for p in blocks if size_word(p) == w]
            else:
                filt, members = "", blocks
            text = pick(rng, ALL_TASK, split).format(f=filt, t=ref(rng, t, objs, split))
        ex = {"labels": {"task": "all_to"}, "obj": None, "tgt": t["name"], "set": [m["name"] for m in members]}
    elif u < 0.82:
        pal = ("red", "green", "blue", "yellow")
        scene = make_scene(rng, n_blocks=rng.randint(2, 4), n_bowls=rng.randint(2, 4), tray=rng.random() < 0.2, palette=pal)
        objs = scene["objects"]
        text = pick(rng, SORT_TASK, split)
        ex = {"labels": {"task": "sort"}, "obj": None, "tgt": None, "set": []}
    else:
        scene = make_scene(rng)
        objs = scene["objects"]
        o = rng.choice([p for p in objs if p["kind"] == "block"])
        text = pick(rng, PICK_TASK, split).format(o=ref(rng, o, objs, split))
        ex = {"labels": {"task": "pick_only"}, "obj": o["name"], "tgt": None, "set": []}
    ex.update(kind="plan", scene=scene, task=decorate(rng, text, split, noise=0.2))
    return ex


def expected_plan(ex: dict[str, Any]) -> list[dict[str, Any]]:
    """The gold plan of a planning example (defaults filled)."""
    objs = ex["scene"]["objects"]
    kind = ex["labels"]["task"]
    if kind == "move":
        return [_default_call("pick", object=ex["obj"]), _default_call("place", target=ex["tgt"])]
    if kind == "pick_only":
        return [_default_call("pick", object=ex["obj"])]
    if kind == "all_to":
        out: list[dict[str, Any]] = []
        for o in objs:
            if o["name"] in ex["set"]:
                out += [_default_call("pick", object=o["name"]), _default_call("place", target=ex["tgt"])]
        return out
    out = []
    bowls = {o["color"]: o["name"] for o in objs if o["kind"] == "bowl"}
    for o in objs:
        if o["kind"] == "block" and o["color"] in bowls:
            out += [_default_call("pick", object=o["name"]), _default_call("place", target=bowls[o["color"]])]
    return out


# ----------------------------------------------------------------------------------------------
# contract cases (for held-out evaluation)

_OFF_RANGE = {"s": (0.003, 0.025), "m": (0.008, 0.065), "l": (0.035, 0.21)}
_YAW_RANGE = {"s": (0.03, 0.36), "m": (0.1, 0.8), "l": (0.5, 1.6)}
_RATIO_RANGE = {"-s": (0.5, 0.97), "-m": (0.2, 0.92), "-l": (0.05, 0.7), "+s": (1.03, 1.6), "+m": (1.08, 3.0), "+l": (1.3, 3.5)}


def _effect_checks(lab: dict[str, str], numbers: dict[str, float], step: int, pick_step: int,
                   plan: Optional[list[dict[str, Any]]] = None) -> list[dict[str, Any]]:
    """Contract checks for labels; ``numbers``: the value said for an axis / yaw (m or rad)."""
    checks: list[dict[str, Any]] = []
    for a in ("x", "y", "z", "yaw"):
        c = lab.get(a, "none")
        if c == "none":
            continue
        sgn = -1 if c[0] == "-" else 1
        if c[1] == "n":
            v = numbers[a]
            lo, hi = v * 0.85, v * 1.15
        else:
            lo, hi = (_YAW_RANGE if a == "yaw" else _OFF_RANGE)[c[1]]
        rng_ = [lo, hi] if sgn > 0 else [-hi, -lo]
        if a == "yaw":
            checks.append({"step": step, "arg": "yaw", "delta": rng_})
        else:
            checks.append({"step": step, "arg": "offset", "axis": a, "delta": rng_})
    for h in ("speed", "force", "height"):
        c = lab.get(h, "none")
        if c != "none":
            if h in numbers and plan is not None:  # a factor said: that ratio, as far as the skill's bounds allow
                i = pick_step if h == "force" else step
                cur = float(plan[i]["args"].get(h, 20.0 if h == "force" else 1.0 if h == "speed" else 0.1))
                p = SKILLS[plan[i]["skill"]].param(h)
                r = min(float(p.hi), max(float(p.lo), cur * numbers[h])) / cur
                checks.append({"step": i, "arg": h, "ratio": [round(r * 0.98, 4), round(r * 1.02, 4)]})
            else:
                checks.append({"step": pick_step if h == "force" else step, "arg": h, "ratio": list(_RATIO_RANGE[c])})
    return checks


def _undo_checks(lab: dict[str, str], numbers: dict[str, float], step: int, pick_step: int) -> list[dict[str, Any]]:
    """The full revert of a correction with labels ``lab``: every check of it, mirrored."""
    out = []
    for c in _effect_checks(lab, numbers, step, pick_step):
        c = dict(c)
        if "delta" in c:
            lo, hi = c["delta"]
            c["delta"] = [-hi, -lo]
        else:
            lo, hi = c["ratio"]
            c["ratio"] = [round(1 / hi, 4), round(1 / lo, 4)]
        out.append(c)
    return out


def _reverse_checks(lab: dict[str, str], step: int, pick_step: int) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []
    for a in ("x", "y", "z", "yaw"):
        c = lab.get(a, "none")
        if c == "none":
            continue
        s = -1 if c[0] == "+" else 1  # opposite
        lo, hi = (0.015, 0.36) if a == "yaw" else (0.002, 0.025)
        d = [lo, hi] if s > 0 else [-hi, -lo]
        checks.append({"step": step, "arg": "yaw", "delta": d} if a == "yaw" else {"step": step, "arg": "offset", "axis": a, "delta": d})
    for h in ("speed", "force", "height"):
        c = lab.get(h, "none")
        if c != "none":
            r = [1.02, 1.7] if c[0] == "-" else [0.55, 0.98]
            checks.append({"step": pick_step if h == "force" else step, "arg": h, "ratio": r})
    return checks


def to_case(ex: dict[str, Any], cid: str) -> dict[str, Any]:
    """A contract evaluation case (``shared/spec/corrections.md``) for a grounding example."""
    from .apply import pair_indices
    lab = ex["labels"]
    step = ex["step"]
    pk, pl = pair_indices(ex["plan"], step)
    expect: list[dict[str, Any]] = []
    if lab["level"] in ("stop", "none"):
        expect.append({"level": lab["level"]})
    elif lab["level"] == "unclear":
        expect.append({"level": "none"})
    elif lab["level"] == "plan":
        op = lab["plan_op"]
        expect.append({"level": "plan"})
        if op == "retarget_object":
            expect.append({"step": pk, "arg": "object", "equals": ex["obj"]})
        elif op == "retarget_target":
            expect.append({"step": pl, "arg": "target", "equals": ex["tgt"]})
        else:
            n = len(ex["plan"])
            expect = [{"skills": [s["skill"] for s in ex["plan"]] + ["pick", "place"]},
                      {"step": n, "arg": "object", "equals": ex["obj"]}, {"step": n + 1, "arg": "target", "equals": ex["tgt"]}]
    else:
        if lab["hist"] == "new":
            expect += _effect_checks(lab, ex.get("numbers", {}), step, pk, ex["plan"])
        elif lab["hist"] == "undo":
            h = ex["history"][-1]
            expect += _undo_checks(h["labels"], h.get("numbers", {}), step, pk)
        else:
            h = ex["history"][-1]
            hl = h["labels"]
            if lab["hist"] == "repeat":
                if lab["hmag"] == "same":
                    expect += _effect_checks(hl, h.get("numbers", {}), step, pk)
                else:
                    m = lab["hmag"][0]
                    scaled = {k: (v[0] + m if k in ("x", "y", "z", "yaw", "speed", "force", "height") and v != "none" else v) for k, v in hl.items()}
                    expect += _effect_checks(scaled, {}, step, pk)
            else:
                expect += _reverse_checks(hl, step, pk)
    return {"id": cid, "scene": ex["scene"], "task": ex["task"], "plan": ex["plan"], "step": step,
            "history": [{"utterance": h["utterance"], "step": h["step"]} for h in ex["history"]],
            "utterance": ex["utterance"], "expect": expect}


def to_plan_case(ex: dict[str, Any], cid: str) -> dict[str, Any]:
    """A task-to-plan case: ``{"id", "scene", "task", "expect_plan"}``."""
    return {"id": cid, "scene": ex["scene"], "task": ex["task"], "expect_plan": expected_plan(ex)}


def generate(n_ground: int, n_plan: int, seed: int, split: str = "train") -> list[dict[str, Any]]:
    """``n_ground`` grounding and ``n_plan`` planning examples, reproducible from ``seed``."""
    rng = random.Random(f"{seed}-{split}")
    out = [ground_example(rng, split) for _ in range(n_ground)]
    out += [plan_example(rng, split) for _ in range(n_plan)]
    return out

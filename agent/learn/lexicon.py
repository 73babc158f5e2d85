"""The user's own direction words, found in the hindsight examples, taught in the grammar's sentences.

A handful of logged sentences teach a handful of sentences: the finetune fits "a good bit to port" and still
misreads "port a touch". So the words are taken out of the logs and put back into new sentences:

1. :func:`user_words`: a word the base checkpoint never saw (not in its vocabulary) that the hindsight labels
   tie to one direction (every labelled correction containing it moves the gripper along the same axis, the
   same way, in at least ``min_seen`` utterances; ASR slips seen once do not count) is one of the user's
   direction words ("port" = +y, left). Only the training episodes' examples are read (never the held-out slice).
2. :func:`examples`: offset corrections of the generated grammar (:mod:`agent.grounder.corpus`, train split,
   fresh scenes and plans, magnitude words, numbers, fillers and ASR noise as in the corpus) that say the
   user's word where the grammar says "left"; labelled like the corpus (offset class, ``active``). No
   evaluation utterance is ever produced: blocked texts (``agent/grounder/data/blocked.json``) are skipped.
3. :func:`frames`: the user's own ways of saying a move, taken whole from the labelled utterances that hold one of
   their direction words ("a good bit to port" labelled medium, "hard for'ard"), said again with every other
   direction (the user's words and the grammar's plain ones): "a good bit to starboard", "a good bit lower". So the
   user's magnitude words and verbs ("a good bit" is medium for this user, large in the grammar; "hard" sizes a move,
   not a grip) are learnt with the size the logs revealed, not only next to the direction they were said with.
   Turns too: a labelled turn that says one of the user's left / right words the way it turns (counter-clockwise is
   to the left: "swing her port" labelled +yaw) gives a turning phrasing, "swing her {}", said again turning both
   ways with the user's and the grammar's words for left and right and the grammar's clockwise words; a plain
   direction word in it ("come about to port, rotate left") is said again with the new direction too. Its own
   words (the verb the user turns with, "swing") join the candidate's vocabulary (:func:`turn_words`).
4. :func:`contrast`: as many generated things that are not corrections (keyboard mash, chatter, other
   languages, a correction's shape with a word nobody taught: level "unclear"), so that what is learnt is
   "these words of this user mean a direction", not "an unknown word means act".

Axes in the robot base frame: x forward, y left, z up.
"""
from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable

AXES = ("x", "y", "z")
TURN_SIDE = {"+yaw": "+y", "-yaw": "-y"}  # counter-clockwise seen from above is a turn to the left
PLAIN_SIDE = {"left": "+y", "right": "-y", "counterclockwise": "+yaw", "anticlockwise": "+yaw", "clockwise": "-yaw"}
SURFACE = re.compile(r"[a-z][a-z']*")


@dataclass
class LexiconConfig:
    """``min_seen``: labelled utterances a word needs; ``purity``: share of them that must agree on the direction;
    ``per_word``: generated sentences per user word (0: off); ``per_frame``: sentences per logged phrasing of the user
    (:func:`frames`; 0: off); ``seed``: their random seed."""

    min_seen: int = 2
    purity: float = 0.8
    per_word: int = 300
    per_frame: int = 60
    seed: int = 0


def _direction(ex: dict[str, Any]) -> str | None:
    """"+y" when the example's label moves along one axis only (a new skill change), else None."""
    lab = ex.get("labels") or {}
    if ex.get("kind") != "ground" or lab.get("level") != "skill" or lab.get("hist", "new") != "new":
        return None
    moves = [lab[a][0] + a for a in AXES if lab.get(a, "none") != "none"]
    others = [h for h in ("yaw", "speed", "force", "height") if lab.get(h, "none") != "none"]
    return moves[0] if len(moves) == 1 and not others else None


def _turn(ex: dict[str, Any]) -> str | None:
    """"+yaw" / "-yaw" when the example's label only turns (a new skill change), else None."""
    lab = ex.get("labels") or {}
    if ex.get("kind") != "ground" or lab.get("level") != "skill" or lab.get("hist", "new") != "new":
        return None
    if lab.get("yaw", "none") == "none" or any(lab.get(h, "none") != "none" for h in AXES + ("speed", "force", "height")):
        return None
    return lab["yaw"][0] + "yaw"


def user_words(examples: Iterable[dict[str, Any]], vocab: Iterable[str], cfg: LexiconConfig | None = None) -> dict[str, str]:
    """{surface word: direction} of the user's direction words (module docstring), e.g. {"port": "+y", "for'ard": "+x"}.
    A labelled turn says nothing for or against a word ("swing her port": port is to the left either way)."""
    from agent.grounder.numbers import tokens

    cfg = cfg or LexiconConfig()
    known = frozenset(vocab)
    seen: dict[str, Counter[str]] = {}
    for ex in examples:
        if ex.get("kind") != "ground" or _turn(ex) is not None:
            continue
        d = _direction(ex)
        for w in set(SURFACE.findall(str(ex.get("utterance", "")).lower())):
            if any(t.isalpha() and len(t) > 2 and t not in known for t in tokens(w)):
                seen.setdefault(w, Counter())[d or "other"] += 1
    out: dict[str, str] = {}
    for w, c in seen.items():
        d, n = max(((k, v) for k, v in c.items() if k != "other"), key=lambda kv: kv[1], default=(None, 0))
        if d is not None and n >= cfg.min_seen and n >= cfg.purity * sum(c.values()):
            out[w] = d
    return out


def _sentence(rng: random.Random, word: str, mag: str) -> tuple[str, dict[str, float]]:
    """An offset correction in the grammar's words with ``word`` as its direction; (text, numbers by axis)."""
    from agent.grounder import corpus as g

    dirp = word if rng.random() < 0.5 else f"to {word}"
    if mag == "s":
        t = f"{g.pick(rng, g.SMALL_PRE, 'train')} {dirp}" if rng.random() < 0.6 else f"{dirp} {g.pick(rng, g.SMALL_POST, 'train')}"
    elif mag == "m":
        t = dirp
    elif mag == "l":
        t = f"{g.pick(rng, g.LARGE_PRE_BARE, 'train')} {dirp}" if rng.random() < 0.6 else f"{dirp} {g.pick(rng, g.LARGE_POST, 'train')}"
    else:
        txt, val = g.say_length(rng)
        t = rng.choice([f"{txt} {dirp}", f"{dirp} {txt}", f"{dirp} by {txt}"])
        verb = g.pick(rng, g.NUM_VERB, "train") if rng.random() < 0.4 else ""
        return f"{verb} {t}".strip(), {"_value": val}
    verb = g.pick(rng, g.OFF_VERB, "train") if rng.random() < (0.6 if mag == "m" else 0.4) else ""
    return f"{verb} {t}".strip(), {}


def examples(words: dict[str, str], cfg: LexiconConfig | None = None) -> list[dict[str, Any]]:
    """``cfg.per_word`` generated grounding examples per user word (module docstring), ``source`` "lexicon"."""
    from agent.grounder import corpus as g

    cfg = cfg or LexiconConfig()
    rng = random.Random(f"lexicon-{cfg.seed}")
    out: list[dict[str, Any]] = []
    for word, d in sorted(words.items()):
        sign, axis = d[0], d[1]
        made = tries = 0
        while made < cfg.per_word and tries < cfg.per_word * 5:
            tries += 1
            mag = rng.choices(["s", "m", "l", "n"], [0.3, 0.3, 0.2, 0.2])[0]
            text, num = _sentence(rng, word, mag)
            ex = g._base(rng)
            numbers = {axis: num["_value"]} if "_value" in num else None
            ex = g._finish(ex, rng, text, g._labels(**{axis: sign + mag}), "train", numbers)
            if _blocked(ex):
                continue
            out.append({**ex, "source": "lexicon", "word": word})
            made += 1
    return out


DIRECTIONS = ("+x", "-x", "+y", "-y", "+z", "-z")


def _blocked(ex: dict[str, Any]) -> bool:
    """Whether a generated example (its ``_core`` phrase popped) says an evaluation text (``is_blocked``)."""
    from agent.grounder.phrases import is_blocked

    core = ex.pop("_core", "")
    return is_blocked(ex["utterance"]) or is_blocked(core)


FRAME_FILLERS = frozenset({"um", "uh", "er", "like", "to", "the", "i", "said", "no", "sorry"})  # not part of a phrasing


def _frames_of(examples: Iterable[dict[str, Any]], words: dict[str, str], vocab: Iterable[str] = (),
               min_seen: int = 2, turns: bool = False) -> list[tuple[list[str], str]]:
    """([frames], magnitude) of the user's phrasings: a labelled utterance that says exactly one of the user's
    direction words, the way its label moves, with that word replaced by ``{}`` ("a good bit to {}", "m").
    Utterances that differ only in fillers ("um", "to", "I said") are one phrasing; a phrasing counts when
    ``min_seen`` utterances say it with the same size, or once when it holds a word outside ``vocab`` (a word of
    the user's own, like "heaps", that the grammar gives no other meaning). A phrasing seen once in known words
    ("a bit {}" left when an ASR slip dropped "good") could teach the grammar's words a wrong size, so it does
    not count. Numbers are left out (their size is the number, not the phrasing). ``turns``: the turning phrasings
    instead (labelled turns, the word said the way it turns: "swing her {}"), with a plain direction word in them
    made a second slot, ``{p}`` ("come about to {}, {p}" from "come about to port, right" labelled -yaw)."""
    known = frozenset(vocab)
    seen: dict[tuple[str, str], list[str]] = {}
    for ex in examples:
        t = _turn(ex)
        if turns and t is not None:
            d, mag = TURN_SIDE[t], ex["labels"]["yaw"][1:]
        elif not turns and t is None and _direction(ex) is not None:
            d = _direction(ex)
            mag = ex["labels"][d[1]][1:]
        else:
            continue
        text = " ".join(str(ex.get("utterance", "")).lower().replace(",", " ").split())
        said = [w for w in set(SURFACE.findall(text)) if w in words]
        if mag not in ("s", "m", "l") or len(said) != 1 or words[said[0]] != d:
            continue
        parts = re.split(r"(?<![a-z'])" + re.escape(said[0]) + r"(?![a-z'])", text)
        if len(parts) != 2:
            continue
        frame = parts[0] + "{}" + parts[1]
        if turns:
            plain = [w for w in frame.split() if w in PLAIN_SIDE]
            if any(PLAIN_SIDE[w] not in (d, t) for w in plain) or len(plain) > 1:
                continue  # a plain word against the turn, or two of them: not one phrasing of one turn
            frame = " ".join("{p}" if w in PLAIN_SIDE else w for w in frame.split())
        key = " ".join(w for w in frame.split() if w not in FRAME_FILLERS)
        if key != "{}":
            seen.setdefault((key, mag), []).append(frame.strip())
    out = []
    for (key, mag), frames_ in sorted(seen.items()):
        own = any(t.isalpha() and t not in known for w in key.split() if w != "{}" for t in SURFACE.findall(w))
        if len(frames_) >= min_seen or (own and known):
            out.append((sorted(set(frames_)), mag))
    return out


def _fillers(words: dict[str, str]) -> dict[str, list[str]]:
    """Per direction: the user's words for it and the grammar's one-word plain ones ("left", "leftward", "lower")."""
    from agent.grounder import corpus as g

    out = {d: [w for w, dw in sorted(words.items()) if dw == d] for d in DIRECTIONS}
    for d in DIRECTIONS:
        out[d] += [w for w in g.DIR_BARE[d].train if " " not in w]
    return out


def _plain_turn_words() -> dict[str, list[str]]:
    """Per turn ("+yaw", "-yaw"): the grammar's one-word plain words for it ("left", "counterclockwise", ...)."""
    from agent.grounder import corpus as g

    return {t: [w for w in g.DIR_BARE[TURN_SIDE[t]].train + g.YAW_DIR[t[0]].train if " " not in w and "-" not in w]
            for t in ("+yaw", "-yaw")}


def turn_frames(examples_: Iterable[dict[str, Any]], words: dict[str, str], cfg: LexiconConfig | None = None,
                vocab: Iterable[str] = ()) -> list[dict[str, Any]]:
    """``cfg.per_frame`` generated grounding examples per logged turning phrasing of the user (module docstring,
    step 3), ``source`` "frame", ``turn`` True: the phrasing turning each way, with the user's word for that side
    or a plain one, the size the log revealed; blocked texts skipped."""
    from agent.grounder import corpus as g

    cfg = cfg or LexiconConfig()
    found = _frames_of(examples_, words, vocab, cfg.min_seen, turns=True)
    if not found or cfg.per_frame <= 0:
        return []
    plain = _plain_turn_words()
    rng = random.Random(f"turn-frames-{cfg.seed}")

    def say(forms: list[str], mag: str, made: int) -> tuple[str, dict[str, str], str]:
        t = ("+yaw", "-yaw")[made % 2]
        own = [w for w, d in sorted(words.items()) if d == TURN_SIDE[t]]
        word = rng.choice(own) if own and rng.random() < 0.5 else rng.choice(plain[t])
        frame = rng.choice(forms)
        return frame.replace("{p}", rng.choice(plain[t])).format(word), g._labels(yaw=t[0] + mag), frame

    return _say_again(found, cfg.per_frame, rng, say, {"turn": True})


def turn_words(examples_: Iterable[dict[str, Any]]) -> set[str]:
    """The words of the turning phrasings generated by :func:`turn_frames` (the user's verb for a turn, "swing",
    "about"), which join the candidate's vocabulary: they were said in a labelled turn of the logs."""
    out: set[str] = set()
    for ex in examples_:
        if ex.get("source") == "frame" and ex.get("turn"):
            out |= {w for w in SURFACE.findall(str(ex.get("frame", "")).replace("{p}", " ").replace("{}", " ").lower())}
    return out


def frames(examples_: Iterable[dict[str, Any]], words: dict[str, str], cfg: LexiconConfig | None = None,
           vocab: Iterable[str] = ()) -> list[dict[str, Any]]:
    """``cfg.per_frame`` generated grounding examples per logged phrasing of the user (module docstring, step 3),
    ``source`` "frame": the phrasing with a direction of each axis and sign in the word's place, the size the log
    revealed for it, fresh scenes and plans, fillers and ASR noise as in the corpus; blocked texts skipped."""
    from agent.grounder import corpus as g

    cfg = cfg or LexiconConfig()
    found = _frames_of(examples_, words, vocab, cfg.min_seen)
    if not found or cfg.per_frame <= 0:
        return []
    fill = _fillers(words)
    rng = random.Random(f"frames-{cfg.seed}")

    def say(forms: list[str], mag: str, made: int) -> tuple[str, dict[str, str], str]:
        d = DIRECTIONS[made % len(DIRECTIONS)]
        own = [w for w in fill[d] if w in words]
        word = rng.choice(own) if own and rng.random() < 0.5 else rng.choice(fill[d])
        frame = rng.choice(forms)
        return frame.format(word), g._labels(**{d[1]: d[0] + mag}), frame

    return _say_again(found, cfg.per_frame, rng, say)


def _say_again(found: list[tuple[list[str], str]], per_frame: int, rng: random.Random,
               say: Any, extra: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """``per_frame`` examples per found phrasing: ``say(forms, magnitude, made)`` gives (text, labels, frame), which
    gets a fresh scene and plan and the corpus's fillers and noise; blocked texts are skipped, ``source`` "frame"."""
    from agent.grounder import corpus as g

    out: list[dict[str, Any]] = []
    for forms, mag in found:
        made = tries = 0
        while made < per_frame and tries < per_frame * 5:
            tries += 1
            text, lab, frame = say(forms, mag, made)
            ex = g._finish(g._base(rng), rng, text, lab, "train")
            if _blocked(ex):
                continue
            out.append({**ex, "source": "frame", "frame": frame, **(extra or {})})
            made += 1
    return out


def contrast(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` generated grounding examples that are not corrections (level "unclear"), ``source`` "contrast"."""
    from agent.grounder import corpus as g
    from agent.grounder.phrases import is_blocked

    rng = random.Random(f"contrast-{seed}")
    out: list[dict[str, Any]] = []
    while len(out) < n:
        ex = g._base(rng)
        ex = g._finish(ex, rng, g.not_a_correction(rng, "train"), g._labels(level="unclear"), "train")
        core = ex.pop("_core", "")
        if not (is_blocked(ex["utterance"]) or is_blocked(core)):
            out.append({**ex, "source": "contrast"})
    return out

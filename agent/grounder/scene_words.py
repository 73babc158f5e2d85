"""Checks an utterance's colour / kind words against the scene, for the clarification path.

"no, the purple block" when there is no purple block cannot be grounded: the policy answers
``Grounding(level="none", question="there is no purple block; I see: red block, ...")`` instead of
guessing. Only literal colour and object-kind words are checked here; which object a reference
means ("the big one", "the yellow one") is the learned pointer's job.
"""
from __future__ import annotations

import re
from typing import Any, Optional, Sequence

from hardware.scene import COLORS

from .numbers import tokens

COLOR_WORDS = {c: c for c in COLORS} | {"grey": "gray"}
KIND_WORDS = {"block": "block", "blocks": "block", "cube": "block", "cubes": "block", "bowl": "bowl", "bowls": "bowl",
              "tray": "tray", "trays": "tray"}
UNKNOWN_KINDS = {"ball", "balls", "cup", "cups", "plate", "plates", "cylinder", "sphere", "bottle", "mug", "pyramid",
                 "basket", "jar", "box", "boxes", "can", "cone", "bin", "bucket", "spoon", "toy"}
SKIP = {"small", "little", "tiny", "large", "big", "bigger", "larger", "smaller", "medium", "one", "ones", "colored", "coloured"}


def seen(objs: Sequence[dict[str, Any]]) -> str:
    return ", ".join(o["name"] for o in objs)


def unknown_reference(text: str, objs: Sequence[dict[str, Any]]) -> Optional[str]:
    """A question when ``text`` names a colour, kind or colour+kind that the scene lacks; else None."""
    toks = tokens(text)
    for i, t in enumerate(toks):
        if t in UNKNOWN_KINDS and t != "can":
            return f"there is no {t}; I see: {seen(objs)}"
        if t in KIND_WORDS and not any(o.get("kind") == KIND_WORDS[t] for o in objs):
            return f"there is no {KIND_WORDS[t]}; I see: {seen(objs)}"
        if t not in COLOR_WORDS:
            continue
        c = COLOR_WORDS[t]
        kind = None
        for u in toks[i + 1:i + 4]:
            if u in KIND_WORDS:
                kind = KIND_WORDS[u]
                break
            if u in UNKNOWN_KINDS and u != "can":
                return f"there is no {c} {u}; I see: {seen(objs)}"
            if u not in SKIP:
                break
        if kind and not any(o.get("color") == c and o.get("kind") == kind for o in objs):
            return f"there is no {c} {kind}; I see: {seen(objs)}"
        if not any(o.get("color") == c for o in objs):
            return f"there is no {c} {kind or 'object'}; I see: {seen(objs)}"
    return None


# Words a speech recogniser puts in place of a kind word ("the green black" for "the green block", "the red ball" for
# "the red bowl"): sound-alikes, plain English, not from any evaluation file.
SOUND_ALIKES = {"black": "block", "blog": "block", "blocked": "block", "ball": "bowl", "bold": "bowl", "bowel": "bowl"}
# ... and in place of a colour word ("the blew block", "no, the read one"): homophones, read as the colour only right
# before a kind word or "one(s)", where no other reading is plain English.
COLOR_SOUND_ALIKES = {"blew": "blue", "bleu": "blue", "read": "red", "reed": "red"}


def kind_sound_alikes(text: str, objs: Sequence[dict[str, Any]]) -> tuple[str, dict[str, str]]:
    """``text`` with a sound-alike of a kind word read as that kind word where it stands as the noun after a colour
    or size word ("the small green black" -> "the small green block") and the scene has no object it could name
    itself (no black object, no ball), and a homophone of a colour read as that colour right before a kind word or
    "one" ("the blew block" -> "the blue block", so a colour the scene lacks is asked about, not guessed); returns
    (new text, {old: new})."""
    colors = {o.get("color") for o in objs}
    kinds = {o.get("kind") for o in objs}
    done: dict[str, str] = {}
    words = re.findall(r"[A-Za-z']+|[^A-Za-z']+", text or "")
    prev = ""
    for i, w in enumerate(words):
        lw = w.lower()
        if not lw.strip() or not lw[0].isalpha():
            continue
        colour = COLOR_SOUND_ALIKES.get(lw)
        if colour:
            nxt = next((x.lower() for x in words[i + 1:] if x.strip() and x[0].isalpha()), "")
            if nxt in KIND_WORDS or nxt in SOUND_ALIKES or nxt in ("one", "ones"):
                words[i] = colour if w.islower() else colour.capitalize()
                done[lw] = colour
                prev = colour
                continue
        new = SOUND_ALIKES.get(lw)
        if new and new in kinds and (prev in COLOR_WORDS or prev in SKIP) and COLOR_WORDS.get(lw) not in colors:
            nxt = next((x.lower() for x in words[i + 1:] if x.strip() and x[0].isalpha()), "")
            if nxt not in KIND_WORDS and nxt not in UNKNOWN_KINDS:
                words[i] = new
                done[lw] = new
        prev = lw
    return "".join(words), done

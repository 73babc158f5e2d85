"""The words a checkpoint knows: every word it was trained on (:func:`vocabulary`; the policy asks about a word
outside it unless very sure), and the words it knows only from talk that is not a correction
(:func:`chatter_vocabulary`: "turn the music down", "my car is faster").

The grammar teaches the model many sentences that must change nothing: praise, chatter, greetings, other
languages, keyboard mash (levels ``none`` and ``unclear``). Their words join the model's vocabulary, so the
unknown-word check (:mod:`agent.grounder.policy`: an utterance with a word the model never saw acts only when
the reading is very sure) did not apply to them, and "could you turn the music down" moved the place 3 cm down
at 0.57.

A *chatter word* is a content word (three letters or more; not a function word of :data:`FUNCTION_WORDS`, nor a
word for the robot or its parts, :data:`ROBOT_WORDS`) that the training corpus says in at least ``min_seen`` of
its sentences that are not about the robot's work (level ``unclear``: chatter, other languages, keyboard mash)
and in none that is: no correction, stop or plan edit, and no praise or "go on" (level ``none``), since
feedback words come with corrections ("nice, but a bit lower", "not exactly, more to the left"). The policy
treats such a word like an unknown one: the reading must be very sure to act. The list is stored with the
checkpoint (``config.json["chatter"]``); a finetune removes the words it taught (:mod:`agent.learn.finetune`).

``python3 -m agent.grounder.known_words CHECKPOINT`` adds the list to a checkpoint trained before it existed: it
regenerates the checkpoint's training corpus from its stored config and refuses when that corpus's vocabulary
is not the stored one (the grammar changed since, so the list would not be the checkpoint's).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

# closed-class English words: they say nothing about the topic, so they never mark talk as off-topic
FUNCTION_WORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both but
by can could did do does doing down during each few for from further had has have having he her here hers herself
him himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only
or other our ours ourselves out over own same she should so some such than that the their theirs them themselves
then there these they this those through to too under until up very was we were what when where which while who
whom why will with would you your yours yourself yourselves never ever also yet still shall may might must
think guess mean suppose maybe perhaps reckon mind
""".split())  # the last row: hedges ("I think a bit more left", "never mind, go left")
# the robot and its parts are never off-topic, whatever the grammar happened to say them in
ROBOT_WORDS = frozenset({"arm", "robot", "hand", "gripper", "grippers", "claw", "wrist", "fingers", "jaws", "tool"})


def vocabulary(examples: list[dict[str, Any]]) -> list[str]:
    """Every word a corpus trains on (utterances, history, tasks, object names), sorted."""
    from .numbers import tokens

    words: set[str] = set()
    for e in examples:
        text = e["task"] if e["kind"] == "plan" else e["utterance"]
        for t in [text] + [h["utterance"] for h in e.get("history", [])] + [o["name"] for o in e["scene"]["objects"]]:
            words.update(w for w in tokens(t) if w.isalpha())
    return sorted(words)


def chatter_vocabulary(examples: Iterable[dict[str, Any]], min_seen: int = 3) -> list[str]:
    """The chatter words (module docstring) of a generated corpus's grounding examples, sorted."""
    from .numbers import tokens

    about_the_work: set[str] = set()
    other: Counter[str] = Counter()
    for e in examples:
        if e.get("kind") != "ground":
            continue
        words = {w for w in tokens(e["utterance"]) if w.isalpha()}
        if e["labels"]["level"] == "unclear":
            other.update(words)
        else:
            about_the_work |= words
    return sorted(w for w, n in other.items() if n >= min_seen and len(w) > 2 and w not in about_the_work
                  and w not in FUNCTION_WORDS and w not in ROBOT_WORDS)


def add_to_checkpoint(checkpoint: str, min_seen: int = 3) -> int:
    """Write ``chatter`` into ``checkpoint/config.json`` from its regenerated training corpus; returns the count."""
    from hardware.errors import UsageError

    from .corpus import generate

    path = Path(checkpoint) / "config.json"
    if not path.is_file():
        raise UsageError(f"{checkpoint} has no config.json")
    meta = json.loads(path.read_text())
    tr = meta.get("train") or {}
    if not {"n_ground", "n_plan", "seed"} <= set(tr):
        raise UsageError(f"{path} does not say how its corpus was generated (train.n_ground / n_plan / seed)")
    examples = generate(int(tr["n_ground"]), int(tr["n_plan"]), int(tr["seed"]), "train")
    if sorted(meta.get("vocab", ())) != vocabulary(examples):
        raise UsageError(f"the regenerated corpus's vocabulary differs from {path}'s: the grammar changed since the "
                         "checkpoint was trained; retrain it (robocorrect train) instead")
    meta["chatter"] = chatter_vocabulary(examples, min_seen)
    meta["chatter_command"] = f"python3 -m agent.grounder.known_words {checkpoint} --min-seen {min_seen}"
    path.write_text(json.dumps(meta, indent=1) + "\n")
    return len(meta["chatter"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m agent.grounder.known_words", description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("--min-seen", type=int, default=3, help="sentences that change nothing a word must be said in")
    a = p.parse_args(argv)
    from hardware.errors import RobocorrectError

    try:
        n = add_to_checkpoint(a.checkpoint, a.min_seen)
    except RobocorrectError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{n} chatter words written to {a.checkpoint}/config.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The words that control a teaching session, and the one safety vocabulary.

Session words are handled before any model runs (``agent.session``): stop, undo, done, give up,
continue, "don't do that again" and praise. Everything else is a correction for the policy to ground.

:data:`SAFETY_WORDS` is the one list of words that stop the arm; the grounder's deterministic layer
(``agent.grounder.numbers.is_safety_stop``) imports it from here, so a word means the same thing in both
places. "abort" is one of them: it stops the arm at once (within one control tick) and the episode stays
open, so the user can say what to do next; "give up" ends the episode as a failure.

:func:`task_question` tells a task ("put the red block in the green bowl") from text that is not one
("hello", "a bit more", "slower", "no, the blue one"): text at the task prompt that is not a task gets a
question back, never a motion.
"""
from __future__ import annotations

import re
from typing import Iterable, Optional

# --- the safety vocabulary (shared with agent.grounder.numbers) ------------------------------------
SAFETY_WORDS: tuple[str, ...] = ("stop", "wait", "halt", "freeze", "abort")
"""Single words that stop the arm wherever they occur in an utterance."""

# --- session words, matched against the whole normalized utterance ----------------------------------
_STOP = re.compile(r"^(" + "|".join(SAFETY_WORDS) + r"|hold on|hold it|whoa|emergency stop|stop stop)"
                   r"( (it|now|right now|there|moving|please))*$")
_UNDO = re.compile(r"^(undo|undo (that|it|the last (change|correction))|revert( that)?|take that back|"
                   r"cancel (that|the last (change|correction)))( please)?$")
_DONE = re.compile(r"^(done|(we are|we're|i am|i'm|all) done|that'?s it|that is it|finished|finish|end( the episode)?|"
                   r"task (done|complete))( please| thanks| thank you)?$")
_GIVE_UP = re.compile(r"^(give up|i give up|forget it|never ?mind|let'?s stop here|quit)( please)?$")
_DONT_AGAIN = re.compile(r"^(please )?(don'?t|do not|never) do (that|this|it) again( please)?$")
_RESUME = re.compile(r"^(continue|go on|go ahead|resume|carry on|proceed|ok go|okay go|go|try again|retry|again please)( please)?$")
_PRAISE = re.compile(r"^(good|great|perfect|nice|excellent|well done|good job|nice job|great job|good robot|thanks|thank you|"
                     r"yes|yes that'?s (it|right)|that'?s (right|good|perfect|great)|exactly|looks good|ok|okay|correct)"
                     r"( thanks| thank you)?$")

WORD_KINDS: tuple[str, ...] = ("stop", "undo", "done", "give_up", "dont_again", "resume", "praise")
"""What :func:`classify` returns for a session word; anything else is ``"correction"``."""

_RULES = (("stop", _STOP), ("undo", _UNDO), ("done", _DONE), ("give_up", _GIVE_UP),
          ("dont_again", _DONT_AGAIN), ("resume", _RESUME), ("praise", _PRAISE))


def normalize(text: str) -> str:
    """Lower-case, punctuation dropped (apostrophes and decimal points kept), spaces collapsed."""
    t = re.sub(r"[^\w\s'.-]", " ", text.lower()).replace("’", "'")
    t = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", t)
    return re.sub(r"\s+", " ", t).strip()


def classify(text: str) -> str:
    """'stop', 'undo', 'done', 'give_up', 'dont_again', 'resume', 'praise' or 'correction'."""
    t = normalize(text)
    for name, rx in _RULES:
        if rx.match(t):
            return name
    return "correction"


# --- tasks -----------------------------------------------------------------------------------------
TASK_VERBS: frozenset[str] = frozenset({
    "put", "place", "move", "pick", "push", "stack", "drop", "take", "bring", "set", "lift", "grab", "get",
    "carry", "transfer", "shift", "slide", "sort", "clear", "lay", "stick", "toss", "load", "fetch", "store", "hand",
})
"""Verbs that start (or carry) a pick-and-place task."""

_CORRECTION_START = re.compile(r"^(no|nope|not|actually|instead|wrong|a bit|a little|bit|little|more|less|too|"
                               r"slower|faster|higher|lower|further|closer|left|right|forward|back)\b")


def task_question(text: str, object_words: Iterable[str], example: str = "put the red block in the green bowl") -> Optional[str]:
    """None when ``text`` reads as a task about the scene; otherwise the question to ask instead.

    A task has a task verb (:data:`TASK_VERBS`, e.g. "put", "move", "stack") and names something on the
    table (a word of ``object_words``: the scene objects' names, colours and kinds). Session words, and
    corrections said when no episode runs ("a bit more", "slower", "no, the blue one"), are not tasks.
    """
    t = normalize(text)
    if not t:
        return "type a task, e.g. 'put the red block in the green bowl'"
    words = set(re.findall(r"[a-z']+", t))
    kind = classify(t)
    example = f"e.g. {example!r}"
    if kind != "correction":
        return f"no episode is running, so {text.strip()!r} has nothing to act on; type a task, {example}"
    seen = {w for name in object_words for w in re.findall(r"[a-z]+", name.lower())}
    stems = {w[:-1] if w.endswith("s") else w for w in words}
    if _CORRECTION_START.match(t) and not (words & TASK_VERBS):
        return f"{text.strip()!r} sounds like a correction, but no episode is running; type a task, {example}"
    if not (words & TASK_VERBS):
        return f"I did not understand {text.strip()!r} as a task: say what to move and where, {example}"
    if not ((words | stems) & seen):
        return f"{text.strip()!r} names nothing on the table ({', '.join(sorted(seen)) or 'nothing'}); type a task, {example}"
    return None

"""Words that carry no correction: an unknown word in the verb's place ("dip down a little", "scoot left"), or an
utterance of nothing but such frame words ("move", "to the", "come").

The grammar's corrections start with a verb ("move", "shift it", "bring it"); a user's own verb there is the
most common word the model never saw, and it rarely carries the correction: the direction and the amount
follow it. :func:`rest_after_lead` gives the words after such a lead-in, which the policy reads again; the
policy acts on that reading only when it agrees with its reading of the whole utterance (see
``EmbeddedPolicy.ground``). An unknown word anywhere else ("much further bag", "come clothes her"), or a
lead-in that may negate ("dont go down"), leaves the utterance as it is: the robot asks.
"""
from __future__ import annotations

from typing import Optional, Sequence

from .numbers import tokens

# closed class: words that may negate or halt what follows; such a lead-in is never dropped
NEGATING = frozenset({"no", "not", "dont", "don", "doesnt", "doesn", "didnt", "didn", "never", "cant", "can", "cannot",
                      "wont", "won", "shouldnt", "shouldn", "isnt", "isn", "nope", "nah", "avoid", "without", "stop",
                      "quit", "cease", "halt", "wait", "undo", "unless", "except", "neither", "nor", "none"})
# words that say no direction, amount or argument by themselves: verbs of motion, articles, pronouns, fillers
FRAME_WORDS = frozenset({"to", "the", "a", "an", "it", "its", "that", "this", "there", "here", "move", "moving", "go", "going",
                         "come", "coming", "put", "shift", "bring", "take", "get", "do", "make", "try", "please", "now", "just",
                         "then", "and", "so", "ok", "okay", "um", "uh", "uhh", "er", "erm", "mm", "mmm", "hm", "hmm", "hmmm",
                         "mhm", "like", "you", "your", "can", "could",
                         "will", "would", "should", "need", "needs", "let", "lets", "s", "of", "with", "for", "on", "in", "at"})
MAX_LEAD = 2  # at most two unknown words in the verb's place ("gently dip down")


def rest_after_lead(utterance: str, unknown: Sequence[str]) -> Optional[str]:
    """The words of ``utterance`` after its first words when those are exactly the ``unknown`` words (1 to
    :data:`MAX_LEAD` of them, none negating), at least one word remaining; else None."""
    words = tokens(utterance)
    unk = set(unknown)
    if not unk or len(unk) > MAX_LEAD or unk & NEGATING or any(w.startswith("un") for w in unk):
        return None
    k = 0
    while k < len(words) and words[k] in unk:
        k += 1
    if k == 0 or k == len(words) or set(words[:k]) != unk or unk & set(words[k:]):
        return None
    return " ".join(words[k:])


def same_reading(a: object, b: object) -> bool:
    """Whether two readings (:class:`agent.grounder.apply.Intent`) ask for the same change: level, history kind,
    every direction / scale class, plan operation and pointed objects."""
    keys = ("level", "hist", "hmag", "signed", "scale", "plan_op", "obj", "tgt")
    return all(getattr(a, k, None) == getattr(b, k, None) for k in keys)




HESITATIONS = frozenset({"um", "uh", "uhh", "er", "erm", "mm", "mmm", "hm", "hmm", "hmmm", "mhm"})


def only_hesitation(text: str) -> bool:
    """Whether ``text`` is nothing but hesitation sounds ("mm", "hmm, uh"): a clause that names no change at all
    (unlike "go on then", whose frame words still mean "more of the same")."""
    words = tokens(text)
    return bool(words) and all(w in HESITATIONS for w in words)


_APPROVAL_LEAD = frozenset({"now", "ok", "okay", "yes", "yeah", "yep", "good", "great", "oh", "ah", "so", "and", "well"})
_APPROVAL_SUBJECT = (("that", "s"), ("that", "is"), ("thats",), ("this", "is"), ("it", "s"), ("it", "is"), ("that", "was"),
                     ("you", "got"), ("you", "ve", "got"))
_APPROVAL_WORD = frozenset({"right", "correct", "perfect", "good", "proper", "ideal", "fine", "spot"})
_APPROVED = frozenset({"grip", "spot", "place", "speed", "pace", "height", "force", "position", "one", "block", "bowl",
                       "amount", "way", "angle", "direction", "idea", "move", "size", "target", "there", "now", "on"})


def approves(text: str) -> bool:
    """Whether ``text`` only says that something is right ("now that's the right grip", "that is correct", "it's
    perfect there"): "right" there means correct, and the clause names no change, whatever a model reads into
    "grip" or "right" (a grip read as firmer, "right" as a move to the right)."""
    words = tokens(text)
    while words and words[0] in _APPROVAL_LEAD:
        words = words[1:]
    subj = next((s for s in _APPROVAL_SUBJECT if tuple(words[:len(s)]) == s), None)
    if subj is None:
        return False
    words = words[len(subj):]
    while words and words[0] in ("just", "exactly", "absolutely", "the", "a"):
        words = words[1:]
    return bool(words) and words[0] in _APPROVAL_WORD and len(words) <= 3 and all(w in _APPROVED for w in words[1:])


def says_nothing(utterance: str) -> bool:
    """Whether every word of ``utterance`` is a :data:`FRAME_WORDS` word (and there is at least one): "move",
    "to the", "come" name no change, whatever a model guesses from them."""
    words = tokens(utterance)
    return bool(words) and all(w in FRAME_WORDS for w in words)

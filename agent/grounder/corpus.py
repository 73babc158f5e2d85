"""The training corpus: a grammar of tasks and corrections over random scenes.

Every phrase pool is ``(core, extra)``: core phrases (the contract's own words) are always used for
training; the extra paraphrases are split by position, every fourth one held out
(``split="test"`` draws from the held-out ones), so the test set measures phrasings the model never
saw. Scenes come from :func:`sim.scene.random_scene` (sizes small/large, a gray tray, same-colour
blocks of other sizes). Utterances get fillers ("uh", "okay so", "please") and ASR-style noise
(dropped / swapped letters, homophones: "write" for "right", "lef", "to"/"too").

Two kinds of examples (plain dicts, JSON-serialisable):

- grounding: ``{"kind": "ground", "scene", "task", "plan", "step", "history": [{"utterance", "step",
  "labels"}], "utterance", "labels": {head: class}, "obj", "tgt", "has_history", "step_skill"}``
- planning: ``{"kind": "plan", "scene", "task", "labels": {"task": type}, "obj", "tgt", "set": [names]}``

:func:`to_case` turns a grounding example into a contract evaluation case (with ``expect`` checks), and
:func:`to_plan_case` a planning example into a task-to-plan case, so a generated held-out set can be
scored with ``shared/eval/score_grounding.py`` and ``robocorrect plan --score``.
"""
from __future__ import annotations

import copy
import math
import random
from typing import Any, Optional

from hardware.scene import BLOCK_SIZES, SceneError, SceneObject, block_size_word, object_name
from sim.scene import random_scene

from .labels import OFFSET_M, SCALE_RATIO, YAW_RAD

# ----------------------------------------------------------------------------------------------
# phrase pools: (core, extra)

Pool = tuple[list[str], list[str]]


def pick(rng: random.Random, pool: Pool, split: str) -> str:
    core, extra = pool
    train_extra = [p for i, p in enumerate(extra) if i % 4 != 3]
    test_extra = [p for i, p in enumerate(extra) if i % 4 == 3]
    if split == "test":
        if test_extra and rng.random() < 0.8:
            return rng.choice(test_extra)
        return rng.choice(core or extra)
    return rng.choice(core + train_extra if (core or train_extra) else extra)


DIR_BARE: dict[str, Pool] = {
    "+y": (["left", "to the left"], ["to your left", "leftwards", "towards the left", "over to the left", "to the left side", "leftward", "toward the left", "off to the left"]),
    "-y": (["right", "to the right"], ["to your right", "rightwards", "towards the right", "over to the right", "to the right side", "rightward", "toward the right", "off to the right"]),
    "+x": (["forward", "further away", "away from me"], ["ahead", "farther away", "away from you", "further out", "forwards", "toward the far side", "further from me", "outward", "further from the robot", "away from the base"]),
    "-x": (["back", "closer", "closer to me", "toward me", "toward you"], ["backward", "backwards", "nearer", "towards me", "closer to you", "in toward me", "nearer to me", "back toward me", "towards the robot", "closer to the base"]),
    "+z": (["up", "higher"], ["upward", "upwards", "higher up", "up more", "up a level", "skyward"]),
    "-z": (["down", "lower"], ["downward", "downwards", "lower down", "deeper", "down more", "closer to the table"]),
}
DIR_CMP: dict[str, Pool] = {
    "+y": (["more to the left", "further left", "further to the left"], ["more left", "farther left", "farther to the left", "more leftward", "further over to the left"]),
    "-y": (["more to the right", "further right", "further to the right"], ["more right", "farther right", "farther to the right", "more rightward", "further over to the right"]),
    "+x": (["further forward", "further away", "farther"], ["more forward", "farther forward", "farther away", "further ahead", "more away from me"]),
    "-x": (["closer", "further back", "closer to me"], ["nearer", "farther back", "more toward me", "more back", "closer in"]),
    "+z": (["higher", "further up"], ["more up", "higher up", "farther up", "upper"]),
    "-z": (["lower", "further down"], ["more down", "lower down", "farther down", "deeper"]),
}
OFF_VERB: Pool = (["move", "go", "move it", "shift it", "put it"], ["nudge it", "shift", "bring it", "aim", "slide it", "place it", "scoot it", "move the gripper", "try", "adjust it", "set it", "drop it"])
SMALL_PRE: Pool = (["a bit", "a little", "slightly", "a touch", "a tad", "a little bit"], ["just a bit", "a tiny bit", "a smidge", "a hair", "just slightly", "a wee bit", "ever so slightly", "marginally", "a teeny bit", "barely", "a skosh", "just a touch"])
SMALL_POST: Pool = (["a bit", "a little", "slightly", "a touch", "a tad", "a little bit"], ["just a little", "a hair", "a smidge", "a tiny bit", "just a tad", "a wee bit", "a fraction", "a teeny bit"])
LARGE_PRE_BARE: Pool = (["a lot", "way", "far"], ["a good bit", "quite a bit", "really far", "a whole lot", "very far", "a long way"])
LARGE_PRE_CMP: Pool = (["much", "way", "a lot", "far"], ["a whole lot", "significantly", "quite a bit", "loads", "a great deal", "considerably", "substantially", "heaps"])
LARGE_POST: Pool = (["a lot", "a bunch"], ["by a lot", "a good amount", "quite a lot", "a great deal", "by a mile", "loads"])
NUM_VERB: Pool = (["move it", "move", "go", "shift it"], ["bring it", "nudge it", "slide it", "put it", "offset it", "shift"])

YAW_DIR: dict[str, Pool] = {
    "+": (["counterclockwise", "counter clockwise", "anticlockwise"], ["anti-clockwise", "counter-clockwise", "anti clockwise", "the other way, counterclockwise"]),
    "-": (["clockwise"], ["clock wise", "clockwise direction", "in the clockwise direction", "the clockwise way"]),
}
YAW_VERB: Pool = (["rotate", "turn", "rotate the gripper", "turn it", "rotate it"], ["twist", "twist it", "rotate the hand", "spin it", "turn the gripper", "twist the wrist", "angle it", "rotate the wrist", "turn the hand"])

SCALE_PHR: dict[tuple[str, str], Pool] = {
    ("speed", "-m"): (["slow down", "slower", "go slower", "slower please", "move slower"], ["take it slower", "not so fast", "ease off the speed", "reduce speed", "move more slowly", "less speed", "slow it down", "go more slowly", "too fast", "reduce the speed", "decelerate", "lower the speed"]),
    ("speed", "-s"): (["a bit slower", "slightly slower", "slow down a little", "a little slower"], ["a touch slower", "slow down a tad", "just a bit slower", "a tad slower", "slow down slightly", "a hair slower"]),
    ("speed", "-l"): (["much slower", "way slower", "a lot slower", "slow way down"], ["really slowly", "very slowly", "far slower", "much much slower", "super slow", "slow down a lot", "at a crawl"]),
    ("speed", "+m"): (["faster", "speed up", "go faster", "faster please", "move faster"], ["quicker", "hurry up", "pick up the pace", "move more quickly", "too slow", "more speed", "get a move on", "increase the speed", "accelerate", "go quicker"]),
    ("speed", "+s"): (["a bit faster", "slightly faster", "speed up a little", "a little faster"], ["a little quicker", "a touch faster", "speed up a tad", "just a bit faster", "slightly quicker"]),
    ("speed", "+l"): (["much faster", "way faster", "a lot faster"], ["as fast as you can", "much quicker", "far faster", "speed up a lot", "way quicker", "really fast"]),
    ("force", "+m"): (["grip harder", "hold it tighter", "grip it harder", "squeeze harder", "firmer", "tighter grip", "grip tighter", "harder"], ["firmer grip", "stronger grip", "more force", "clamp down harder", "grab it firmly", "grasp more firmly", "tighten the grip", "it's slipping, grip harder", "squeeze it more", "hold it more firmly", "more grip force", "grab it tighter"]),
    ("force", "+s"): (["grip a bit harder", "a little tighter", "slightly firmer"], ["squeeze a bit harder", "a touch more grip", "grip slightly tighter", "a tad firmer"]),
    ("force", "+l"): (["grip much harder", "a lot tighter", "way harder"], ["squeeze as hard as you can", "much firmer", "a lot more force", "grip way tighter"]),
    ("force", "-m"): (["gentler", "gentler with the grip", "softer", "loosen your grip", "gentler grip", "less force"], ["don't squeeze so hard", "easy on the grip", "lighter grip", "grip more gently", "you're crushing it", "not so tight", "softer grip", "relax the grip", "less grip force", "hold it more gently", "loosen up", "ease the grip"]),
    ("force", "-s"): (["a bit gentler", "slightly softer", "loosen your grip a little"], ["a touch gentler", "a little less force", "grip a bit more gently", "slightly looser"]),
    ("force", "-l"): (["much gentler", "a lot softer", "way gentler"], ["much less force", "barely squeeze it", "loosen your grip a lot", "far gentler"]),
    ("height", "+m"): (["come in from higher", "come in from higher up", "lift higher", "approach from higher", "higher approach"], ["more clearance", "lift it higher", "raise the approach", "approach from further above", "clear it by more", "come down from higher", "approach from above more", "higher clearance", "lift it up more before moving"]),
    ("height", "+s"): (["come in from a bit higher", "a little more clearance", "lift slightly higher"], ["approach from slightly higher", "a touch more clearance", "lift a bit higher"]),
    ("height", "+l"): (["come in from much higher", "a lot more clearance", "lift much higher"], ["approach from way higher", "lift way higher", "much more clearance"]),
    ("height", "-m"): (["approach lower", "come in lower", "lower approach", "lift less"], ["less clearance", "don't lift so high", "come in from lower", "approach from closer above", "smaller clearance", "lower the approach"]),
    ("height", "-s"): (["approach a bit lower", "slightly less clearance"], ["come in a little lower", "lift a bit less"]),
    ("height", "-l"): (["approach much lower", "a lot less clearance"], ["lift much less", "come in way lower"]),
}

RETARGET_OBJ: Pool = (["no, the {r}", "pick the {r} instead", "the {r}, not that one", "grab the {r}", "I meant the {r}", "wrong one, the {r}", "use the {r}", "take the {r} instead"],
                      ["not that block, the {r}", "switch to the {r}", "go for the {r}", "no no, the {r}", "actually pick up the {r}", "I said the {r}", "it should be the {r}", "rather the {r}", "get the {r} instead", "wrong block, pick the {r}", "pick up the {r} instead", "try the {r}"])
RETARGET_TGT: Pool = (["put it in the {r} instead", "no, in the {r}", "wrong bowl, use the {r}", "into the {r}", "use the {r} instead", "I meant the {r}"],
                      ["drop it in the {r}", "place it in the {r} instead", "not that bowl, the {r}", "the {r} instead", "it goes in the {r}", "take it to the {r}", "move it over to the {r}", "it belongs in the {r}", "switch to the {r}", "no, put it into the {r}", "other bowl, the {r}", "rather the {r}"])
RETARGET_TGT_ON: Pool = (["put it on the {r} instead", "no, on the {r}", "stack it on the {r}", "on top of the {r}", "I meant the {r}"],
                         ["place it on the {r} instead", "the {r} instead", "no, stack it onto the {r}", "put it on top of the {r}", "onto the {r}", "it goes on the {r}"])
GENERIC_RETARGET: Pool = (["no, the {r}", "I meant the {r}", "use the {r}"], ["the {r} instead", "rather the {r}", "switch to the {r}", "no no, the {r}"])
APPEND: Pool = (["also put the {o} in the {t}", "and then put the {o} in the {t}", "after that, put the {o} in the {t}", "put the {o} in the {t} too", "also the {o} in the {t}"],
                ["then also move the {o} to the {t}", "next, place the {o} into the {t}", "once you're done, the {o} goes in the {t}", "and the {o} in the {t} as well", "add the {o} to the {t} too", "put the {o} into the {t} afterwards", "also move the {o} into the {t}", "then do the {o} into the {t}"])
APPEND_ON: Pool = (["also stack the {o} on the {t}", "then put the {o} on the {t}", "also put the {o} on top of the {t}"], ["after that, stack the {o} onto the {t}", "and the {o} on the {t} as well", "next put the {o} on the {t}"])
APPEND_SAME: Pool = (["do the {o} too", "the {o} as well", "also the {o}"], ["and the {o} too", "then the {o} as well", "same with the {o}", "also do the {o}", "the {o} next"])
STOP: Pool = (["stop", "halt", "wait", "freeze", "stop now", "hold on"], ["whoa whoa", "pause", "enough", "stop moving", "hang on", "don't move", "cease", "stop right there", "wait a second", "stop stop stop"])
PRAISE: Pool = (["good", "perfect, that's it", "that's right", "great", "yes", "nice", "perfect"],
                ["well done", "looks good", "exactly", "spot on", "that works", "thank you", "good job", "correct", "awesome", "that's perfect", "yes exactly like that", "lovely", "that's fine", "nailed it", "great work", "that's the one"])
UNCLEAR_FREE: Pool = (["what", "hmm", "blah blah"], ["the weather is nice", "what time is it", "banana", "I don't know", "whatever", "can you sing", "tell me a joke", "purple monkey dishwasher"])
REPEAT: dict[str, Pool] = {
    "same": (["more", "again", "keep going", "same again", "do that again", "one more time", "even more", "continue", "more please"], ["more of that", "once more", "go on", "keep it going", "repeat that", "same thing again", "do it again", "still more", "yet more", "keep at it", "another one", "and again"]),
    "small": (["a bit more", "a little more", "slightly more", "a touch more", "a tad more"], ["just a little more", "a tiny bit more", "a hair more", "just a bit more", "a smidge more", "a little bit more"]),
    "large": (["a lot more", "much more", "way more"], ["a whole lot more", "loads more", "far more", "lots more"]),
}
REVERSE: Pool = (["too far, back a little", "too far", "too much", "back a little", "that's too far", "go back a bit"],
                 ["overshot, back a bit", "you overdid it", "a bit less", "not that much", "too far, undo a bit", "that was too much", "you went too far", "less than that", "ease back a little", "oops, too much, back up a touch", "too far, come back a bit", "went past it, back a little"])
CONNECT: Pool = ([" and ", ", ", " and also "], [" and then ", ", plus ", " but also ", " also ", ", and ", " and at the same time "])
PREFIX: Pool = (["uh", "um", "okay so", "please", "so", "okay", "no", "hmm", "well"], ["alright", "hey", "hey robot", "now", "oh", "erm", "listen", "ok", "yeah", "actually", "okay now", "uhh", "robot", "umm okay"])
SUFFIX: Pool = (["please", "thanks", "okay"], ["for me", "if you can", "thank you", "now", "there", "ok", "will you", "right away"])

# ----------------------------------------------------------------------------------------------
# broader paraphrase coverage (appended to the extras, so positions of the earlier extras, and with
# them the held-out every-fourth split, stay where they were; the new ones are split the same way)

def _more(pool: Pool, new: list[str]) -> None:
    seen = set(pool[0]) | set(pool[1])
    pool[1].extend(p for p in new if p not in seen and not seen.add(p))


_more(DIR_BARE["+y"], ["left side", "over left", "leftish", "left of where it is", 
                       "toward your left", "to the left hand side", "more towards the left", "left-hand side", "over to your left"])
_more(DIR_BARE["-y"], ["right side", "over right", "rightish", "right of where it is", 
                       "toward your right", "to the right hand side", "more towards the right", "right-hand side", "over to your right"])
_more(DIR_BARE["+x"], ["out further", "further forward", "away", "out away from me", "forward more", "more out from me", "to the front",
                       "toward the front", "out", "away from yourself", "more to the front", "further from the base"])
_more(DIR_BARE["-x"], ["in closer", "back toward you", "nearer to you", "towards you", "toward the back",
                       "to the back", "inward", "back in", "more toward the robot", "closer to the robot"])
_more(DIR_BARE["+z"], ["up higher", "go up", "raise it", "lift it up", "above", "up top", 
                       "further above", "off the table more", "raise it up", "up from there"])
_more(DIR_BARE["-z"], ["down lower", "go down", "lower it", "drop it down", "toward the table", "sink it", "down further",
                       "downwards more", "below", "down toward the table", "lower it down", "nearer the table"])
_more(DIR_CMP["+y"], ["even more to the left", "further leftward", "more over to the left", "further to your left",
                      "more towards the left", "left some more"])
_more(DIR_CMP["-y"], ["even more to the right", "further rightward", "more over to the right", "further to your right",
                      "more towards the right", "right some more"])
_more(DIR_CMP["+x"], ["even further away", "more forward", "forward some more", "further forwards",
                      "farther out", "more to the front"])
_more(DIR_CMP["-x"], ["even closer", "closer in toward me", "back some more", "more toward you", "further in",
                      "more inward", "closer yet"])
_more(DIR_CMP["+z"], ["even higher", "up some more", "further upward", "more upward", "up further", "more up high", "even further up"])
_more(DIR_CMP["-z"], ["even lower", "down some more", "further downward", "more downward", "down further", "more down low", "even further down"])
_more(OFF_VERB, ["can you move it", "could you move", "let's go", "you need to go", "it needs to go", "try going", "bring the gripper",
                 "position it", "move your hand", "take it", "move over", "push it", "pull it", "carry it", "reposition it",
                 "just move", "now go", "you should go", "I need it", "put the gripper", "make it go", "let's move it", "shift over"])
_more(SMALL_PRE, ["only a little", "just a little", "a tiny little bit", "a fraction", "a hint", "a whisker", "a smidgen", "a notch",
                  "a shade", "a pinch", "minimally", "very slightly", "ever so little", "a wee", "a little tiny bit", "a small amount",
                  "teeny bit", "some small amount", "only slightly", "a tiny amount", "tiny bit", "little bit"])
_more(SMALL_POST, ["only a little", "just slightly", "a notch", "a smidgen", "a whisker", "a hint", "very slightly", "a small amount",
                   "a tiny amount", "ever so slightly", "a little more", "but only a bit", "a little tiny bit", "a pinch",
                   "not much", "a shade", "only slightly"])
_more(LARGE_PRE_BARE, ["lots", "tons", "miles", "a ton", "really really far", "a great distance", "a good way", "so much", "a long long way",
                       "much further", "plenty", "way way", "pretty far", "a big step", "a large amount", "a fair bit"])
_more(LARGE_PRE_CMP, ["lots", "tons", "a ton", "massively", "dramatically", "a good deal", "plenty", "way way", "a big step", "hugely",
                      "vastly", "a large amount", "so much", "a fair bit", "really much", "miles"])
_more(LARGE_POST, ["a ton", "tons", "lots", "a long way", "by a lot more", "by a large amount", "a big step", "plenty",
                   "quite far", "massively", "by miles", "really far", "a good deal", "very far", "a fair bit"])
_more(NUM_VERB, ["can you move it", "please move it", "go", "take it", "push it", "move the hand", "adjust it", "bring the gripper",
                 "reposition it", "we need it", "it should go", "let's go"])
_more(YAW_DIR["+"], ["ccw", "counterclockwize", "anticlockwize", "counter clock wise", "anti clock wise", "the counterclockwise way",
                     "counterclockwise direction", "to the anticlockwise"])
_more(YAW_DIR["-"], ["cw", "clockwize", "the way the clock goes", "in a clockwise direction", "clockwise way", "clockwise please",
                     "with the clock", "clock-wise"])
_more(YAW_VERB, ["swivel", "swivel it", "pivot it", "turn your hand", "rotate your wrist", "give it a twist", "twist the gripper",
                 "rotate the end effector", "spin the wrist", "turn the wrist", "can you rotate", "yaw it", "turn"])
_more(SCALE_PHR[("speed", "-m")], ["slow", "go slow", "slowly", "more slowly please", "ease up", "don't rush", "take your time",
                                   "not so quick", "less fast", "slower speed", "reduce your speed", "cut the speed", "you're going too fast",
                                   "that's too fast", "tone down the speed", "drop the speed"])
_more(SCALE_PHR[("speed", "-s")], ["just a little slower", "a smidge slower", "a little more slowly", "slightly slower please",
                                   "a bit more slowly", "ease off a little"])
_more(SCALE_PHR[("speed", "-l")], ["slow right down", "way more slowly", "a lot more slowly", "dead slow", "as slow as you can",
                                   "slow down a whole lot", "much much slower please"])
_more(SCALE_PHR[("speed", "+m")], ["quick", "quickly", "speed it up", "hurry", "faster now", "step on it", "more quickly please",
                                   "you're too slow", "that's too slow", "up the speed", "go quicker please", "increase speed",
                                   "faster speed", "less slow", "pick it up", "move it faster"])
_more(SCALE_PHR[("speed", "+s")], ["a smidge faster", "a little more quickly", "slightly quicker please", "a bit quicker", "speed up slightly"])
_more(SCALE_PHR[("speed", "+l")], ["way more quickly", "a lot quicker", "full speed", "speed up a whole lot", "much much faster", "really speed it up"])
_more(SCALE_PHR[("force", "+m")], ["hold tighter", "grab harder", "grip firmer", "firm grip", "stronger", "clench harder", "more pressure",
                                   "press harder", "don't drop it, grip harder", "tighter", "more grip", "grip it firmly",
                                   "increase the grip", "hold on tighter", "squeeze tighter", "grab it more firmly"])
_more(SCALE_PHR[("force", "+s")], ["a little more grip", "hold it a bit tighter", "slightly more force", "a tad tighter", "grip a little firmer"])
_more(SCALE_PHR[("force", "+l")], ["grip really hard", "a lot more grip", "squeeze much harder", "much tighter", "way more force"])
_more(SCALE_PHR[("force", "-m")], ["gently", "more gently", "grip softer", "lighter", "ease up on the grip", "less pressure",
                                   "don't crush it", "light touch", "softer please", "less grip", "grip it gently", "not so hard",
                                   "reduce the grip", "you're squeezing too hard", "loosen the grip", "less tight"])
_more(SCALE_PHR[("force", "-s")], ["slightly less grip", "a tad gentler", "a little softer", "loosen it a bit", "a bit less pressure"])
_more(SCALE_PHR[("force", "-l")], ["way softer", "a lot less grip", "much less pressure", "really gently", "barely grip it"])
_more(SCALE_PHR[("height", "+m")], ["higher approach height", "raise the approach height", "come from higher", "come in from above more",
                                    "more lift", "lift higher before moving", "clear the edge more", "go over it higher",
                                    "approach higher", "more height on the approach", "more clearance please", "higher lift"])
_more(SCALE_PHR[("height", "+s")], ["a bit more clearance", "lift a little higher", "slightly higher approach", "a tad more lift"])
_more(SCALE_PHR[("height", "+l")], ["much higher approach", "way more clearance", "lift a lot higher", "a lot higher approach"])
_more(SCALE_PHR[("height", "-m")], ["lower approach height", "less lift", "not so high on the approach", "approach from lower",
                                    "less height on the approach", "don't come in so high", "lower clearance", "reduce the clearance"])
_more(SCALE_PHR[("height", "-s")], ["a bit less clearance", "slightly lower approach", "a tad less lift"])
_more(SCALE_PHR[("height", "-l")], ["much less lift", "way less clearance", "a lot lower approach"])
_more(RETARGET_OBJ, ["not this one, the {r}", "wrong block, the {r}", "that's the wrong one, grab the {r}", "I want the {r}",
                     "the {r} please", "no, pick up the {r}", "should be the {r}", "it's the {r} I want", "go with the {r}",
                     "change to the {r}", "other one, the {r}", "nope, the {r}", "not that, the {r}", "you should take the {r}",
                     "the {r} not that one", "wrong object, the {r}"])
_more(RETARGET_TGT, ["wrong container, the {r}", "no, into the {r} instead", "put it in the {r}", "in the {r} please",
                     "the {r} not that one", "drop it into the {r} instead", "I wanted it in the {r}", "should go in the {r}",
                     "change the target to the {r}", "nope, the {r}", "wrong place, the {r}", "not there, the {r}",
                     "into the {r} please", "it should go in the {r}", "put it into the {r} not there", "that bowl is wrong, the {r}"])
_more(RETARGET_TGT_ON, ["no, onto the {r}", "put it onto the {r}", "stack it on the {r} instead", "on the {r} please",
                        "it should go on the {r}", "wrong block, on the {r}", "not there, on the {r}", "on top of the {r} instead"])
_more(GENERIC_RETARGET, ["nope, the {r}", "not that one, the {r}", "the {r} please", "no, I said the {r}", "go with the {r}",
                         "it should be the {r}", "the {r}, not that", "wrong one, the {r}"])
_more(APPEND, ["and put the {o} in the {t} too", "oh and the {o} into the {t}", "when you're done put the {o} in the {t}",
               "also, the {o} into the {t}", "don't forget the {o}, it goes in the {t}", "afterwards move the {o} to the {t}",
               "plus the {o} in the {t}", "then the {o} into the {t}", "after this, the {o} into the {t}",
               "also place the {o} in the {t}", "then put the {o} in the {t} as well", "and move the {o} into the {t} after"])
_more(APPEND_ON, ["then stack the {o} on the {t}", "and put the {o} on top of the {t} too", "also place the {o} onto the {t}",
                  "afterwards stack the {o} on the {t}", "plus the {o} on the {t}", "then the {o} on top of the {t}"])
_more(APPEND_SAME, ["the {o} too", "and also the {o}", "then do the {o}", "after that the {o}", "now the {o} as well",
                    "do the same with the {o}", "the {o} next please", "also move the {o}"])
_more(PRAISE, ["yep", "yeah that's good", "okay good", "that's great", "perfect thanks", "very good", "brilliant", "that'll do",
               "just like that", "yes that's right", "all right, perfect", "good, that's it", "beautiful", "excellent", "nice one",
               "that looks right", "right, good", "good enough", "yes, like that", "super"])
_more(UNCLEAR_FREE, ["I like turtles", "never mind the music", "what's for lunch", "la la la", "testing testing", "is it raining",
                     "sing a song", "how are you", "my cat is orange", "hmm let me think"])
_more(REPEAT["same"], ["keep going that way", "more more", "again please", "do it once more", "same again please", "further",
                       "continue that", "carry on", "keep moving", "more like that", "same direction again", "go on then",
                       "even further", "one more", "again, same thing", "further please", "more of the same", "keep on going",
                       "do that one more time", "repeat", "that again", "and more"])
_more(REPEAT["small"], ["a little further", "a bit further", "just a touch more", "a tiny bit further", "slightly further",
                        "just a tad more", "a little more of that", "a bit more please", "a smidgen more", "only a little more"])
_more(REPEAT["large"], ["much further", "way further", "a lot further", "tons more", "lots further", "a good bit more",
                        "plenty more", "a ton more", "far further"])
_more(REVERSE, ["too far now, back up a little", "back it up a bit", "you've gone too far", "overshot it", "bring it back a little",
                "undo a little", "back off a bit", "slightly less", "a touch less", "not so far", "too much that way",
                "you passed it, come back a bit", "that overshot", "way too far, back a bit", "too far, go back a little",
                "little too far", "that's too much, back a touch", "too far, reverse a bit",
                "go back slightly", "come back a little", "you went over, back a bit"])
_more(CONNECT, [" then ", ", then ", " and uh ", " plus ", ", um, ", ", and also ", " and a ", " as well as ", " and, ", "; ", " & "])
_more(PREFIX, ["right so", "all right", "alright so", "okay right", "and", "so yeah", "sorry", "ah", "let's see", "I think", "I'd say",
               "maybe", "can you", "could you", "try to", "right okay", "now then", "mm", "uh so", "yes but", "okay um", "right then",
               "alright then", "hmm okay"])
_more(SUFFIX, ["right now", "yeah", "go ahead", "would you", "if that's alright", "then", "okay?", "cool",
               "thanks a lot", "straight away", "at once", "immediately", "for now", "all right", "there you go", "buddy"])

HOMOPHONES = {
    "right": ["write", "rite", "wright"], "left": ["lef", "leff", "laugh"], "to": ["too", "two"], "too": ["to"],
    "for": ["four"], "higher": ["hire", "hier"], "lower": ["lore", "lowr"], "bit": ["bid", "bitt"], "little": ["littel", "lil"],
    "red": ["read"], "blue": ["blew"], "forward": ["foreword", "forwerd"], "counterclockwise": ["counter clockwise", "countercockwise"],
    "clockwise": ["clock wise", "clockwize"], "gray": ["grey"], "grey": ["gray"], "there": ["their"], "slower": ["slowr", "slowa"],
    "one": ["won"], "way": ["weigh"], "tad": ["tadd"], "grip": ["grippe", "gripp"], "higher up": ["hire up"], "back": ["bak"],
    "closer": ["closr", "clothes her"], "down": ["dawn"], "more": ["moor", "mor"], "bowl": ["bowel", "boll"], "block": ["blok", "black"],
    "yellow": ["yello"], "green": ["grean"], "tray": ["trey"], "faster": ["fastr"], "please": ["pleas"], "rotate": ["rotait"],
    "slightly": ["slightely", "slighly", "slitely"], "again": ["a gain", "agin"], "further": ["furthur", "farther"],
    "farther": ["further", "father"], "touch": ["tutch", "tuch"], "gentler": ["gentlr", "gentle"], "tighter": ["titer", "tigher"],
    "up": ["op", "upp"], "a": ["uh", "the"], "the": ["da", "a"], "it": ["et", "at"], "lot": ["lut", "lat"], "much": ["mutch", "mush"],
    "keep": ["keap", "kip"], "going": ["goin", "gone"], "little": ["littel", "lil", "liddle", "littl"], "bit": ["bid", "bitt", "bet", "beet"],
    "left": ["lef", "leff", "laugh", "lefft"], "lower": ["lore", "lowr", "lowa", "law"], "move": ["moove", "mov"],
    "closer": ["closr", "clothes her", "closure"], "away": ["a way", "awey"], "speed": ["sped"], "slow": ["slo"], "grip": ["grippe", "gripp", "grap"],
}
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


def scale_clause(rng: random.Random, split: str, head: Optional[str] = None) -> tuple[str, dict[str, str], dict[str, Any]]:
    head = head or rng.choice(["speed", "speed", "force", "height"])
    cls = rng.choices(["-m", "-s", "-l", "+m", "+s", "+l"], [0.3, 0.12, 0.1, 0.3, 0.1, 0.08])[0]
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


MOVE_TASK: Pool = (["put the {o} in the {t}", "place the {o} into the {t}", "put the {o} into the {t}", "move the {o} to the {t}"],
                   ["drop the {o} in the {t}", "pick up the {o} and put it in the {t}", "the {o} goes in the {t}", "can you put the {o} in the {t}",
                    "I want the {o} in the {t}", "transfer the {o} to the {t}", "put the {o} inside the {t}", "get the {o} into the {t}",
                    "load the {o} into the {t}", "bring the {o} over to the {t}", "grab the {o} and drop it into the {t}", "{o} in the {t} please"])
STACK_TASK: Pool = (["stack the {o} on the {t}", "put the {o} on top of the {t}", "place the {o} on the {t}", "stack the {o} on top of the {t}"],
                    ["pile the {o} onto the {t}", "set the {o} on the {t}", "put the {o} onto the {t}", "balance the {o} on the {t}",
                     "stack {o} on {t}", "place the {o} on top of the {t}", "build a tower with the {o} on the {t}", "the {o} goes on top of the {t}"])
ALL_TASK: Pool = (["put all the {f}blocks in the {t}", "put all {f}blocks in the {t}", "move all the {f}blocks to the {t}", "put all {f}blocks into the {t}"],
                  ["clear all the {f}blocks into the {t}", "every {f}block goes in the {t}", "put each {f}block in the {t}", "gather all the {f}blocks in the {t}",
                   "collect the {f}blocks in the {t}", "throw all the {f}cubes into the {t}", "move every {f}block into the {t}", "put the {f}blocks in the {t}",
                   "all {f}blocks into the {t}", "tidy all the {f}blocks into the {t}", "pack every {f}cube into the {t}", "place all of the {f}blocks in the {t}"])
EVERYTHING_TASK: Pool = (["put everything in the {t}", "put everything into the {t}"], ["clear the table into the {t}", "move everything to the {t}", "all of it goes in the {t}", "put all of it into the {t}", "everything into the {t}", "tidy everything into the {t}"])
SORT_TASK: Pool = (["sort the blocks by colour", "sort the blocks by color", "put each block in the bowl of its colour", "put every block in the bowl with the same color"],
                   ["match the blocks to the bowls by colour", "sort by color", "organize the blocks by colour", "group the blocks into the matching bowls",
                    "each block goes in the bowl of the same colour", "colour-match the blocks and bowls", "sort them by colour", "put the blocks into their matching colored bowls",
                    "sort the cubes into bowls by color", "arrange the blocks by colour into the bowls"])
PICK_TASK: Pool = (["pick up the {o}", "grab the {o}", "lift the {o}", "pick the {o} up"],
                   ["take the {o}", "hold the {o}", "grasp the {o}", "get hold of the {o}", "raise the {o}", "pick up the {o} please", "just pick up the {o}", "lift up the {o}"])


def task_text(rng: random.Random, o: dict[str, Any], t: dict[str, Any], objs: list[dict[str, Any]], split: str, plain: bool = False) -> str:
    pool = STACK_TASK if t["kind"] == "block" else MOVE_TASK
    if plain:
        return pool[0][0].format(o=o["name"], t=t["name"])
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
    return lab


def ground_example(rng: random.Random, split: str = "train") -> dict[str, Any]:
    """One grounding example with gold labels (see module docstring)."""
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
        if rng.random() < 0.55:
            if rng.random() < 0.72:
                hm = rng.choices(["same", "small", "large"], [0.55, 0.3, 0.15])[0]
                text, lab = pick(rng, REPEAT[hm], split), _labels(hist="repeat", hmag=hm)
            else:
                text, lab = pick(rng, REVERSE, split), _labels(hist="reverse")
            ex.update(utterance=decorate(rng, text, split), labels=lab, numbers={})
            return ex
    if u < 0.38:
        text, lab, info = skill_clause(rng, split)
        lab = _labels(**lab)
    elif u < 0.58:
        text, lab, info = compound_clause(rng, split)
        lab = _labels(**lab)
    elif u < 0.80:  # plan edits
        blocks = [o for o in objs if o["kind"] == "block"]
        conts = [o for o in objs if o["kind"] in ("bowl", "tray")]
        stack = cur_t["kind"] == "block"
        v = rng.random()
        if v < 0.38:
            cands = [b for b in blocks if b["name"] not in (cur_o["name"], cur_t["name"])]
            if not cands:
                return ground_example(rng, split)
            new = rng.choice(cands)
            r = ref(rng, new, objs, split)
            if rng.random() < 0.3:
                t = pick(rng, GENERIC_RETARGET, split).format(r=r)
                op = "retarget_target" if (stack and ex["step_skill"] == "place") else "retarget_object"
            else:
                t, op = pick(rng, RETARGET_OBJ, split).format(r=r), "retarget_object"
            if op == "retarget_object":
                text, lab = t, _labels(level="plan", plan_op=op)
                ex["obj"] = new["name"]
            else:
                text, lab = t, _labels(level="plan", plan_op=op)
                ex["tgt"] = new["name"]
        elif v < 0.72:
            if stack:
                cands = [b for b in blocks if b["name"] not in (cur_o["name"], cur_t["name"])]
                pool = RETARGET_TGT_ON
            else:
                cands = [c for c in conts if c["name"] != cur_t["name"]]
                pool = RETARGET_TGT if rng.random() < 0.75 else GENERIC_RETARGET
            if not cands:
                return ground_example(rng, split)
            new = rng.choice(cands)
            text = pick(rng, pool, split).format(r=ref(rng, new, objs, split))
            lab = _labels(level="plan", plan_op="retarget_target")
            ex["tgt"] = new["name"]
        else:
            in_plan = {s["args"].get("object") for s in plan}
            cands = [b for b in blocks if b["name"] not in in_plan and b["name"] != cur_t["name"]]
            if not cands:
                return ground_example(rng, split)
            new = rng.choice(cands)
            w = rng.random()
            if w < 0.25:
                text = pick(rng, APPEND_SAME, split).format(o=ref(rng, new, objs, split))
                ex["tgt"] = plan[-1]["args"]["target"]
            else:
                tg = rng.choice(conts + [b for b in blocks if b is not new and b["name"] not in in_plan]) if conts else None
                if tg is None:
                    return ground_example(rng, split)
                pool = APPEND_ON if tg["kind"] == "block" else APPEND
                text = pick(rng, pool, split).format(o=ref(rng, new, objs, split), t=ref(rng, tg, objs, split))
                ex["tgt"] = tg["name"]
            ex["obj"] = new["name"]
            lab = _labels(level="plan", plan_op="append")
    elif u < 0.88:
        text, lab = pick(rng, STOP, split), _labels(level="stop")
    elif u < 0.95:
        text, lab = pick(rng, PRAISE, split), _labels(level="none")
    else:
        text, lab = contradiction_clause(rng, split), _labels(level="unclear")
    ex.update(utterance=decorate(rng, text, split), labels=lab, numbers=info.get("num_by", {}))
    return ex


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


def _effect_checks(lab: dict[str, str], numbers: dict[str, float], step: int, pick_step: int) -> list[dict[str, Any]]:
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
            checks.append({"step": pick_step if h == "force" else step, "arg": h, "ratio": list(_RATIO_RANGE[c])})
    return checks


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
            expect += _effect_checks(lab, ex.get("numbers", {}), step, pk)
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

"""Hindsight labelling on hand-built episode records: kept, undone, contradicted, restated, before the first step."""
from __future__ import annotations

import copy
import json

from agent.learn.hindsight import episode_examples, examples_from_records, labels_from_change, to_chat

SCENE = {"objects": [
    {"name": "red_block", "kind": "block", "color": "red", "size": 0.04, "position": [0.5, 0.0, 0.02]},
    {"name": "blue_block", "kind": "block", "color": "blue", "size": 0.04, "position": [0.5, 0.1, 0.02]},
    {"name": "green_bowl", "kind": "bowl", "color": "green", "size": 0.12, "position": [0.5, -0.2, 0.0]},
], "quirks": [{"secret": "never read"}]}
PLAN = [{"skill": "pick", "args": {"object": "red_block"}}, {"skill": "place", "args": {"target": "green_bowl"}}]


def moved(plan, step, dx=0.0, dy=0.0):
    p = copy.deepcopy(plan)
    off = p[step]["args"].get("offset", [0.0, 0.0, 0.0])
    p[step]["args"]["offset"] = [round(off[0] + dx, 4), round(off[1] + dy, 4), off[2]]
    return p


def corr(text, t, before, after, parsed, step=1, kind="correction"):
    return {"utterance": text, "step": step, "level": parsed.get("level", "skill"), "before": before, "after": after,
            "changes": ["x"], "parsed": {**parsed, "kind": kind}, "t": t}


def record(corrections=(), utterances=(), success=True, final=None):
    final = final if final is not None else (corrections[-1]["after"] if corrections else PLAN)
    return {"id": "ep1", "task": "put the red block in the green bowl", "scene": SCENE, "initial_plan": PLAN,
            "final_plan": final, "success": success, "status": "success" if success else "failure",
            "corrections": list(corrections), "utterances": list(utterances),
            "steps": [{"index": 0, "call": PLAN[0], "outcome": {"success": True}, "t": 1.0},
                      {"index": 1, "call": PLAN[1], "outcome": {"success": True}, "t": 10.0}]}


def grounds(exs):
    return {e["utterance"]: e for e in exs if e["kind"] == "ground"}


def test_kept_correction_is_a_positive_example_of_its_own_intent():
    after = moved(PLAN, 1, dy=0.03)
    c = corr("a bit to the left", 2.0, PLAN, after, {"level": "skill", "signed": {"y": "+m"}})
    exs = episode_examples(record([c]))
    g = grounds(exs)["a bit to the left"]
    assert g["source"] == "kept" and g["labels"]["y"] == "+m" and g["labels"]["x"] == "none"
    assert "quirks" not in g["scene"] and all("secret" not in json.dumps(o) for o in g["scene"]["objects"])
    plan_ex = [e for e in exs if e["kind"] == "plan"]
    assert plan_ex and plan_ex[0]["labels"]["task"] == "move" and plan_ex[0]["obj"] == "red_block"


def test_kept_change_in_a_failed_episode_teaches_nothing_unless_its_step_then_worked():
    after = moved(PLAN, 1, dy=0.03)
    c = corr("a bit to the left", 2.0, PLAN, after, {"level": "skill", "signed": {"y": "+m"}})
    failed = record([c], success=False)
    failed["steps"][1]["outcome"] = {"success": False}
    assert episode_examples(failed) == []
    # the step worked after it, and the user said nothing more about that step: the last word, kept
    assert grounds(episode_examples(record([c], success=False)))["a bit to the left"]["source"] == "kept"


def test_undone_correction_gets_the_label_of_the_restatement():
    wrong = moved(PLAN, 1, dx=0.03)
    c1 = corr("scooch it leftways", 2.0, PLAN, wrong, {"level": "skill", "signed": {"x": "+m"}})
    undo = corr("undo that", 3.0, wrong, PLAN, {"level": "plan"}, kind="undo")
    right = moved(PLAN, 1, dy=0.03)
    c2 = corr("move it left a bit", 4.0, PLAN, right, {"level": "skill", "signed": {"y": "+m"}})
    g = grounds(episode_examples(record([c1, undo, c2])))
    assert g["scooch it leftways"]["source"] == "undone"
    assert g["scooch it leftways"]["labels"]["y"] == "+m" and g["scooch it leftways"]["labels"]["x"] == "none"
    assert "undo that" not in g
    assert g["move it left a bit"]["source"] == "kept"


def test_contradicted_correction_gets_the_flipped_label():
    wrong = moved(PLAN, 1, dy=-0.012)
    c1 = corr("nudge it port side", 2.0, PLAN, wrong, {"level": "skill", "signed": {"y": "-s"}})
    no = {"utterance": "no, the other way", "kind": "correction", "level": "none", "step": 1, "t": 3.0, "changes": []}
    right = moved(wrong, 1, dy=0.024)
    c2 = corr("left by a bit", 4.0, wrong, right, {"level": "skill", "signed": {"y": "+s"}})
    g = grounds(episode_examples(record([c1, c2], utterances=[no])))
    assert g["nudge it port side"]["source"] == "contradicted"
    assert g["nudge it port side"]["labels"]["y"] == "+s"
    assert "no, the other way" not in g  # a bare contradiction is not itself labelled


def test_restated_after_a_question_or_a_change_that_did_not_survive():
    q = {"utterance": "shove it yonder leftish", "kind": "correction", "level": "none", "step": 1, "t": 2.0, "changes": [],
         "question": "what should change?"}
    wrong = moved(PLAN, 1, dx=0.012)
    c1 = corr("leftish more", 2.5, PLAN, wrong, {"level": "skill", "signed": {"x": "+s"}})
    back = moved(wrong, 1, dx=-0.012, dy=0.05)
    c2 = corr("to the left, about five centimetres", 3.0, wrong, back, {"level": "skill", "signed": {"y": "+n"}})
    g = grounds(episode_examples(record([c1, c2], utterances=[q], final=back)))
    assert g["shove it yonder leftish"]["source"] == "restated"
    assert g["leftish more"]["source"] == "restated"
    # a restatement is labelled from the change the revealing correction made: +5 cm on y is "medium"
    assert g["leftish more"]["labels"]["y"] == "+m" or g["leftish more"]["labels"]["y"] == "+n"


def test_correction_said_before_the_first_step_is_kept():
    after = copy.deepcopy(PLAN)
    after[0]["args"]["object"] = "blue_block"
    c = corr("the other block, the blue one", 0.5, PLAN, after, {"level": "plan", "plan_op": "retarget_object", "obj": "blue_block"}, step=0)
    rec = record([c])
    rec["steps"][0]["t"] = 1.0  # the step ran after the correction
    g = grounds(episode_examples(rec))
    ex = g["the other block, the blue one"]
    assert ex["source"] == "kept" and ex["step"] == 0 and ex["labels"]["plan_op"] == "retarget_object" and ex["obj"] == "blue_block"


def test_labels_from_change_scale_and_append():
    slow = copy.deepcopy(PLAN)
    slow[1]["args"]["speed"] = 0.6
    lab, _, _ = labels_from_change(PLAN, slow)
    assert lab["speed"] == "-m"
    more = PLAN + [{"skill": "pick", "args": {"object": "blue_block"}}, {"skill": "place", "args": {"target": "green_bowl"}}]
    lab, obj, tgt = labels_from_change(PLAN, more)
    assert lab["plan_op"] == "append" and obj == "blue_block" and tgt == "green_bowl"
    assert labels_from_change(PLAN, PLAN) is None


def test_chat_export_and_running_episodes_skipped():
    after = moved(PLAN, 1, dy=0.03)
    c = corr("a bit to the left", 2.0, PLAN, after, {"level": "skill", "signed": {"y": "+m"}})
    running = {**record([c]), "status": "running"}
    exs, stats = examples_from_records([record([c]), running])
    assert stats.kept == 1 and stats.plan == 1 and len(exs) == 2
    msg = to_chat(exs[0])["messages"]
    assert [m["role"] for m in msg] == ["system", "user", "assistant"]
    assert json.loads(msg[2]["content"]) == {"level": "skill", "y": "+m"}


def test_a_change_to_a_step_that_already_ran_proves_nothing():
    after = moved(PLAN, 1, dy=0.03)
    c = corr("shipshape", 11.0, PLAN, after, {"level": "skill", "hist": "repeat"})  # praise said after the last step
    exs = episode_examples(record([c]))
    assert "shipshape" not in grounds(exs)


def test_a_later_different_complaint_does_not_label_an_earlier_one():
    q = {"utterance": "aloft a touch", "kind": "correction", "level": "none", "step": 1, "t": 2.0, "changes": []}
    down = moved(PLAN, 1)
    down[1]["args"]["offset"] = [0.0, 0.0, -0.007]
    c = corr("7 mm below", 3.0, PLAN, down, {"level": "skill", "signed": {"z": "-n"}})
    g = grounds(episode_examples(record([c], utterances=[q])))
    assert "aloft a touch" not in g and g["7 mm below"]["source"] == "kept"
    # but when the policy asked back ("say it again in other words"), the next utterance is the answer
    asked = {**q, "question": "I don't know the word 'aloft'; say it again in other words"}
    g = grounds(episode_examples(record([c], utterances=[asked])))
    assert g["aloft a touch"]["source"] == "restated" and g["aloft a touch"]["labels"]["z"] == "-s"


def asked(text, t, word, step=1):
    return {"utterance": text, "kind": "correction", "level": "none", "step": step, "t": t, "changes": [],
            "question": f"I don't know the word '{word}'; did you mean back? say it again in other words"}


def test_an_asked_utterance_takes_the_change_its_answer_made_even_when_the_step_failed_after():
    q = asked("a good bit to port", 2.0, "port")
    left = moved(PLAN, 1, dy=0.03)
    c = corr("move it leftward", 2.5, PLAN, left, {"level": "skill", "signed": {"y": "+m"}, "confidence": 0.91})
    rec = record([c], utterances=[q], success=False)
    rec["steps"][1]["outcome"] = {"success": False}  # the block still missed: the answer is not "kept"
    g = grounds(episode_examples(rec))
    assert g["a good bit to port"]["source"] == "restated"
    lab = g["a good bit to port"]["labels"]
    assert lab["y"] == "+m" and lab["x"] == "none" and lab["active"] == "y"
    # ... unless the user then goes back to the words the robot did not know: the answer was not what they meant
    again = asked("heaps to port", 3.0, "port")
    g = grounds(episode_examples(record([c], utterances=[q, again], success=False)))
    assert "a good bit to port" not in g


def test_no_label_across_a_chain_of_questions():
    q1 = asked("bring her for'ard", 2.0, "ard")
    q2 = asked("a good bit to port", 2.2, "port")  # the user moved on to another complaint
    left = moved(PLAN, 1, dy=0.03)
    c = corr("move it leftward", 2.5, PLAN, left, {"level": "skill", "signed": {"y": "+m"}})
    g = grounds(episode_examples(record([c], utterances=[q1, q2])))
    assert "bring her for'ard" not in g and g["a good bit to port"]["labels"]["y"] == "+m"


def test_other_way_after_a_sure_reading_is_the_users_slip_and_teaches_nothing():
    wrong = moved(PLAN, 1, dy=-0.03)
    c1 = corr("ease it right", 2.0, PLAN, wrong, {"level": "skill", "signed": {"y": "-m"}, "confidence": 0.93})
    no = {"utterance": "no, the other way", "kind": "correction", "level": "none", "step": 1, "t": 3.0, "changes": []}
    right = moved(wrong, 1, dy=0.06)
    c2 = corr("left then", 4.0, wrong, right, {"level": "skill", "signed": {"y": "+m"}})
    g = grounds(episode_examples(record([c1, c2], utterances=[no])))
    assert "ease it right" not in g
    unsure = corr("ease it right", 2.0, PLAN, wrong, {"level": "skill", "signed": {"y": "-m"}, "confidence": 0.6})
    g = grounds(episode_examples(record([unsure, c2], utterances=[no])))
    assert g["ease it right"]["source"] == "contradicted" and g["ease it right"]["labels"]["y"] == "+m"


def test_an_utterance_that_says_its_size_takes_the_number_class_from_its_answer():
    q = asked("4 cm to port", 2.0, "port")
    c = corr("move it leftward", 2.5, PLAN, moved(PLAN, 1, dy=0.03), {"level": "skill", "signed": {"y": "+m"}, "confidence": 0.91})
    lab = grounds(episode_examples(record([c], utterances=[q])))["4 cm to port"]["labels"]
    assert lab["y"] == "+n" and lab["active"] == "y"  # the size is the one said, not the answer's 3 cm
    lab = grounds(episode_examples(record([c], utterances=[asked("a good bit to port", 2.0, "port")])))["a good bit to port"]["labels"]
    assert lab["y"] == "+m"


def test_an_answer_read_as_more_of_the_last_change_labels_nothing():
    """ "heaps to port" was not understood; the user's answer "much further" was read as more of the last change (a
    move to the right): its change says what the last correction was about, not what "heaps to port" meant."""
    right = moved(PLAN, 1, dy=-0.03)
    c1 = corr("move it rightward", 1.5, PLAN, right, {"level": "skill", "signed": {"y": "-m"}, "confidence": 0.91})
    q = asked("heaps to port", 2.0, "port")
    further = moved(right, 1, dy=-0.08)
    c2 = corr("much further", 2.5, right, further, {"level": "skill", "hist": "repeat", "hmag": "large", "confidence": 0.91})
    left = moved(further, 1, dy=0.08)
    c3 = corr("much further leftward", 3.0, further, left, {"level": "skill", "signed": {"y": "+l"}, "confidence": 0.91})
    g = grounds(episode_examples(record([c1, c2, c3], utterances=[q], success=False)))
    assert "heaps to port" not in g
    # an answer in words of its own still labels it
    c2 = corr("much further leftward", 2.5, right, moved(right, 1, dy=0.08), {"level": "skill", "signed": {"y": "+l"}, "confidence": 0.91})
    g = grounds(episode_examples(record([c1, c2], utterances=[q], success=False)))
    assert g["heaps to port"]["labels"]["y"] == "+l"


def test_an_answer_the_user_then_took_back_labels_nothing():
    """ "lift her a skosh" was not understood; the user went on to the grip ("slack the grip off") and then took that
    back ("the other way"): the grip change, flipped or not, is not what "lift her a skosh" meant."""
    q = asked("lift her a skosh", 2.0, "skosh")
    looser = copy.deepcopy(PLAN)
    looser[1]["args"]["force"] = 13.4
    before = copy.deepcopy(PLAN)
    before[1]["args"]["force"] = 20.0
    c1 = corr("slack the grip off", 2.5, before, looser, {"level": "skill", "signed": {"force": "-m"}, "confidence": 0.6})
    no = {"utterance": "the other way", "kind": "correction", "level": "none", "step": 1, "t": 3.0, "changes": []}
    harder = copy.deepcopy(looser)
    harder[1]["args"]["force"] = 30.0
    c2 = corr("grip it harder", 3.5, looser, harder, {"level": "skill", "signed": {"force": "+m"}, "confidence": 0.9})
    g = grounds(episode_examples(record([c1, c2], utterances=[q, no])))
    assert g["slack the grip off"]["source"] == "contradicted"  # the answer itself is still learnt from
    assert "lift her a skosh" not in g

"""KnowledgeBase with real MiniLM: learning from evidence (credit, scope, no self-confirmation), retrieval with scope
filtering, search, import/export, migration of old files."""
from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest
from memtest_helpers import corr, episode, obj, pick, place, run, scene, taught

from memory.kb import EntryNotFound, ImportFormatError, KBError
from memory.knowledge import apply_knowledge, apply_knowledge_detailed

BOWL = obj("green bowl", "bowl", "green", 0.16, (0.6, -0.1, 0.03))


def block(color, size):
    edge = {"small": 0.03, "medium": 0.04, "large": 0.05}[size]
    return obj(f"{size} {color} block", "block", color, edge)


def lower_episode(color, size, dz=-0.015, words="lower", **kw):
    """The user lowered the pick of a ``size`` ``color`` block (after it failed); then it worked."""
    b = block(color, size)
    base = [pick(b["name"]), place("green bowl")]
    final = [pick(b["name"], offset=[0.0, 0.0, dz]), place("green bowl")]
    return taught(f"put the {b['name']} in the green bowl", scene(b, BOWL), base, final, {0: words}, **kw)


def plan_for(b):
    return [pick(b["name"]), place("green bowl")]


def applies_to(kb, color, size):
    """Whether the knowledge base changes the pick of a fresh ``size`` ``color`` block."""
    b = block(color, size)
    s = scene(b, BOWL)
    got = kb.retrieve(f"put the {b['name']} in the green bowl", s, plan_for(b))
    new, _ = apply_knowledge(plan_for(b), s, got)
    return new[0] != plan_for(b)[0]


def test_one_lesson_applies_to_that_object_only_and_widens_on_evidence(kb):
    rep = kb.ingest(lower_episode("blue", "small"))
    assert rep.taught and len(rep.added) == 1
    e = kb.get(rep.added[0])
    assert e.conditions == {"skill": "pick", "object_kind": "block", "object_color": "blue", "object_size": "small"}
    assert applies_to(kb, "blue", "small") and not applies_to(kb, "red", "small") and not applies_to(kb, "blue", "large")
    # the same lesson on a small red block: the colour did not matter, the size did
    rep2 = kb.ingest(lower_episode("red", "small"))
    assert rep2.merged == rep.added and rep2.added == [] and len(kb) == 1
    e = kb.get(rep.added[0])
    assert e.conditions == {"skill": "pick", "object_kind": "block", "object_size": "small"} and e.basis == "size"
    assert applies_to(kb, "yellow", "small") and not applies_to(kb, "yellow", "large")
    # retrieval per step, and before a plan (matched against the scene's objects)
    s2 = scene(block("red", "small"), obj("large red block", "block", "red", 0.05, (0.4, 0.2, 0.025)), BOWL)
    plan = [pick("large red block"), place("green bowl"), pick("small red block"), place("green bowl")]
    got = kb.retrieve("put the red blocks in the green bowl", s2, plan)
    assert [g["id"] for g in got] == rep.added and got[0]["steps"] == [2]
    assert kb.retrieve("x", s2, plan, step=0) == [] and len(kb.retrieve("x", s2, plan, step=2)) == 1
    assert kb.retrieve("tidy up", scene(block("red", "large"), BOWL)) == []
    with pytest.raises(KBError, match="step 9 is outside"):
        kb.retrieve("x", s2, plan, step=9)


def test_two_red_blocks_of_different_sizes_scope_to_red(kb):
    a = kb.ingest(lower_episode("red", "small")).added
    kb.ingest(lower_episode("red", "large"))
    (e,) = kb.list()
    assert e.id == a[0] and e.conditions == {"skill": "pick", "object_kind": "block", "object_color": "red"}
    assert applies_to(kb, "red", "medium") and not applies_to(kb, "blue", "small")


def test_small_red_and_small_blue_scope_to_small(kb):
    kb.ingest(lower_episode("red", "small"))
    kb.ingest(lower_episode("blue", "small"))
    (e,) = kb.list()
    assert e.conditions == {"skill": "pick", "object_kind": "block", "object_size": "small"}
    hyp = {h["level"]: h for h in __import__("memory.learning", fromlist=["hypotheses"]).hypotheses(e)}
    assert hyp["size"]["chosen"] and hyp["size"]["taught"] == 2 and hyp["object"]["outside"] == 1


def test_objects_that_differ_in_two_attributes_do_not_widen(kb):
    kb.ingest(lower_episode("red", "small"))
    kb.ingest(lower_episode("blue", "large"))
    assert sorted(len(e.conditions) for e in kb.list()) == [4, 4]  # two lessons, each on its own object
    assert not applies_to(kb, "green", "medium")


def test_an_object_that_did_fine_blocks_widening(kb):
    kb.ingest(lower_episode("red", "small"))
    # a small green block was picked fine at the default height: not every small block needs it
    g = block("green", "small")
    kb.ingest(episode("put it in the bowl", scene(g, BOWL), plan_for(g), plan_for(g)))
    kb.ingest(lower_episode("blue", "small"))
    assert len(kb) == 2 and not applies_to(kb, "green", "small") and not applies_to(kb, "yellow", "small")
    assert applies_to(kb, "red", "small") and applies_to(kb, "blue", "small")


def test_a_lesson_gains_no_source_from_an_episode_where_it_was_only_applied(kb):
    ep1 = lower_episode("blue", "small")
    (eid,) = kb.ingest(ep1).added
    assert kb.ingest(ep1).skipped == "already ingested"
    e1 = kb.get(eid)
    b = block("blue", "small")
    initial = [pick(b["name"], offset=[0.0, 0.0, -0.015]), place("green bowl")]
    used = [{"id": eid, "text": e1.text, "effect": e1.effect}]
    for _ in range(3):  # applied, the grasp worked, nobody corrected anything
        rep = kb.ingest(episode("t", scene(b, BOWL), plan_for(b), initial, knowledge_used=used, initial=initial))
        assert rep.applied == [eid] and not (rep.added or rep.merged or rep.confirmed)
    e = kb.get(eid)
    assert e.sources == [ep1["id"]] and e.confidence == e1.confidence and e.stats["applied"] == 3


def test_evidence_raises_confidence_and_the_newer_size_wins(kb):
    (eid,) = kb.ingest(lower_episode("blue", "small")).added
    c0 = kb.get(eid).confidence
    b = block("blue", "small")
    initial = [pick(b["name"], offset=[0.0, 0.0, -0.015]), place("green bowl")]
    final = [pick(b["name"], offset=[0.0, 0.0, -0.025]), place("green bowl")]
    # applied, and the user asked for a bit lower still: evidence, a new source, the new size
    ep = taught("t", scene(b, BOWL), plan_for(b), final, {0: "a bit lower"}, initial=initial,
                knowledge_used=[{"id": eid, "text": "", "effect": kb.get(eid).effect}])
    rep = kb.ingest(ep)
    e = kb.get(eid)
    assert rep.merged == [eid] and eid in rep.confirmed and e.confidence > c0 and e.sources[-1] == ep["id"]
    assert e.effect["changes"][0]["value"] == [0.0, 0.0, -0.025] and "-2.5 cm" in e.text and len(kb) == 1


def test_knowledge_corrected_back_is_weakened_and_narrowed(kb):
    kb.ingest(lower_episode("red", "small"))
    (eid,) = [e.id for e in kb.list()]
    kb.ingest(lower_episode("blue", "small"))
    assert kb.get(eid).conditions.get("object_size") == "small" and "object_color" not in kb.get(eid).conditions
    c0 = kb.get(eid).confidence
    y = block("yellow", "small")
    initial = [pick(y["name"], offset=[0.0, 0.0, -0.015]), place("green bowl")]
    used = [{"id": eid, "text": "", "effect": kb.get(eid).effect}]
    # applied to a small yellow block, and the user raised it back up: weakened, and it no longer covers yellow
    ep = taught("t", scene(y, BOWL), plan_for(y), plan_for(y), {0: "higher"}, initial=initial, knowledge_used=used)
    rep = kb.ingest(ep)
    assert rep.weakened == [eid] and eid in rep.narrowed
    assert kb.get(eid).confidence == pytest.approx(c0 * 0.5)
    assert not any(e.conditions == {"skill": "pick", "object_kind": "block", "object_size": "small"} for e in kb.list())
    assert [q["color"] for q in kb.get(eid).against] == ["yellow"]
    assert sorted(e.conditions.get("object_color") for e in kb.list()) == ["blue", "red"]  # evidence kept, split


def test_dont_do_that_again_weakens_and_narrows(kb):
    kb.ingest(lower_episode("red", "small"))
    kb.ingest(lower_episode("red", "large"))
    (e0,) = kb.list()
    assert e0.conditions.get("object_color") == "red" and "object_size" not in e0.conditions
    m = block("red", "medium")
    initial = [pick(m["name"], offset=[0.0, 0.0, -0.015]), place("green bowl")]
    ep = episode("t", scene(m, BOWL), plan_for(m), initial, knowledge_used=[{"id": e0.id, "text": "", "effect": e0.effect}],
                 initial=initial, success=False, corrections=[corr("don't do that again", 0)])
    rep = kb.ingest(ep)
    assert rep.weakened == [e0.id] and kb.get(e0.id).confidence == pytest.approx(e0.confidence * 0.3)
    assert not applies_to(kb, "red", "medium")


def test_session_already_weakened_is_not_weakened_twice(kb):
    (eid,) = kb.ingest(lower_episode("blue", "small")).added
    kb.weaken(eid)  # the session did it live when the user said "don't do that again"
    c = kb.get(eid).confidence
    b = block("blue", "small")
    initial = [pick(b["name"], offset=[0.0, 0.0, -0.015]), place("green bowl")]
    dont = dict(corr("don't do that again", 0), parsed={"weakened": [eid]})
    ep = episode("t", scene(b, BOWL), plan_for(b), plan_for(b), knowledge_used=[{"id": eid, "text": "", "effect": {}}],
                 initial=initial, corrections=[dont])
    rep = kb.ingest(ep)
    assert rep.weakened == [] and kb.get(eid).confidence == pytest.approx(c)


def test_a_hypothesis_needs_a_second_independent_instance(kb):
    b = block("blue", "medium")
    base = plan_for(b)
    final = [pick(b["name"], force=30.0, speed=0.5), place("green bowl")]
    rep = kb.ingest(taught("t", scene(b, BOWL), base, final, {0: "not like that"}))
    assert len(rep.hypotheses) == 2 and not rep.added
    assert not applies_to(kb, "blue", "medium")  # stored, never applied
    kb.ingest(taught("t", scene(b, BOWL), base, final, {0: "not like that"}))  # the same words again: not independent
    assert all(e.status == "hypothesis" for e in kb.list())
    rep = kb.ingest(taught("t", scene(b, BOWL), base, final, {0: "no, fix it"}))
    assert sorted(rep.confirmed) == sorted(e.id for e in kb.list())
    assert all(e.status == "active" and e.confidence >= 0.6 for e in kb.list()) and applies_to(kb, "blue", "medium")


def test_when_knowledge_fires_it_says_which_lesson_which_scope_and_why(kb):
    kb.ingest(lower_episode("red", "small", words="lower"))
    kb.ingest(lower_episode("blue", "small", words="a bit lower"))
    y = block("yellow", "small")
    got = kb.retrieve("put it in the bowl", scene(y, BOWL), plan_for(y))
    res = apply_knowledge_detailed(plan_for(y), scene(y, BOWL), got)
    new, notes, applied = res  # unpacks as before
    (f,) = res.fired
    assert applied == {0: [f["id"]]} and f["scope"] == "small blocks" and f["step"] == 0
    assert "small red block" in f["why"] and "'a bit lower'" in f["why"] and "scope: small blocks" in notes[0]


def test_narrow_on_request(kb):
    kb.ingest(lower_episode("red", "small"))
    (e,) = [kb.get(i) for i in kb.ingest(lower_episode("blue", "small")).merged]
    assert kb.narrow(e.id).conditions == {"skill": "pick", "object_kind": "block", "object_color": "blue", "object_size": "small"}
    assert not applies_to(kb, "yellow", "small")
    hand = kb.add({"text": "grip red harder", "scope": "skill", "effect": {"skill": "pick", "changes": [
        {"arg": "force", "op": "scale", "value": 1.5}]}, "conditions": {"skill": "pick", "object_color": "red"}})
    with pytest.raises(KBError, match="no evidence to narrow"):
        kb.narrow(hand)


def test_search_is_semantic(kb):
    kb.add({"text": "the blue block is slippery: pick with force x1.5, speed x0.6", "scope": "skill",
            "effect": {"skill": "pick", "changes": [{"arg": "force", "op": "scale", "value": 1.5}]},
            "conditions": {"skill": "pick", "object_kind": "block", "object_color": "blue"}})
    kb.add({"text": "put blocks on the left side of the green bowl", "scope": "preference",
            "effect": {"skill": "place", "changes": [{"arg": "offset", "op": "add", "value": [0, 0.02, 0]}]},
            "conditions": {"skill": "place", "target_kind": "bowl", "target_color": "green"}})
    kb.add({"text": "small blocks: pick with offset z -1.5 cm (lower)", "scope": "skill",
            "effect": {"skill": "pick", "changes": [{"arg": "offset", "op": "add", "value": [0, 0, -0.015]}]},
            "conditions": {"skill": "pick", "object_kind": "block", "object_size": "small"}})
    assert kb.search("the cube keeps slipping out of the gripper, grip harder", k=3)[0]["text"].startswith("the blue block is slippery")
    assert kb.search("where should things go in the bowl", k=3)[0]["text"].startswith("put blocks on the left")
    assert kb.search("grasp tiny cubes lower", k=3)[0]["text"].startswith("small blocks")


def test_forget_weaken_missing_ids_and_bad_entries(kb):
    (eid,) = kb.ingest(lower_episode("blue", "small")).added
    with pytest.raises(EntryNotFound, match=r"no knowledge entry #99 \(1 entries, ids 1..1\)"):
        kb.get(99)
    with pytest.raises(EntryNotFound):
        kb.forget(99)
    assert kb.weaken(eid).confidence == pytest.approx(0.3)
    kb.forget(eid)
    b = block("blue", "small")
    assert len(kb) == 0 and kb.retrieve("t", scene(b, BOWL), [pick(b["name"])]) == [] and kb.search("small blocks") == []
    with pytest.raises(KBError, match="not a known skill"):
        kb.add({"text": "x", "scope": "skill", "effect": {"skill": "fly", "changes": []}, "conditions": {}})
    with pytest.raises(KBError, match="unknown condition"):
        kb.add({"text": "x", "scope": "skill", "effect": {"skill": "pick", "changes": [{"arg": "force", "op": "scale", "value": 2}]},
                "conditions": {"mood": "happy"}})
    assert len(kb) == 0


def test_export_import_roundtrip_and_corrupt_import_changes_nothing(kb, tmp_path):
    kb.ingest(lower_episode("blue", "small"))
    r = block("red", "medium")
    kb.ingest(taught("t", scene(r, BOWL), plan_for(r), [pick(r["name"], force=30.0), place("green bowl", offset=[0, 0.02, 0])],
                     {0: "grip harder", 1: "a bit left"}))
    f = tmp_path / "kb.jsonl"
    assert kb.export(f) == 3
    from memory.kb import KnowledgeBase

    with KnowledgeBase(tmp_path / "other", embedder=kb.embedder) as other:
        assert len(other.import_file(f)) == 3
        assert sorted(e.text for e in other.list()) == sorted(e.text for e in kb.list())
        assert sorted(json.dumps(e.evidence, sort_keys=True) for e in other.list()) == sorted(json.dumps(e.evidence, sort_keys=True) for e in kb.list())
        bad = tmp_path / "bad.jsonl"
        lines = f.read_text().splitlines()
        bad.write_text(lines[0] + "\n" + lines[1][:40] + "\n")
        gen = other.generation()
        with pytest.raises(ImportFormatError, match=r"bad.jsonl:2: not valid JSON"):
            other.import_file(bad)
        bad.write_text(lines[0].replace('"scope": "skill"', '"scope": "mood"') + "\n")
        with pytest.raises(ImportFormatError, match=r":1: entry scope 'mood'"):
            other.import_file(bad)
        assert other.generation() == gen and len(other) == 3


OLD_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entries (id INTEGER PRIMARY KEY AUTOINCREMENT, cond_key TEXT NOT NULL, skill TEXT, text TEXT NOT NULL,
    confidence REAL NOT NULL, created REAL NOT NULL, updated REAL NOT NULL, data TEXT NOT NULL, text_vec BLOB, visual_vec BLOB);
CREATE TABLE episodes (id TEXT PRIMARY KEY, ingested REAL NOT NULL, report TEXT NOT NULL);
"""


def test_an_old_knowledge_base_file_opens_and_still_works(tmp_path, minilm):
    """A version-1 file (no c_color, no lesson, entries without evidence) is migrated in place."""
    from memory.kb import KnowledgeBase

    d = tmp_path / "old"
    d.mkdir()
    con = sqlite3.connect(d / "kb.sqlite")
    con.executescript(OLD_SCHEMA)
    data = {"text": "the red block is slippery: pick with force x1.5", "scope": "skill", "confidence": 0.8,
            "effect": {"skill": "pick", "changes": [{"arg": "force", "op": "scale", "value": 1.5}]},
            "conditions": {"skill": "pick", "object_kind": "block", "object_color": "red"}, "sources": ["old1"],
            "created": 1.0, "updated": 1.0, "basis": "color", "subject": "red block",
            "stats": {"applied": 2, "confirmed": 1, "contradicted": 0, "merged": 0}}
    vec = minilm.embed([data["text"]])[0].astype(np.float32).tobytes()
    con.execute("INSERT INTO entries (cond_key, skill, text, confidence, created, updated, data, text_vec) VALUES (?,?,?,?,?,?,?,?)",
                ("k", "pick", data["text"], 0.8, 1.0, 1.0, json.dumps(data), vec))
    con.executemany("INSERT INTO meta VALUES (?, ?)", [("generation", "1"), ("schema_version", "1"),
                                                       ("text_space", f"{minilm.name}:{minilm.dim}")])
    con.commit()
    con.close()
    with KnowledgeBase(d, embedder=minilm) as kb:
        (e,) = kb.list()
        assert e.status == "active" and e.evidence == [] and e.confidence == 0.8
        r = obj("red block", "block", "red", 0.04)
        got = kb.retrieve("put the red block in the green bowl", scene(r, BOWL), plan_for(r))
        assert apply_knowledge(plan_for(r), scene(r, BOWL), got)[0][0]["args"]["force"] == pytest.approx(30.0)
        kb.ingest(lower_episode("blue", "small"))
        assert len(kb) == 2
    con = sqlite3.connect(d / "kb.sqlite")
    cols = {r[1] for r in con.execute("PRAGMA table_info(entries)")}
    assert {"c_color", "lesson"} <= cols and con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "3"
    con.close()


def test_visual_similarity_ranks_by_appearance(kb):
    from memory.visual import OpenCVDescriptor

    def crop(rgb, size):
        img = np.full((64, 64, 3), 200, np.uint8)
        c = 32
        img[c - size:c + size, c - size:c + size] = rgb
        return img

    blue, red = crop((40, 70, 220), 12), crop((220, 30, 30), 12)
    d = OpenCVDescriptor()
    assert float(d.encode(blue) @ d.encode(crop((45, 75, 215), 12))) > float(d.encode(blue) @ d.encode(red)) + 0.3
    assert float(d.encode(blue) @ d.encode(crop((40, 70, 220), 6))) < 0.999  # size shows
    # two entries matching the same step; the one learned on a blue-looking object wins with a blue crop
    s = scene(obj("blue block", "block", "blue", 0.04), BOWL)
    for text, img in (("pick with force x1.5 (a)", blue), ("pick with force x1.5 (b)", red)):
        kb.add({"text": text, "scope": "skill", "effect": {"skill": "pick", "changes": [{"arg": "force", "op": "scale", "value": 1.5}]},
                "conditions": {"skill": "pick", "object_kind": "block"}}, image=img, merge=False)
    got = kb.retrieve("pick the block", s, [pick("blue block")], images={"blue block": crop((42, 72, 218), 12)})
    assert got[0]["text"].endswith("(a)") and got[0]["similarity"] > got[1]["similarity"]


def test_embedder_mismatch_is_refused(kb, tmp_path):
    from memory.embed import HashingEmbedder
    from memory.kb import KnowledgeBase

    kb.ingest(lower_episode("blue", "small"))
    with KnowledgeBase(kb.path, embedder=HashingEmbedder()) as other:
        assert len(other.list()) == 1  # listing needs no model
        with pytest.raises(KBError, match="text space is all-MiniLM-L6-v2:384, but hashing:384 was given"):
            other.search("small blocks")


def test_failed_runs_before_a_correction_are_the_problem_it_answered(kb):
    b = block("red", "small")
    final = [pick(b["name"], offset=[0.0, 0.0, -0.015]), place("green bowl")]
    steps = [run(plan_for(b)[0], 1000.0, ok=False, failure="missed_grasp"), run(final[0], 1006.0), run(final[1], 1007.0)]
    (eid,) = kb.ingest(lower_episode("red", "small", steps=steps)).added
    assert kb.get(eid).evidence[0]["problem"] == "failure: missed_grasp"


def test_clamp_down_harder_on_a_heavy_block_stores_no_geometry(kb):
    """Issue 13's case: "clamp down harder" grounded as force 20 -> 30 and the pick 3 cm lower; the grasp works."""
    h = obj("large purple block", "block", "purple", 0.05)
    base = plan_for(h)
    final = [pick(h["name"], force=30.0, offset=[0.0, 0.0, -0.03]), place("green bowl")]
    rep = kb.ingest(taught("put the large purple block in the green bowl", scene(h, BOWL), base, final, {0: "clamp down harder"}))
    assert [kb.get(i).lesson for i in rep.added] == ["pick|object|force|+"] and not rep.hypotheses
    assert all(c["arg"] != "offset" for e in kb.list() for c in e.effect["changes"])
    assert any("offset.z" in d for d in rep.dropped)
    # and it does not fire on large blocks of other colours
    assert not applies_to(kb, "orange", "large")


def test_retrieval_weights_are_configured_not_inline(tmp_path, minilm):
    from memory.kb import KnowledgeBase
    from memory.retrieval import RetrievalConfig

    with pytest.raises(KBError, match="sum to 1"):
        RetrievalConfig(text_weight=0.7, visual_weight=0.4)
    img = np.zeros((32, 32, 3), np.uint8)
    img[8:24, 8:24] = (220, 30, 30)
    s = scene(obj("blue block", "block", "blue", 0.04), BOWL)
    with KnowledgeBase(tmp_path / "t", embedder=minilm, retrieval=RetrievalConfig(text_weight=1.0, visual_weight=0.0)) as k:
        k.add({"text": "pick with force x1.5", "scope": "skill", "effect": {"skill": "pick", "changes": [
            {"arg": "force", "op": "scale", "value": 1.5}]}, "conditions": {"skill": "pick"}}, image=img)
        plain = k.retrieve("pick the block", s, [pick("blue block")])[0]["similarity"]
        seen = k.retrieve("pick the block", s, [pick("blue block")], images={"blue block": img})[0]["similarity"]
        assert seen == pytest.approx(plain)  # appearance weighted 0: text alone

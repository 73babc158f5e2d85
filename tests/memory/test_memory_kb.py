"""KnowledgeBase with real MiniLM: ingest, merge, confirm/weaken, retrieve with scope filtering, search, CLI-free API."""
from __future__ import annotations

import numpy as np
import pytest
from memtest_helpers import corr, episode, obj, pick, place, scene

from memory.knowledge import apply_knowledge
from memory.kb import EntryNotFound, ImportFormatError, KBError

BOWL = obj("green bowl", "bowl", "green", 0.16, (0.6, -0.1, 0.03))
SMALL = scene(obj("small blue block", "block", "blue", 0.03), BOWL,
              quirks=[{"kind": "small_grasp", "object": "small blue block", "params": {"max_dz": -0.01}, "hidden": True}])
TASK = "put the small blue block in the green bowl"


def small_episode(dz=-0.015, **kw):
    base = [pick("small blue block"), place("green bowl")]
    final = [pick("small blue block", offset=[0.0, 0.0, dz]), place("green bowl")]
    return episode(TASK, SMALL, base, final, **kw)


def test_ingest_then_retrieve_and_apply_in_a_new_scene(kb):
    rep = kb.ingest(small_episode())
    assert rep.taught and len(rep.added) == 1
    s2 = scene(obj("small red block", "block", "red", 0.03), obj("large red block", "block", "red", 0.05, (0.4, 0.2, 0.025)),
               obj("yellow bowl", "bowl", "yellow", 0.16, (0.6, 0.1, 0.03)))
    plan = [pick("large red block"), place("yellow bowl"), pick("small red block"), place("yellow bowl")]
    got = kb.retrieve("put the red blocks in the yellow bowl", s2, plan)
    assert [g["id"] for g in got] == rep.added and got[0]["steps"] == [2]
    new, notes = apply_knowledge(plan, s2, got)
    assert new[2]["args"]["offset"] == [0.0, 0.0, -0.015] and new[0] == plan[0]
    # only large blocks: nothing applies, nothing is returned
    s3 = scene(obj("large red block", "block", "red", 0.05), BOWL)
    assert kb.retrieve("put the large red block in the green bowl", s3, [pick("large red block"), place("green bowl")]) == []
    # before a plan: matched against the scene's objects
    assert kb.retrieve("tidy up", s3) == []
    assert [g["id"] for g in kb.retrieve("tidy up", s2)] == rep.added
    # per step
    assert kb.retrieve("x", s2, plan, step=0) == [] and len(kb.retrieve("x", s2, plan, step=2)) == 1
    with pytest.raises(KBError, match="step 9 is outside"):
        kb.retrieve("x", s2, plan, step=9)


def test_repeats_merge_confidence_grows_and_ingest_is_idempotent(kb):
    ep1 = small_episode()
    a = kb.ingest(ep1)
    assert kb.ingest(ep1).skipped == "already ingested"
    e1 = kb.get(a.added[0])
    # the same lesson again, this time with the knowledge applied and no correction: confirmed
    used = [{"id": e1.id, "text": e1.text, "effect": e1.effect}]
    ep2 = episode(TASK, SMALL, [pick("small blue block"), place("green bowl")],
                  [pick("small blue block", offset=[0.0, 0.0, -0.015]), place("green bowl")], knowledge_used=used,
                  initial=[pick("small blue block", offset=[0.0, 0.0, -0.015]), place("green bowl")])
    b = kb.ingest(ep2)
    assert b.merged == [e1.id] and b.added == [] and e1.id in b.confirmed
    e2 = kb.get(e1.id)
    assert len(kb) == 1 and e2.confidence > e1.confidence and e2.sources == [ep1["id"], ep2["id"]]


def test_conflict_resolves_toward_newer(kb):
    a = kb.ingest(small_episode(dz=-0.015))
    kb.ingest(small_episode(dz=-0.03))  # a later successful episode needed more
    e = kb.get(a.added[0])
    assert e.effect["changes"][0]["value"] == [0.0, 0.0, -0.03] and "-3.0 cm" in e.text and len(kb) == 1


def test_knowledge_corrected_away_is_weakened_and_dont_do_that_again(kb):
    (eid,) = kb.ingest(small_episode()).added
    c0 = kb.get(eid).confidence
    used = [{"id": eid, "text": "", "effect": kb.get(eid).effect}]
    base = [pick("small blue block"), place("green bowl")]
    initial = [pick("small blue block", offset=[0.0, 0.0, -0.015]), place("green bowl")]
    # applied, then the user raised it back up: net effect zero -> weakened
    ep = episode(TASK, SMALL, base, base, knowledge_used=used, initial=initial, corrections=[corr("higher", 0)])
    rep = kb.ingest(ep)
    assert rep.weakened == [eid] and kb.get(eid).confidence == pytest.approx(c0 * 0.5)
    c1 = kb.get(eid).confidence
    ep = episode(TASK, SMALL, base, initial, knowledge_used=used, initial=initial, success=False,
                 corrections=[corr("don't do that again", 0)])
    assert kb.ingest(ep).weakened == [eid]
    assert kb.get(eid).confidence == pytest.approx(c1 * 0.3)
    # weak knowledge is no longer applied
    got = kb.retrieve(TASK, SMALL, base)
    assert apply_knowledge(base, SMALL, got)[1] == []


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
    (eid,) = kb.ingest(small_episode()).added
    with pytest.raises(EntryNotFound, match=r"no knowledge entry #99 \(1 entries, ids 1..1\)"):
        kb.get(99)
    with pytest.raises(EntryNotFound):
        kb.forget(99)
    assert kb.weaken(eid).confidence == pytest.approx(0.3)
    kb.forget(eid)
    assert len(kb) == 0 and kb.retrieve(TASK, SMALL, [pick("small blue block")]) == [] and kb.search("small blocks") == []
    with pytest.raises(KBError, match="not a known skill"):
        kb.add({"text": "x", "scope": "skill", "effect": {"skill": "fly", "changes": []}, "conditions": {}})
    with pytest.raises(KBError, match="unknown condition"):
        kb.add({"text": "x", "scope": "skill", "effect": {"skill": "pick", "changes": [{"arg": "force", "op": "scale", "value": 2}]},
                "conditions": {"mood": "happy"}})
    assert len(kb) == 0


def test_export_import_roundtrip_and_corrupt_import_changes_nothing(kb, tmp_path):
    kb.ingest(small_episode())
    kb.ingest(episode("t", scene(obj("red block", "block", "red", 0.04), BOWL), [pick("red block"), place("green bowl")],
                      [pick("red block", force=30.0), place("green bowl", offset=[0, 0.02, 0])]))
    f = tmp_path / "kb.jsonl"
    assert kb.export(f) == 3
    from memory.kb import KnowledgeBase

    with KnowledgeBase(tmp_path / "other", embedder=kb.embedder) as other:
        assert len(other.import_file(f)) == 3
        assert sorted(e.text for e in other.list()) == sorted(e.text for e in kb.list())
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


def test_session_already_weakened_is_not_weakened_twice(kb):
    (eid,) = kb.ingest(small_episode()).added
    kb.weaken(eid)  # the session did it live when the user said "don't do that again"
    c = kb.get(eid).confidence
    base = [pick("small blue block"), place("green bowl")]
    initial = [pick("small blue block", offset=[0.0, 0.0, -0.015]), place("green bowl")]
    dont = dict(corr("don't do that again", 0), parsed={"weakened": [eid]})
    ep = episode(TASK, SMALL, base, base, knowledge_used=[{"id": eid, "text": "", "effect": {}}], initial=initial,
                 corrections=[dont])
    rep = kb.ingest(ep)
    assert rep.weakened == [] and kb.get(eid).confidence == pytest.approx(c)


def test_embedder_mismatch_is_refused(kb, tmp_path):
    from memory.embed import HashingEmbedder
    from memory.kb import KnowledgeBase

    kb.ingest(small_episode())
    with KnowledgeBase(kb.path, embedder=HashingEmbedder()) as other:
        assert len(other.list()) == 1  # listing needs no model
        with pytest.raises(KBError, match="text space is all-MiniLM-L6-v2:384, but hashing:384 was given"):
            other.search("small blocks")

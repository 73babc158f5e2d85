"""Phrase banks and the ASR table are validated data files: duplicate keys are rejected, today's banks load as they
are, and new optional categories come from the project's default bank."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from sim.noise import CONFUSIONS_FILE, add_word_noise, load_confusions
from sim.phrases import DEFAULT_PHRASES, OPTIONAL_WITH_DEFAULT, PhraseBank, PhraseBankError, load_json_strict

ROOT = Path(__file__).resolve().parents[2]
DEV_BANK = ROOT.parent / "shared" / "eval" / "phrases_dev.json"


def test_duplicate_keys_are_rejected(tmp_path):
    f = tmp_path / "dup.json"
    f.write_text('{"offset": {"+y": {"small": ["a"]}, "+y": {"small": ["b"]}}}')
    with pytest.raises(PhraseBankError, match="duplicate key '\\+y'"):
        PhraseBank.load(f)
    with pytest.raises(PhraseBankError, match="duplicate"):
        load_json_strict(f)


def test_the_shipped_files_load_and_have_no_duplicates():
    bank = PhraseBank.load(DEFAULT_PHRASES)
    for cat in OPTIONAL_WITH_DEFAULT:
        assert bank.has(cat)
    c = load_confusions(str(CONFUSIONS_FILE))
    assert "left" in c.table and c.fillers
    assert add_word_noise("a bit to the left", 0.0, random.Random(0)) == "a bit to the left"


def test_today_s_banks_still_load_and_borrow_new_categories(tmp_path):
    minimal = tmp_path / "old.json"
    minimal.write_text(json.dumps({"offset": {"+y": {"small": ["left a bit"]}}, "confirm": ["good"]}))
    b = PhraseBank.load(minimal)
    assert b.has("other_way") and b.has("vague_place") and not b.has("retry")
    assert b.choose(random.Random(0), "other_way") in PhraseBank.load().data["other_way"]
    if DEV_BANK.exists():
        dev = PhraseBank.load(DEV_BANK)
        assert dev.has("offset", "+y") and dev.has("vague_pick")


def test_a_malformed_table_is_rejected(tmp_path):
    f = tmp_path / "asr.json"
    f.write_text(json.dumps({"confusions": {"left": []}, "fillers": ["uh"]}))
    with pytest.raises(PhraseBankError, match="confusions"):
        load_confusions(str(f))

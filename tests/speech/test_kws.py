"""The keyword-spotting stop spotter: streaming equals batch, it hears a spoken stop word and not ordinary
speech, its files load (bad ones are refused) and its training speech holds no test utterance."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from speech.base import CHUNK, Chunk, SpeechError
from speech.kws import TUNED, WEIGHTS, KwsSpotter, detect, load_net, load_tuning
from speech.melspec import StreamingLogMel, log_mel

ROOT = Path(__file__).resolve().parents[2]


def _fold(s: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", s.lower()).split())


def _feed(sp: KwsSpotter, audio: np.ndarray) -> tuple[list[float], list]:
    sp.reset()
    scores, hits = [], []
    for k in range(0, len(audio) - CHUNK + 1, CHUNK):
        hit = sp.feed(Chunk(audio[k:k + CHUNK], (k + CHUNK) / 16000, 0.0))
        scores.append(sp.last_score)
        if hit is not None:
            hits.append(hit)
    return scores, hits


def test_streaming_features_and_scores_equal_the_batch_ones() -> None:
    a = (0.1 * np.random.default_rng(0).standard_normal(16000)).astype(np.float32)
    mel = StreamingLogMel()
    stream = np.concatenate([mel.feed(a[k:k + CHUNK]) for k in range(0, len(a), CHUNK)])
    assert np.allclose(stream, log_mel(a), atol=1e-4)
    sp = KwsSpotter()
    scores, _ = _feed(sp, a)
    _t, p, _w = sp.scores(a)
    assert np.allclose(scores, p, atol=1e-5)


def test_spoken_stop_words_are_heard_and_ordinary_speech_is_not(say) -> None:
    from speech.sources import read_wav

    sp = KwsSpotter()
    for word, voice in (("stop", "en-gb"), ("wait", "en-us"), ("halt", "en-029")):
        _scores, hits = _feed(sp, read_wav(say(word, voice, 150)))
        assert len(hits) == 1 and hits[0].word == word  # one spoken stop is one hit
    _scores, hits = _feed(sp, read_wav(say("move the cup a little to the left and put it on top", "en-us", 150)))
    assert not hits


def test_a_new_source_is_not_deafened_by_the_last_hit(say) -> None:
    from speech.sources import read_wav

    sp = KwsSpotter()
    audio = read_wav(say("halt", "en-gb", 150, pad_s=0.3))
    first = [h for k in range(0, len(audio) - CHUNK + 1, CHUNK)
             if (h := sp.feed(Chunk(audio[k:k + CHUNK], 5.0 + (k + CHUNK) / 16000, 0.0)))]
    again = [h for k in range(0, len(audio) - CHUNK + 1, CHUNK)
             if (h := sp.feed(Chunk(audio[k:k + CHUNK], (k + CHUNK) / 16000, 0.0)))]  # no reset(): its clock restarts
    assert len(first) == 1 and len(again) == 1


def test_detect_rule_needs_consecutive_chunks_and_is_deaf_after_a_hit() -> None:
    t = np.arange(1, 11) * 0.02
    p = np.array([0.9, 0.1, 0.9, 0.9, 0.9, 0.9, 0.1, 0.1, 0.9, 0.9])
    assert detect(t, p, 0.5, 2, 1.0) == [pytest.approx(0.08)]
    assert detect(t, p, 0.5, 2, 0.0) == [pytest.approx(0.08), pytest.approx(0.12), pytest.approx(0.20)]


def test_model_files_load_and_bad_ones_are_refused(tmp_path) -> None:
    t = load_tuning()
    assert 0.0 < t.threshold < 1.0 and t.consecutive >= 1
    assert "never tuned on the bench speech test corpus" in json.loads(TUNED.read_text())["_doc"]
    assert WEIGHTS.stat().st_size < 2_000_000
    load_net()
    assert all((WEIGHTS.parent / n).is_file() for n in t.nets)
    bad = tmp_path / "k.json"
    bad.write_text(json.dumps({"threshold": 1.5, "consecutive": 2, "refractory_s": 1.0}))
    with pytest.raises(SpeechError, match="threshold"):
        load_tuning(bad)
    (tmp_path / "k.npz").write_text("not numpy")
    with pytest.raises(SpeechError, match="cannot read"):
        load_net(tmp_path / "k.npz")
    with pytest.raises(SpeechError, match="knows only"):
        KwsSpotter(("freeze",))
    bad.write_text(json.dumps({"threshold": 0.5, "consecutive": 2, "refractory_s": 1.0, "nets": ["../../x.npz"]}))
    with pytest.raises(SpeechError, match="nets"):
        load_tuning(bad)


def test_a_pair_hears_a_word_only_where_both_networks_do() -> None:
    from speech.kws import KwsPair, load_nets, load_tuning as tuning

    a = (0.1 * np.random.default_rng(1).standard_normal((3, 100, 40))).astype(np.float32)
    one = load_nets(tuning())
    nets = one.nets if isinstance(one, KwsPair) else [one]
    pair = KwsPair(nets + nets[:1])
    p, w = pair.stop_prob(a)
    ps = [n.stop_prob(a) for n in pair.nets]
    assert np.allclose(p, np.min([q for q, _ in ps], axis=0)) and (w == ps[0][1]).all()
    with pytest.raises(SpeechError):
        KwsPair([])


def test_training_speech_holds_no_test_utterance(monkeypatch, test_utterances: set[str]) -> None:
    """What the trainer says (heads + stop word, stop word + tails, its non-stop sentences) is never a test
    utterance: not a phrase of the dev cases, of the held-out corrections, of the dev phrase bank (3+ words)
    nor a multi-word stop phrase of the bench ('stop now', 'stop stop'). The stop words alone are the keywords."""
    from agent.bench import spotter_train
    from agent.bench.speech import STOP_PHRASES

    test = test_utterances | {_fold(p) for p in STOP_PHRASES if len(p.split()) > 1}
    said: list[str] = []
    monkeypatch.setattr(spotter_train, "render", lambda text, *a: said.append(text) or np.ones(1600, np.float32))
    # exactly what `python3 -m agent.bench.spotter_train` says for each network the spotter uses (their training
    # runs, as spotter_kws.json reports them; what is said depends on the seed and clip counts alone) and on held-out speech
    tw = json.loads(TUNED.read_text())["trained_with"]
    runs = list(tw.values()) if "seed" not in tw else [tw]
    assert runs and all(r and "seed" in r for r in runs)
    for run in {(r["seed"], r["stop_clips"], r["nonstop_clips"], r["confusable_clips"], r.get("phrases", 0)) for r in runs}:
        mk = spotter_train.Maker(seed=run[0], phrases=run[4])
        for make, n in ((mk.stop_clip, run[1]), (mk.nonstop_clip, run[2]), (mk.confusable_clip, run[3])):
            for _ in range(n):
                make()
    said += spotter_train.held_out_texts()[1]
    assert len(said) > 6000
    assert not [s for s in said if _fold(s) in test and _fold(s) not in ("stop", "wait", "halt")]
    assert not [s for s in said if "stop stop" in _fold(s) or "stop now" in _fold(s)]


def test_windows_are_trained_to_hold_a_stop_word_only_once_what_follows_it_is_heard() -> None:
    """A window ending less than LABEL_FROM_S after the stop word's end is not trained on (it cannot yet tell
    "wait" from "way slower"); from then to 0.5 s after, it holds the word; before the word, none."""
    from agent.bench.spotter_train import LABEL_FROM_S, labels
    from speech.melspec import HOP

    y = labels(300, [(1.0, 1.4, 2)])  # 'wait' said from 1.0 s to 1.4 s
    t = np.arange(301) * HOP / 16000
    assert set(y[t < 1.0]) == {0}
    assert set(y[(t > 1.06) & (t < 1.4 + LABEL_FROM_S - 0.01)]) == {-1}
    assert set(y[(t > 1.4 + LABEL_FROM_S + 0.01) & (t < 1.89)]) == {2}
    assert 0.05 <= LABEL_FROM_S <= 0.2  # the bench's stop latency budget is 0.3 s p95

"""The web layer's parts on their own (no server, no browser): the request guard, the settings, push-to-talk
audio checks, the frame format and the benchmark plot."""
from __future__ import annotations

import io
import json
import wave
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from agent.web.browse import BadRequest, load_bench
from agent.web.config import ServeConfig
from agent.web.frames import pack, unpack
from agent.web.plot import teach_svg
from agent.web.security import Guard
from agent.web.speech_in import AudioRejected, decode_wav
from hardware.errors import UsageError

TOKEN = "0123456789abcdef-token"


def scope(host="127.0.0.1:8000", origin=None, auth=None, query=b"", kind="http"):
    headers = [(b"host", host.encode())]
    if origin:
        headers.append((b"origin", origin.encode()))
    if auth:
        headers.append((b"authorization", auth.encode()))
    return {"type": kind, "headers": headers, "query_string": query}


def test_loopback_guard_refuses_other_hosts_and_origins():
    g = Guard(None, loopback=True, port=8000)
    assert g.check(scope()) is None
    assert g.check(scope("localhost:8000", origin="http://localhost:8000")) is None
    assert g.check(scope("evil.example:8000"))[0] == 403  # DNS rebinding
    assert g.check(scope("127.0.0.1:9999"))[0] == 403
    assert g.check(scope(origin="http://evil.example"))[0] == 403  # another site's page calling us
    assert g.check(scope(origin="null"))[0] == 403


def test_token_guard():
    g = Guard(TOKEN, loopback=False, port=8000, origins=("https://lab.example.org",))
    assert g.check(scope("10.0.0.5:8000"))[0] == 401
    assert g.check(scope("10.0.0.5:8000", auth="Bearer nope"))[0] == 401
    assert g.check(scope("10.0.0.5:8000", auth=f"Bearer {TOKEN}")) is None
    assert g.check(scope("10.0.0.5:8000", query=f"token={TOKEN}".encode(), kind="websocket")) is None
    assert g.check(scope("10.0.0.5:8000", origin="http://10.0.0.5:8000", auth=f"Bearer {TOKEN}")) is None
    assert g.check(scope("10.0.0.5:8000", origin="https://lab.example.org", auth=f"Bearer {TOKEN}")) is None
    assert g.check(scope("10.0.0.5:8000", origin="http://evil.example", auth=f"Bearer {TOKEN}"))[0] == 403
    cookie = [(b"host", b"10.0.0.5:8000"), (b"cookie", f"other=1; rc_token_8000={TOKEN}".encode())]
    assert g.check({"type": "http", "headers": cookie, "query_string": b""}) is None
    wrong_port = [(b"host", b"10.0.0.5:8000"), (b"cookie", f"rc_token_9000={TOKEN}".encode())]
    assert g.check({"type": "http", "headers": wrong_port, "query_string": b""})[0] == 401


def test_settings_refuse_an_open_server_without_a_token(monkeypatch):
    monkeypatch.delenv("ROBOCORRECT_WEB_TOKEN", raising=False)
    with pytest.raises(UsageError, match="without a token"):
        ServeConfig(host="0.0.0.0")
    with pytest.raises(UsageError, match="at least 16"):
        ServeConfig(host="0.0.0.0", token="short")
    auto = ServeConfig(host="0.0.0.0", token="auto")
    assert auto.token_generated and len(auto.token) >= 16 and auto.token in auto.url()
    assert ServeConfig().loopback and ServeConfig().url() == "http://127.0.0.1:8000/"
    for bad in (dict(port=70000), dict(camera="ceiling"), dict(fps=0), dict(frame_size=(10, 10)), dict(origins=("evil",)),
                dict(render="gpu")):
        with pytest.raises(UsageError):
            ServeConfig(**bad)


def wav(samples: np.ndarray, rate: int = 16000, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buf.getvalue()


def test_push_to_talk_audio_is_checked():
    x = 0.1 * np.sin(np.linspace(0, 2000, 16000)).astype(np.float32)
    y = decode_wav(wav(x))
    assert y.dtype == np.float32 and y.shape == (16000,) and abs(float(y.max()) - 0.1) < 0.01
    for bad in (b"", b"OggS" + bytes(100), wav(x, rate=44100), wav(np.repeat(x, 2), channels=2), wav(x[:800]),
                wav(np.zeros(16000 * 31))):
        with pytest.raises(AudioRejected):
            decode_wav(bad)


def test_frame_format_round_trips():
    h, jpeg = unpack(pack({"seq": 3, "t_step": 1.5, "tcp": [0.4, 0.0, 0.2]}, b"\xff\xd8jpeg"))
    assert h == {"seq": 3, "t_step": 1.5, "tcp": [0.4, 0.0, 0.2]} and jpeg == b"\xff\xd8jpeg"


def test_the_teaching_benchmark_plots_as_svg(tmp_path):
    rounds = [{"round": r, "corrections_per_task": 1.0 / r, "success_rate": 0.9, "ci95": {"corrections_per_task": 0.1}}
              for r in (1, 2, 3)]
    result = {"rounds": rounds, "memory_on": {"rounds": rounds}, "memory_off": {"rounds": rounds}, "seeds": [0, 1, 2]}
    out = tmp_path / "bench.log"
    out.write_text("round 1 ...\nsome progress line\n" + json.dumps(result) + "\n")
    loaded = load_bench(str(out))
    svg = ET.fromstring(teach_svg(loaded))
    assert svg.tag.endswith("svg")
    assert len([e for e in svg.iter() if e.tag.endswith("polyline")]) == 4  # 2 metrics x memory on / off
    (tmp_path / "t.json").write_text(json.dumps(result))
    assert load_bench(str(tmp_path / "t.json"))["seeds"] == [0, 1, 2]
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(BadRequest):
        load_bench(str(tmp_path / "bad.json"))


def test_knowledge_and_policies_are_browsable_read_only(tmp_path):
    from agent.web.browse import Browser, NotFound
    from memory.embed import HashingEmbedder
    from memory.episodes import EpisodeLog
    from memory.kb import KnowledgeBase

    with KnowledgeBase(tmp_path / "kb", embedder=HashingEmbedder()) as kb:
        kid = kb.add({"text": "grip red harder", "scope": "skill", "effect": {"skill": "pick", "changes": [
            {"arg": "force", "op": "scale", "value": 1.5}]}, "conditions": {"skill": "pick", "object_color": "red"}})
        log = EpisodeLog(tmp_path / "episodes")
        try:
            b = Browser(log, kb=kb, policies=str(tmp_path / "policies"))
            listed = b.knowledge()["entries"]
            assert [e["id"] for e in listed] == [kid] and listed[0]["text"] == "grip red harder"
            entry = b.knowledge_entry(str(kid))
            assert entry["effect"]["changes"][0]["arg"] == "force" and entry["conditions"]["object_color"] == "red"
            for bad, err in (("x1", BadRequest), ("99999", NotFound)):
                with pytest.raises(err):
                    b.knowledge_entry(bad)
            assert b.episodes() == []
            with pytest.raises(NotFound):
                b.episode("nope")
            with pytest.raises(BadRequest):
                b.episode("../etc")
            reg = b.policy_registry()
            assert reg["active"] == "shipped" and reg["policies"] == {}
            assert not (tmp_path / "policies").exists()  # browsing creates nothing
        finally:
            log.close()
    empty = Browser(EpisodeLog(tmp_path / "e2"), kb=None, kb_path=str(tmp_path / "no-kb"))
    assert empty.knowledge()["entries"] == [] and not (tmp_path / "no-kb").exists()
    empty.log.close()

"""Bound beyond loopback, ``robocorrect serve`` refuses to start without a token; with one, a request without
it, with a wrong one, or from another origin changes nothing (HTTP and websocket); bad commands from the
controlling page are one ``error`` message each and change nothing either."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from web_helpers import ROOT, serve

TOKEN = "s3cret-token-for-tests-0123456789"
TASK = "put the blue block in the yellow bowl"


def test_beyond_loopback_without_a_token_it_refuses_to_start(tmp_path):
    r = subprocess.run([sys.executable, "-m", "agent.cli", "serve", "--host", "0.0.0.0", "--port", "0"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: refusing to listen on 0.0.0.0 without a token"), r.stderr


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("websec")
    with serve(tmp, "--token", TOKEN, "--confirm-wait", "60", host="0.0.0.0") as (url, proc):
        yield url


def _get(url, path, token=None, origin=None, host=None):
    httpx = pytest.importorskip("httpx")
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if origin:
        headers["Origin"] = origin
    if host:
        headers["Host"] = host
    return httpx.get(url + path, headers=headers, timeout=30)


def _ws(url, token=None, origin=None):
    from websockets.sync.client import connect

    uri = url.replace("http://", "ws://") + "/ws" + (f"?token={token}" if token else "")
    return connect(uri, origin=origin, open_timeout=30, max_size=None)


def _texts(ws, until, timeout=30):
    """Messages (JSON) received until one satisfies ``until``; frames (binary) are skipped."""
    import time

    out, t0 = [], time.time()
    while time.time() - t0 < timeout:
        m = ws.recv(timeout=timeout)
        if isinstance(m, bytes):
            continue
        d = json.loads(m)
        out.append(d)
        if until(d):
            return out
    raise AssertionError(f"no such message in {out}")


def _unchanged(url):
    st = _get(url, "/api/state", token=TOKEN).json()
    assert st["task"] == "" and not st["busy"] and st["plan"] == [] and st["episode_id"] is None
    assert _get(url, "/api/episodes", token=TOKEN).json() == []


def test_http_needs_the_token_and_the_page_origin(remote):
    assert _get(remote, "/api/state").status_code == 401
    assert _get(remote, "/api/state", token="wrong-token-wrong-token").status_code == 401
    r = _get(remote, "/api/state", token=TOKEN, origin="http://evil.example")
    assert r.status_code == 403 and set(r.json()) == {"error"}
    assert _get(remote, "/", token=None).status_code == 401  # even the page
    assert _get(remote, "/api/state", token=TOKEN).status_code == 200
    host = remote.removeprefix("http://")
    assert _get(remote, "/api/state", token=TOKEN, origin=f"http://{host}").status_code == 200  # the page's own origin
    _unchanged(remote)


def test_websockets_without_the_token_or_from_another_origin_change_nothing(remote):
    from websockets.exceptions import InvalidStatus

    host = remote.removeprefix("http://")
    for token, origin in ((None, None), ("wrong-token-wrong-token", None), (TOKEN, "http://evil.example"),
                          (None, f"http://{host}")):
        with pytest.raises(InvalidStatus):
            with _ws(remote, token, origin) as ws:
                ws.send(json.dumps({"op": "text", "text": TASK}))
    _unchanged(remote)


def test_every_command_is_validated_and_a_bad_one_changes_nothing(remote):
    host = remote.removeprefix("http://")
    with _ws(remote, TOKEN, f"http://{host}") as ws:
        hello = _texts(ws, lambda d: d["type"] == "hello")[-1]
        assert hello["role"] == "control"
        for bad in ("not json", json.dumps([1, 2]), json.dumps({"op": "fly"}), json.dumps({"op": "text"}),
                    json.dumps({"op": "text", "text": 5}), json.dumps({"op": "text", "text": "x" * 301}),
                    json.dumps({"op": "text", "text": "   "}), json.dumps({"op": "new", "seed": -1}),
                    json.dumps({"op": "new", "seed": "3"}), json.dumps({"op": "stop", "now": True})):
            ws.send(bad)
            err = _texts(ws, lambda d: d["type"] == "error")[-1]
            assert set(err) == {"type", "error"} and err["error"], bad
        ws.send(b"RIFF not a wav file at all, just bytes that pretend to be one.......")
        assert "WAV" in _texts(ws, lambda d: d["type"] == "error")[-1]["error"]
        ws.send(json.dumps({"op": "text", "text": "hello there"}))  # not a task about this table: a question back
        q = _texts(ws, lambda d: d["type"] == "question")[-1]
        assert q["question"]
        ws.send(json.dumps({"op": "stop"}))  # nothing runs: said so, nothing else
        assert _texts(ws, lambda d: d["type"] == "info")[-1]["message"] == "nothing is running"
        # a second connection only watches
        with _ws(remote, TOKEN, f"http://{host}") as other:
            assert _texts(other, lambda d: d["type"] == "hello")[-1]["role"] == "watch"
            other.send(json.dumps({"op": "text", "text": TASK}))
            assert "watching" in _texts(other, lambda d: d["type"] == "error")[-1]["error"]
    _unchanged(remote)


def test_episode_and_knowledge_ids_are_checked(remote):
    for path in ("/api/episodes/..%2F..%2Fetc", "/api/episodes/nope", "/api/episodes/nope/frames/0",
                 "/api/knowledge/abc", "/api/bench/7", "/api/bench/7.svg", "/api/nothing"):
        r = _get(remote, path, token=TOKEN)
        assert r.status_code in (400, 404), path
        assert set(r.json()) == {"error"}, path


def test_the_page_works_with_its_token_and_is_refused_without(remote, chromium):
    """Opened once with ?token=, the page (script, style, websocket, frames) works and keeps working after a
    reload without the token in its address; a browser without the token gets a 401 and nothing else."""
    page = chromium.new_page()
    page.goto(remote + "/?token=" + TOKEN)
    page.wait_for_function("rc.frames >= 1 && rc.role === 'control'", timeout=60_000)
    assert "token" not in page.url  # dropped from the address bar
    assert page.evaluate("getComputedStyle(document.querySelector('[data-testid=stop]')).backgroundColor") == "rgb(211, 47, 47)"
    page.reload()
    page.wait_for_function("rc.frames >= 1 && rc.role === 'control'", timeout=60_000)
    page.close()
    stranger = chromium.new_context().new_page()
    assert stranger.goto(remote + "/").status == 401
    assert stranger.goto(remote + "/static/app.js").status == 401
    stranger.close()
    _unchanged(remote)


def test_a_robot_config_file_is_served_too(tmp_path):
    """``--robot CONFIG`` (a simulated arm from a robot config file, behind the safety layer) with a measured
    scene: the page's state lists its objects and camera frames arrive."""
    from sim.scene import random_scene

    cfg = tmp_path / "robot.toml"
    cfg.write_text('driver = "sim"\n[limits]\nmax_acceleration = 10.0\n')
    scene = tmp_path / "table.json"
    random_scene(3, n_blocks=2, n_bowls=1).save(scene)
    with serve(tmp_path, "--robot", str(cfg), "--scene", str(scene)) as (url, proc):
        st = _get(url, "/api/state").json()
        assert st["robot"] == str(cfg) and len(st["objects"]) == 3
        with _ws(url) as ws:
            assert _texts(ws, lambda d: d["type"] == "hello")[-1]["role"] == "control"
            frame = None
            while frame is None:
                m = ws.recv(timeout=30)
                frame = m if isinstance(m, bytes) else None
        from agent.web.frames import unpack

        header, jpeg = unpack(frame)
        assert jpeg[:2] == b"\xff\xd8" and header["w"] == 240

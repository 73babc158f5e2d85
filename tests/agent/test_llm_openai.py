"""agent.llm.openai against a real local HTTP server (http.server on 127.0.0.1, a free port, a thread).

The server answers POST /v1/chat/completions with canned bodies; the policy must accept the valid
answer, reject malformed, unsafe and inconsistent ones and every transport failure with a clear
PolicyError, and send a request that carries the scene, the plan, the utterance and the knowledge.
"""
from __future__ import annotations

import copy
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import pytest

from agent.llm.openai import OpenAIPolicy
from agent.policy import PolicyError
from skills.schema import validate_plan

SCENE = {
    "objects": [
        {"name": "red block", "kind": "block", "color": "red", "size": 0.04, "position": [0.5, 0.1, 0.02]},
        {"name": "green bowl", "kind": "bowl", "color": "green", "size": 0.16, "position": [0.55, -0.1, 0.03]},
    ]
}
TASK = "put the red block in the green bowl"
PLAN = [{"skill": "pick", "args": {"object": "red block"}}, {"skill": "place", "args": {"target": "green bowl"}}]
FULL = validate_plan(PLAN, SCENE)
KNOWLEDGE = [{"text": "green bowl: drop 2 cm left of centre", "effect": {"skill": "place", "arg": "offset", "delta": [0, 0.02, 0]}}]
HISTORY = [{"utterance": "move left", "step": 1}]


def _moved(dy: float) -> list[dict[str, Any]]:
    p = copy.deepcopy(FULL)
    p[1]["args"]["offset"] = [0.0, dy, 0.0]
    return p


def _completion(content: str | None) -> bytes:
    return json.dumps({"id": "x", "object": "chat.completion",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}).encode()


class Server:
    """A loopback chat-completions server; ``reply(body_dict) -> (status, bytes)`` is set per test."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.reply: Callable[[dict[str, Any]], tuple[int, bytes]] = lambda body: (200, _completion("{}"))
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(n) or b"{}")
                outer.requests.append({"path": self.path, "body": body})
                outer.headers.append(dict(self.headers))
                if self.path != "/v1/chat/completions":
                    status, data = 404, b'{"error": "not found"}'
                else:
                    status, data = outer.reply(body)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def _shared_server():
    s = Server()
    yield s
    s.close()


@pytest.fixture
def server(_shared_server):
    s = _shared_server
    s.requests.clear()
    s.headers.clear()
    s.reply = lambda body: (200, _completion("{}"))
    return s


def _policy(server: Server, **kw: Any) -> OpenAIPolicy:
    return OpenAIPolicy(base_url=server.base_url, model="tiny-test", **{"timeout": 5.0, "answer": "plan", **kw})


def _ground(p: OpenAIPolicy, utterance: str = "a bit more"):
    return p.ground(SCENE, TASK, PLAN, 1, HISTORY, KNOWLEDGE, utterance)


def test_valid_answer_accepted_and_request_carries_the_case(server):
    server.reply = lambda body: (200, _completion("Here you go:\n" + json.dumps({"level": "skill", "plan": _moved(0.015)})))
    before = copy.deepcopy(PLAN)
    g = _policy(server, api_key="sk-local").ground(SCENE, TASK, PLAN, 1, HISTORY, KNOWLEDGE, "a bit more")
    assert g.level == "skill" and g.plan == _moved(0.015) and g.changes == ["step 1 place: offset y +1.5 cm"]
    assert PLAN == before
    (req,) = server.requests
    body = req["body"]
    assert req["path"] == "/v1/chat/completions"
    assert body["model"] == "tiny-test" and body["temperature"] == 0 and body["response_format"] == {"type": "json_object"}
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    user = body["messages"][1]["content"]
    assert '"red block": block, colour red' in user and "position [0.550, -0.100, 0.030]" in user  # scene
    assert '1: {"skill": "place", "args": {"target": "green bowl"' in user  # plan with step indices
    assert 'Utterance: "a bit more"' in user and '"move left"' in user  # utterance, history
    assert "green bowl: drop 2 cm left of centre" in user and '"delta": [0, 0.02, 0]' in user  # knowledge
    assert server.headers[0]["Authorization"] == "Bearer sk-local"


def test_plan_request(server):
    server.reply = lambda body: (200, _completion(json.dumps({"plan": PLAN})))
    assert _policy(server).plan(SCENE, TASK, KNOWLEDGE) == FULL
    assert 'Task: "put the red block in the green bowl"' in server.requests[0]["body"]["messages"][1]["content"]


@pytest.mark.parametrize(
    "content, msg",
    [
        ("I think it should move a little to the left.", "model output has no JSON object"),
        ('{"level": "skill", "plan": [', "unterminated JSON object"),
        (json.dumps({"level": "skill", "plan": _moved(0.4)}), "place.offset\\[1\\] = 0.4 m is outside the safe range \\[-0.15, 0.15\\] m"),
        (json.dumps({"level": "plan", "plan": [FULL[0], {"skill": "place", "args": {"target": "purple bowl"}}]}),
         "there is no purple bowl; I see: red block, green bowl"),
        (json.dumps({"level": "none", "plan": _moved(0.01)}), "level 'none' but changed the plan"),
        (json.dumps({"level": "retry", "plan": FULL}), "unknown level 'retry'"),
        (json.dumps({"level": "skill", "plan": FULL, "confidence": 0.9}), "unexpected keys \\['confidence'\\]"),
        (None, "with no text"),
    ],
)
def test_bad_answers_rejected(server, content, msg):
    server.reply = lambda body: (200, _completion(content))
    with pytest.raises(PolicyError, match=msg):
        _ground(_policy(server))


def test_http_error_names_url_and_status(server):
    server.reply = lambda body: (500, b'{"error": {"message": "CUDA out of memory"}}')
    with pytest.raises(PolicyError, match=f"POST {server.base_url}/chat/completions answered HTTP 500: .*CUDA out of memory"):
        _ground(_policy(server))


def test_wrong_path_is_a_404(server):
    p = OpenAIPolicy(base_url=f"http://127.0.0.1:{server.port}", model="m", timeout=5)  # forgot the /v1
    with pytest.raises(PolicyError, match=f"http://127.0.0.1:{server.port}/chat/completions answered HTTP 404"):
        _ground(p)


def test_non_json_body_and_missing_choices(server):
    server.reply = lambda body: (200, b"<html>gateway</html>")
    with pytest.raises(PolicyError, match="answered HTTP 200 with a body that is not JSON: '<html>gateway"):
        _ground(_policy(server))
    server.reply = lambda body: (200, b'{"object": "list", "data": []}')
    with pytest.raises(PolicyError, match="without choices\\[0\\].message.content"):
        _ground(_policy(server))


def test_timeout(server):
    def slow(body):
        time.sleep(1.5)
        return 200, _completion(json.dumps({"level": "stop", "plan": FULL}))

    server.reply = slow
    with pytest.raises(PolicyError, match="timed out after 0.3 s"):
        _ground(_policy(server, timeout=0.3))


def test_unreachable_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(PolicyError, match=f"cannot reach http://127.0.0.1:{port}/v1/chat/completions"):
        _ground(OpenAIPolicy(base_url=f"http://127.0.0.1:{port}/v1", model="m", timeout=2))


def test_server_without_json_mode_gets_a_retry_without_it(server):
    def picky(body):
        if "response_format" in body:
            return 400, b'{"error": "response_format is not supported"}'
        return 200, _completion(json.dumps({"level": "stop", "plan": PLAN}))

    server.reply = picky
    p = _policy(server)
    assert _ground(p, "stop").level == "stop"
    assert [("response_format" in r["body"]) for r in server.requests] == [True, False]
    _ground(p, "stop")
    assert "response_format" not in server.requests[-1]["body"]  # remembered
    server.requests.clear()
    p2 = _policy(server, json_mode=False)
    _ground(p2, "stop")
    assert len(server.requests) == 1 and "response_format" not in server.requests[0]["body"]


def test_configuration_from_environment(server, monkeypatch):
    for k in ("ROBOCORRECT_OPENAI_BASE_URL", "OPENAI_BASE_URL", "ROBOCORRECT_OPENAI_API_KEY", "OPENAI_API_KEY", "ROBOCORRECT_OPENAI_MODEL"):
        monkeypatch.delenv(k, raising=False)
    with pytest.raises(PolicyError, match="needs a model name"):
        OpenAIPolicy(base_url=server.base_url)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
    monkeypatch.setenv("ROBOCORRECT_OPENAI_BASE_URL", server.base_url + "/")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-generic")
    monkeypatch.setenv("ROBOCORRECT_OPENAI_MODEL", "env-model")
    p = OpenAIPolicy(answer="plan")
    assert p.url == f"{server.base_url}/chat/completions" and p.config.model == "env-model"
    assert "sk-generic" not in repr(p.config)
    server.reply = lambda body: (200, _completion(json.dumps({"level": "none", "plan": PLAN})))
    assert _ground(p, "nice").level == "none"
    assert server.requests[0]["body"]["model"] == "env-model"
    assert server.headers[0]["Authorization"] == "Bearer sk-generic"
    monkeypatch.setenv("ROBOCORRECT_OPENAI_API_KEY", "sk-robo")
    assert OpenAIPolicy().config.api_key == "sk-robo"
    with pytest.raises(PolicyError, match="must start with http"):
        OpenAIPolicy(base_url="localhost:11434/v1", model="m")


def test_loopback_server_bypasses_proxy_settings(server, monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9/")  # nothing listens there
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9/")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    server.reply = lambda body: (200, _completion(json.dumps({"level": "none", "plan": PLAN})))
    assert _ground(_policy(server), "thanks").level == "none"

"""Policy options: one table (agent.factory.OPTIONS) behind make_policy, --policy-arg and --help; a missing or
unknown option is one `error:` line (UsageError, exit 2); a rejected answer is a failure in the answers file,
with its error and the model's raw text, and score_grounding.py counts it as one."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from agent.cli import main
from agent.factory import OPTIONS, make_policy, parse_policy_args
from hardware.errors import UsageError

SCORER = Path(__file__).resolve().parents[2] / ".." / "shared" / "eval" / "score_grounding.py"
SCENE = {"objects": [
    {"name": "red block", "kind": "block", "color": "red", "size": 0.04, "position": [0.5, 0.1, 0.02]},
    {"name": "green bowl", "kind": "bowl", "color": "green", "size": 0.16, "position": [0.4, -0.2, 0.03]},
]}
PLAN = [{"skill": "pick", "args": {"object": "red block", "offset": [0, 0, 0], "yaw": 0.0, "speed": 1.0, "force": 20.0, "height": 0.1}},
        {"skill": "place", "args": {"target": "green bowl", "offset": [0, 0, 0], "yaw": 0.0, "speed": 1.0, "height": 0.1}}]


def _case(cid: str, utterance: str, expect: list) -> dict:
    return {"id": cid, "scene": SCENE, "task": "put the red block in the green bowl", "plan": PLAN, "step": 1,
            "history": [], "utterance": utterance, "expect": expect}


@pytest.mark.parametrize("name, args, msg", [
    ("hf", [], "--policy hf needs --policy-arg model="),
    ("hf", ["model=/x", "constrain=json"], "no option 'constrain' \\(did you mean constrained=\\?\\)"),
    ("hf", ["model=/x", "constrained=grammar"], "constrained=grammar is not one of schema, json, off"),
    ("hf", ["model=/x", "max_new_tokens=lots"], "max_new_tokens=lots is not a whole number"),
    ("openai", ["timeout=soon"], "timeout=soon is not a number"),
    ("openai", ["json_mode=maybe"], "json_mode=maybe is not true or false"),
    ("embedded", ["model=/x"], "policy embedded has no option 'model'"),
    ("gpt", [], "unknown policy 'gpt'"),
    ("hf", ["model"], "takes KEY=VALUE"),
])
def test_bad_options_are_usage_errors(name, args, msg):
    with pytest.raises(UsageError, match=msg):
        make_policy(name, **parse_policy_args(args, name))


def test_options_are_typed_by_the_table():
    got = parse_policy_args(["model=123", "max-new-tokens=32", "constrained=false", "examples=0", "kb=/k"], "hf")
    assert got == {"model": "123", "max_new_tokens": 32, "constrained": False, "examples": 0, "kb": "/k"}
    assert parse_policy_args(["timeout=5", "json_mode=no"], "openai") == {"timeout": 5.0, "json_mode": False}
    with pytest.raises(UsageError, match="no option 'modle'"):
        make_policy("openai", modle="x")  # the Python API is checked too


def test_cli_prints_one_error_line_and_exits_2(tmp_path, capsys):
    cases = tmp_path / "c.jsonl"
    cases.write_text(json.dumps(_case("c1", "left", [])) + "\n")
    for extra in ([], ["--policy-arg", "model=/x", "--policy-arg", "constrain=json"]):
        code = main(["ground", str(cases), "--out", str(tmp_path / "a.jsonl"), "--policy", "hf", *extra])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and err[0].startswith("error: "), err
    assert not (tmp_path / "a.jsonl").exists()


def test_help_lists_every_option_of_every_policy():
    out = subprocess.run([sys.executable, "-m", "agent.cli", "ground", "--help"], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[2]).stdout
    for name, opts in OPTIONS.items():
        assert f"  {name}:" in out
        for o in opts:
            assert f"    {o.name}" in out, o.name
    plan_help = subprocess.run([sys.executable, "-m", "agent.cli", "plan", "--help"], capture_output=True, text=True,
                               cwd=Path(__file__).resolve().parents[2]).stdout
    assert "--policy-arg" in plan_help and "max_new_tokens" in plan_help


class _Canned:
    """A loopback chat-completions server answering each request with the next canned text."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = list(answers)
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": outer.answers.pop(0)},
                                                "finish_reason": "stop"}], "usage": {"prompt_tokens": 321, "completion_tokens": 12}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


def test_rejected_answers_are_failures_in_the_answers_file_and_the_scorer(tmp_path, capsys):
    left = [{"step": 1, "arg": "offset", "axis": "y", "delta": [0.003, 0.025]}]
    cases = [_case("ok", "a bit to the left", left), _case("noop", "a bit to the left", left),
             _case("junk", "a bit to the left", left), _case("praise", "perfect", [{"level": "none"}])]
    answers = ['{"level": "skill", "changes": [{"arg": "offset", "op": "add", "value": [0, 0.012, 0]}]}',
               '{"level": "skill", "changes": []}',  # claims a change and makes none
               "Sure! I will move it left.",
               '{"level": "none"}']
    server = _Canned(answers)
    try:
        path = tmp_path / "cases.jsonl"
        path.write_text("".join(json.dumps(c) + "\n" for c in cases))
        out = tmp_path / "answers.jsonl"
        code = main(["ground", str(path), "--out", str(out), "--policy", "openai", "--policy-arg", f"base_url={server.url}",
                     "--policy-arg", "model=canned", "--policy-arg", "examples=2"])
    finally:
        server.httpd.shutdown()
    assert code == 0
    rows = {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert rows["ok"]["level"] == "skill" and "error" not in rows["ok"] and rows["ok"]["prompt_tokens"] == 321
    for cid, msg in (("noop", "plan is unchanged"), ("junk", "no JSON object")):
        r = rows[cid]
        assert r["level"] is None and msg in r["error"] and r["raw"] == answers[list(rows).index(cid)] and r["plan"] == PLAN
    assert rows["praise"]["level"] == "none" and "error" not in rows["praise"]
    assert "rejected 2" in capsys.readouterr().out
    if SCORER.exists():
        res = subprocess.run([sys.executable, str(SCORER), str(path), str(out)], capture_output=True, text=True)
        assert "2 passed, 2 failed" in res.stdout, res.stdout


# every command that takes --policy takes --policy-arg, checked before anything is written or connected
POLICY_COMMANDS = [
    ["demo", "--out", "{tmp}/demo"],
    ["sim", "--log", "{tmp}/log"],
    ["robot", "run", "--config", "{tmp}/robot.toml", "--task", "put the red block in the green bowl", "--log", "{tmp}/log"],
    ["bench", "control", "--corrections", "1"],
    ["bench", "teach", "--out", "{tmp}/teach"],
    ["ground", "{tmp}/cases.jsonl", "--out", "{tmp}/ans.jsonl"],
    ["plan", "--generate", "2", "--out", "{tmp}/ans.jsonl"],
]


@pytest.mark.parametrize("command", POLICY_COMMANDS, ids=lambda c: " ".join(c[:2]))
@pytest.mark.parametrize("extra, msg", [
    (["--policy", "embedded", "--policy-arg", "thread=2"], "did you mean threads=?"),
    (["--policy", "hf"], "--policy hf needs --policy-arg model="),
    (["--policy", "embedded", "--policy-arg", "threads=two"], "is not a whole number"),
    (["--policy", "nope"], "unknown policy 'nope'"),
])
def test_every_policy_command_takes_policy_arg_and_says_what_is_wrong_in_one_line(command, extra, msg, tmp_path, capsys):
    (tmp_path / "cases.jsonl").write_text(json.dumps(_case("c1", "a bit to the left", [])) + "\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    argv = [a.replace("{tmp}", str(tmp_path)) for a in command] + extra
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and msg in err[0], err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


@pytest.mark.parametrize("command", [["demo"], ["sim"], ["robot", "run"], ["bench", "control"], ["ground"]], ids=" ".join)
def test_every_policy_command_lists_the_options_in_help(command, capsys):
    with pytest.raises(SystemExit):
        main(command + ["--help"])
    out = capsys.readouterr().out
    assert "--policy-arg KEY=VALUE" in out and "adapter" in out and "max_new_tokens" in out

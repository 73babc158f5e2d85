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

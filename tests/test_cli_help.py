"""A command line that helps: its help, its suggestions, its output for people and for
machines, and validation that reports every error in one pass."""

from __future__ import annotations

from fuzz_strategies import call_main

from flowsim.cli import EXIT_BALANCE, EXIT_EXPECTATION, EXIT_INTERRUPTED, EXIT_TERMINATED


def test_a_bare_command_prints_its_help_and_exits_0():
    code, out, err = call_main([])
    assert code == 0
    assert out.startswith("usage: flowsim")
    assert "validate" in out and "exit codes:" in out
    assert err == ""


def test_a_mistyped_command_is_exit_2_with_a_suggestion():
    code, out, err = call_main(["rnu", "x.toml"])
    assert code == 2
    assert "unknown command 'rnu'; did you mean 'run'?" in err
    assert "Traceback" not in err
    assert out == ""


def test_a_mistyped_choice_of_a_command_gets_a_suggestion():
    code, _, err = call_main(["schema", "sweeep"])
    assert code == 2
    assert "did you mean 'sweep'?" in err


def test_help_lists_every_exit_code():
    code, out, _ = call_main(["--help"])
    assert code == 0
    codes = out.split("exit codes:")[1]
    for number, meaning in [
        (0, "success"),
        (EXIT_EXPECTATION, "[[expect]] rule failed"),
        (2, "a problem with the input"),
        (EXIT_BALANCE, "broken mass balance"),
        (EXIT_INTERRUPTED, "interrupted"),
        (EXIT_TERMINATED, "terminated"),
    ]:
        assert f"  {number} " in codes and meaning in codes
    assert EXIT_TERMINATED == 143

"""Every command and option explains itself in ``--help``: a description, a help text, a named value."""

from __future__ import annotations

import argparse

import pytest

from aep_export_contracts.cli import build_parser, main


def _commands() -> dict[str, argparse.ArgumentParser]:
    [sub] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def _undocumented(parser: argparse.ArgumentParser) -> list[str]:
    """What ``parser``'s help leaves unexplained: a missing description, an option or argument without help
    text, a value shown only by argparse's default name (the dest in capitals, or the list of choices)."""
    gaps = [] if parser.description else ["no description"]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        name = "/".join(action.option_strings) or action.dest
        if not action.help or action.help == argparse.SUPPRESS:
            gaps.append(f"{name}: no help text")
        if action.nargs != 0 and not action.metavar:
            gaps.append(f"{name}: its value has no name (metavar)")
    return gaps


def test_every_command_is_listed_with_a_summary() -> None:
    parser = build_parser()
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    summaries = {choice.dest: choice.help for choice in sub._choices_actions}
    assert set(summaries) == set(_commands())
    assert [name for name, text in summaries.items() if not text] == []


@pytest.mark.parametrize("command", sorted(_commands()))
def test_every_option_of_every_command_has_help_and_a_named_value(command: str) -> None:
    assert _undocumented(_commands()[command]) == []


@pytest.mark.parametrize("command", sorted(_commands()))
def test_help_prints_and_exits_0(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: aep-export-contracts {command}") and "%(" not in out


def test_a_default_worth_saying_is_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["proxy", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: 30.0)" in out and "(default: 8081)" in out and "(default: False)" not in out

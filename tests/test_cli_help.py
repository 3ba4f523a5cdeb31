"""Every ``calvingfronts`` subcommand explains each of its options in plain text."""

from __future__ import annotations

import argparse
import re

import pytest

from calvingfronts.cli import main
from calvingfronts.help_text import plain

SPHINX_MARKUP = re.compile(r"``|:[a-z]+:`")


class _Parsed(Exception):
    def __init__(self, parser: argparse.ArgumentParser):
        super().__init__(parser.prog)
        self.parser = parser


def _parser_of(argv: list[str], monkeypatch) -> argparse.ArgumentParser:
    """The parser a command builds, caught where it would parse its arguments."""

    def catch(self, args=None, namespace=None):
        raise _Parsed(self)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", catch)
    with pytest.raises(_Parsed) as caught:
        main(argv)
    return caught.value.parser


def _with_subcommands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    parsers = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                parsers += _with_subcommands(sub)
    return parsers


COMMANDS = [
    [],
    ["evaluate-fronts"],
    ["evaluate-images"],
    ["calibrate-uncertainty"],
    ["trace-series"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda argv: argv[0] if argv else "calvingfronts")
def test_every_option_has_plain_help(argv, monkeypatch):
    for parser in _with_subcommands(_parser_of(argv, monkeypatch)):
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            name = "/".join(action.option_strings) or action.dest
            assert action.help and action.help != argparse.SUPPRESS, (
                f"{parser.prog} {name} has no help"
            )
        text = parser.format_help()
        assert not SPHINX_MARKUP.search(text), f"{parser.prog} --help shows Sphinx markup"


def test_plain_drops_roles_and_literals():
    text = (
        "Uses :func:`calvingfronts.fronts.vectorize.extract_front` and ``--pixel-size`` "
        "(:class:`X`)."
    )
    assert plain(text) == "Uses extract_front and --pixel-size (X)."

"""Docstrings as plain text for ``--help``.

The command-line tools take their descriptions from the module docstrings, which are written
for Sphinx. A terminal shows the markup literally, so roles and literals become plain words:
``:func:`calvingfronts.fronts.vectorize.extract_front``` -> ``extract_front``, double backticks ->
nothing.
"""

from __future__ import annotations

import re

# :role:`target`, :role:`~package.module.name` or :role:`text <target>`.
_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`~?([^`<]*?)\s*(?:<[^`>]*>)?`")
_LITERAL = re.compile(r"``(.+?)``", flags=re.DOTALL)


def _role_text(match: re.Match) -> str:
    text = match.group(1)
    # A dotted target with "~" (or any dotted path) reads best by its last name, as Sphinx shows it.
    return text.rsplit(".", 1)[-1] if "." in text and " " not in text else text


def plain(text: str | None) -> str:
    """``text`` without reStructuredText roles and inline literals."""
    if not text:
        return ""
    return _LITERAL.sub(r"\1", _ROLE.sub(_role_text, text))

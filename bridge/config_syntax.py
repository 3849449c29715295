"""Saying where a config file's YAML goes wrong: the line where the mistake starts.

ruamel.yaml reports where parsing failed, which for an unclosed quote is far below it: the
quoted scalar swallows the lines up to the next quote character, and the error names the
section that contains the quote and the line where the swallowing stopped. So the lines up
to the failure are read for a quote opened and not closed on its own line first.
"""

from __future__ import annotations

import re

from ruamel.yaml.error import MarkedYAMLError, YAMLError

# A value (after "key:" or a list's "- ") that starts with a quote.
_QUOTED_VALUE = re.compile(r"^\s*(?:-\s+|[^#'\"\s][^#]*?:\s+|\"[^\"]*\"\s*:\s+)(?P<quote>['\"])")


def unclosed_quote(line: str) -> bool:
    """Whether ``line`` opens a quoted value that does not close on it.

    YAML allows a quoted scalar to go on over several lines, but a config never needs one,
    so such a line is almost surely the mistake.
    """
    match = _QUOTED_VALUE.match(line)
    if not match:
        return False
    quote, index = match["quote"], match.end()
    while index < len(line):
        char = line[index]
        if quote == '"' and char == "\\":
            index += 2
            continue
        if char == quote:
            if quote == "'" and line[index + 1 : index + 2] == "'":
                index += 2
                continue
            return False
        index += 1
    return True


def _quoted_line(number: int, text: str) -> str:
    return f"\n      {number:>4} | {text.rstrip()}"


def describe_yaml_error(error: YAMLError, text: str) -> str:
    """One problem line (plus the offending line of the file) for a YAML error in ``text``.

    e.g. 'not valid YAML: line 13 opens a quote that it does not close: ...', else
    'not valid YAML at line 33, column 18: expected <block end>, ...' with the section the
    parser was reading (ruamel's context mark) when it names another line.
    """
    lines = text.splitlines()
    if not isinstance(error, MarkedYAMLError) or error.problem_mark is None:
        return f"not valid YAML: {error}"
    failed = error.problem_mark.line
    first = error.context_mark.line if error.context_mark is not None else 0
    for number in range(min(first, failed), min(failed + 1, len(lines))):
        if unclosed_quote(lines[number]):
            return (
                f"not valid YAML: line {number + 1} opens a quote that it does not close"
                f"{_quoted_line(number + 1, lines[number])}\n"
                f"    (the parser only failed at line {failed + 1}: {error.problem})"
            )
    message = (
        f"not valid YAML at line {failed + 1}, column {error.problem_mark.column + 1}: "
        f"{error.problem}"
    )
    if failed < len(lines):
        message += _quoted_line(failed + 1, lines[failed])
    context = error.context_mark
    if context is not None and context.line != failed and error.context:
        message += f"\n    ({error.context} that starts at line {context.line + 1})"
        if context.line < len(lines):
            message += _quoted_line(context.line + 1, lines[context.line])
    return message

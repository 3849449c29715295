"""Reading the provisioning API's input: path IDs, JSON bodies and query values (pure).

Every function raises :class:`BadRequest` with a message that names the bad field and says
what it should be; the API answers it with HTTP 400.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

MAX_SNOWFLAKE = 2**64 - 1
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_JSON_TYPES = {
    dict: "an object",
    list: "a list",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    type(None): "null",
}


class BadRequest(Exception):
    """The request cannot be read; ``errcode`` is its Matrix-style error code (HTTP 400)."""

    def __init__(self, message: str, errcode: str = "M_INVALID_PARAM") -> None:
        super().__init__(message)
        self.errcode = errcode


def json_type(value: Any) -> str:
    """How a JSON value's type reads in an error message ("a string", "null" …)."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def snowflake(value: str, field: str) -> int:
    """A Discord ID given as a string of digits (from the path, the query or a JSON field)."""
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) <= MAX_SNOWFLAKE:
        raise BadRequest(
            f'{field} must be a Discord ID (a string of digits, e.g. "81384788765712384"), '
            f"got {value!r}"
        )
    return int(value)


def parse_body(raw: bytes, fields: Iterable[str]) -> dict[str, Any]:
    """The request body as a JSON object with only the given fields; empty means ``{}``.

    Raises :class:`BadRequest` (``M_NOT_JSON`` for invalid JSON, ``M_BAD_JSON`` for JSON that
    is not an object, ``M_INVALID_PARAM`` for a field the endpoint does not take).
    """
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest(f"The request body is not valid JSON: {error}", "M_NOT_JSON") from error
    if not isinstance(body, dict):
        raise BadRequest(
            f"The request body must be a JSON object, got {json_type(body)}", "M_BAD_JSON"
        )
    allowed = list(fields)
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        takes = ", ".join(allowed) if allowed else "no fields"
        raise BadRequest(f"Unknown field {unknown[0]!r}: this endpoint takes {takes}")
    return body


def flag(body: dict[str, Any], field: str) -> bool:
    """An optional boolean field (absent means false)."""
    value = body.get(field, False)
    if not isinstance(value, bool):
        raise BadRequest(f"{field} must be true or false, got {json_type(value)}")
    return value


def snowflake_field(body: dict[str, Any], field: str) -> int:
    """A required Discord ID field, given as a string of digits."""
    if field not in body:
        raise BadRequest(f"{field} is missing: give a Discord ID as a string of digits")
    value = body[field]
    if not isinstance(value, str):
        raise BadRequest(
            f"{field} must be a Discord ID as a string of digits (JSON numbers lose digits), "
            f"got {json_type(value)}"
        )
    return snowflake(value, field)


def room_id_field(body: dict[str, Any], field: str) -> str:
    """A required Matrix room ID (``!…``)."""
    value = body.get(field)
    if not isinstance(value, str) or not value.startswith("!") or len(value) < 2:
        got = repr(value) if isinstance(value, str) else json_type(value)
        raise BadRequest(f"{field} must be a Matrix room ID starting with '!', got {got}")
    return value


def since_field(body: dict[str, Any], field: str) -> datetime | None:
    """An optional ``YYYY-MM-DD`` date, as midnight UTC of that day."""
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        got = repr(value) if isinstance(value, str) else json_type(value)
        raise BadRequest(f"{field} must be a date as YYYY-MM-DD, got {got}")
    try:
        day = date.fromisoformat(value)
    except ValueError as error:
        raise BadRequest(f"{field} is not a real date: {value!r} ({error})") from error
    return datetime(day.year, day.month, day.day, tzinfo=UTC)

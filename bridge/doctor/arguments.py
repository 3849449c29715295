"""Doctor's command-line argument types (kept light: the parser imports them at start)."""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit


def well_known_base(value: str) -> str:
    """argparse type of --well-known-url: an http:// or https:// URL with a host, e.g.
    ``https://staging.example.com``; raises argparse.ArgumentTypeError otherwise (exit 2)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an http:// or https:// URL: give the base the .well-known "
            "files are under, with its scheme, e.g. https://example.com or http://127.0.0.1:8080"
        )
    try:
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{value!r}: {error}") from None
    return value

"""How fast Discord markdown converts to Matrix HTML (not a test: prints figures).

Usage: .venv/bin/python bench/markdown_speed.py [--rounds 20]
The last line is the headline: conversions per second of a 4000-character formatted message,
as a ratio to Discord's message rate limit for one channel (5 per 5 s = 1 per second). Issue 16
sets no target for it. Nothing runs but this process: no folder, no child.
"""

from __future__ import annotations

import argparse
import time

from harness import positive_int  # bench/, beside this script

from bridge.convert.d2m import markdown
from bridge.convert.d2m.context import ChannelTarget, MessageContext, UploadedMedia

CONTEXT = MessageContext(
    domain="example.org",
    user_mxids={111: "@discord_111:example.org"},
    user_names={111: "Alice"},
    channels={777: ChannelTarget("general", "!room:example.org")},
    emoji={900: UploadedMedia("mxc://example.org/blobcat")},
)
LINE = "**Update** _v2_ for <@111> in <#777> <:blobcat:900> `code` https://x.example ||s||\n"


def best_ms(text: str, rounds: int = 20) -> float:
    best = float("inf")
    for _ in range(rounds):
        markdown.parse.cache_clear()
        start = time.perf_counter()
        markdown.discord_to_matrix(text, CONTEXT)
        best = min(best, (time.perf_counter() - start) * 1000)
    return best


def main(rounds: int) -> None:
    """Print the best of ``rounds`` conversions (ms) of three 4000-character texts."""
    formatted = (("> " + LINE + "- " + LINE) * 40)[:4000]
    plain = ("just some words " * 300)[:4000]
    hostile = "*a" * 2000
    for name, text in (("formatted", formatted), ("plain", plain), ("hostile", hostile)):
        print(f"{name:>10}: {len(text)} chars, best of {rounds}: {best_ms(text, rounds):.2f} ms")
    per_second = 1000 / best_ms(formatted, rounds)
    print(
        f"headline: {per_second:.0f} formatted 4000-char messages/s = {per_second:.0f}x one "
        "channel's Discord rate (no target)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds",
        type=positive_int,
        default=20,
        help="conversions of each text; the best is shown (20)",
    )
    try:
        main(parser.parse_args().rounds)
    except KeyboardInterrupt:
        print("interrupted")
        raise SystemExit(130) from None

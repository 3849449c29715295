"""How fast Discord markdown converts to Matrix HTML (not a test: prints figures).

Usage: .venv/bin/python bench/markdown_speed.py
The last line is the headline: conversions per second of a 4000-character formatted message,
as a ratio to Discord's message rate limit for one channel (5 per 5 s = 1 per second).
"""

from __future__ import annotations

import time

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


def main() -> None:
    formatted = (("> " + LINE + "- " + LINE) * 40)[:4000]
    plain = ("just some words " * 300)[:4000]
    hostile = "*a" * 2000
    for name, text in (("formatted", formatted), ("plain", plain), ("hostile", hostile)):
        print(f"{name:>10}: {len(text)} chars, best of 20: {best_ms(text):.2f} ms")
    per_second = 1000 / best_ms(formatted)
    print(
        f"headline: {per_second:.0f} formatted 4000-char messages/s = {per_second:.0f}x one channel's Discord rate"
    )


if __name__ == "__main__":
    main()

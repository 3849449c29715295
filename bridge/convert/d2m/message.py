"""A Discord message as the Matrix events that show it, and plans for its edits and deletion.

One Discord message becomes several events, in order: its text (content, then embeds, poll,
forward), one event per attachment, one per sticker. Each event is a :class:`MatrixPart` with
a ``kind`` that stays the same across edits ("text", "text:2", "attachment:<id>",
"sticker:<id>", "notice"), so an edit can be matched to the events it changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..message_model import AttachmentSnapshot, MessageSnapshot
from .attachments import attachment_content, attachment_link, sticker_event
from .context import MessageContext
from .embeds import join, render_embeds, render_forward, render_poll
from .markdown import Formatted, discord_to_matrix, mentioned_user_ids
from .split import MAX_CONTENT_BYTES, content_size, split_source
from .system import NOTICE_TYPES, SILENT_TYPES, system_text

MESSAGE = "m.room.message"
STICKER = "m.sticker"
HTML = "org.matrix.custom.html"

_ROOM_MENTION = re.compile(r"@(everyone|here)\b")


@dataclass(frozen=True)
class MatrixPart:
    """One Matrix event of a Discord message."""

    kind: str  # "text", "text:<n>", "attachment:<id>", "sticker:<id>", "notice"
    event_type: str  # "m.room.message" | "m.sticker"
    content: dict[str, Any]


@dataclass(frozen=True)
class _Options:
    captions: bool = False
    system_messages: bool = True
    author_can_mention_everyone: bool = False


def convert_message(
    message: MessageSnapshot,
    ctx: MessageContext,
    *,
    captions: bool = False,
    system_messages: bool = True,
    author_can_mention_everyone: bool = False,
) -> list[MatrixPart]:
    """The events of one Discord message, in the order they are to be sent.

    ``captions``: a message with text and exactly one attachment becomes one captioned media
    event. ``system_messages``: False drops pins, joins, boosts and the like.
    ``author_can_mention_everyone``: the author may ping @everyone on Discord (with
    ``ctx.allow_room_mention``, @everyone then becomes @room).
    """
    options = _Options(captions, system_messages, author_can_mention_everyone)
    if message.type in SILENT_TYPES:
        return []
    if message.type in NOTICE_TYPES:
        text = system_text(message)
        if not options.system_messages or not text:
            return []
        content = {"msgtype": "m.notice", "body": text, "m.mentions": {}}
        return _with_relations([MatrixPart("notice", MESSAGE, content)], ctx, reply=False)

    linked, uploaded = _split_by_upload(message, ctx)
    texts = _text_parts(message, ctx, options, linked)
    media = [_attachment_part(a, ctx) for a in [*message.attachments, *uploaded]]
    if (
        options.captions
        and len(texts) == 1
        and len(message.attachments) == 1
        and message.attachments[0].id in ctx.media
    ):
        media = [_captioned(message.attachments[0], ctx, texts[0])]
        texts = []
    stickers = [
        MatrixPart(f"sticker:{s.id}", *sticker_event(s, ctx.media.get(s.id)))
        for s in message.stickers
    ]
    parts = [*texts, *media, *stickers]
    for part in parts:
        part.content.setdefault("m.mentions", {})
    is_reply = message.reference is not None and not message.reference.forward
    if is_reply and parts and ctx.reply_to is not None and ctx.reply_to.from_matrix:
        _mention_replied(parts[0], ctx.reply_to.sender_mxid)
    return _with_relations(parts, ctx, reply=is_reply and ctx.reply_to is not None)


def _mention_replied(part: MatrixPart, mxid: str) -> None:
    """A reply to a message posted from Matrix pings its Matrix sender.

    Discord pings the replied-to author by default (``allowed_mentions.replied_user``), and
    lists them in the reply's ``mentions`` only when pinged; a webhook message's author is
    never listed, ping or not, so the toggle cannot be seen and the default applies. Replies
    to Discord users' messages need nothing here: their ghosts come from ``mentions``.
    """
    mentions = part.content.setdefault("m.mentions", {})
    if mxid not in mentions.get("user_ids", []):
        mentions["user_ids"] = [*mentions.get("user_ids", []), mxid]


def _split_by_upload(
    message: MessageSnapshot, ctx: MessageContext
) -> tuple[list[AttachmentSnapshot], list[AttachmentSnapshot]]:
    """The forwarded message's files: (not uploaded → links in the quote, uploaded → parts)."""
    if message.forwarded is None:
        return [], []
    files = message.forwarded.attachments
    return [a for a in files if a.id not in ctx.media], [a for a in files if a.id in ctx.media]


def _attachment_part(attachment: AttachmentSnapshot, ctx: MessageContext) -> MatrixPart:
    kind = f"attachment:{attachment.id}"
    media = ctx.media.get(attachment.id)
    if media is None:
        return MatrixPart(kind, MESSAGE, _text_content(attachment_link(attachment)))
    return MatrixPart(kind, MESSAGE, attachment_content(attachment, media))


def _captioned(attachment: AttachmentSnapshot, ctx: MessageContext, text: MatrixPart) -> MatrixPart:
    """The attachment with the text part as its caption (and the text's mentions)."""
    caption = Formatted(text.content["body"], text.content.get("formatted_body"))
    content = attachment_content(attachment, ctx.media[attachment.id], caption)
    content["m.mentions"] = text.content.get("m.mentions", {})
    return MatrixPart(f"attachment:{attachment.id}", MESSAGE, content)


def _text_content(text: Formatted, msgtype: str = "m.text") -> dict[str, Any]:
    content: dict[str, Any] = {"msgtype": msgtype, "body": text.body}
    if text.html is not None:
        content["format"] = HTML
        content["formatted_body"] = text.html
    return content


def _extras(
    message: MessageSnapshot, ctx: MessageContext, linked: list[AttachmentSnapshot]
) -> list[Formatted]:
    """What follows the content in the text event: embeds, then the poll, then the forward."""
    pieces = render_embeds(message.embeds, message.content, ctx)
    if message.poll is not None:
        pieces.append(render_poll(message.poll, ctx))
    if message.forwarded is not None:
        pieces.append(render_forward(message.forwarded, ctx, linked))
    return pieces


def _text_parts(
    message: MessageSnapshot,
    ctx: MessageContext,
    options: _Options,
    linked: list[AttachmentSnapshot],
) -> list[MatrixPart]:
    """The text of the message: one part, or several when it does not fit in one event."""

    converted: dict[str, Formatted] = {}  # _fit converts the text once to measure it

    def render(source: str) -> Formatted:
        if source not in converted:
            converted[source] = discord_to_matrix(
                source, ctx, author_can_mention_everyone=options.author_can_mention_everyone
            )
        return converted[source]

    extras = _extras(message, ctx, linked)
    sources = _fit(message.content, render) if message.content.strip() else []
    rendered = [render(source) for source in sources]
    whole = join([*rendered[-1:], *extras])
    if whole is not None and content_size(_text_content(whole)) <= MAX_CONTENT_BYTES:
        texts = [*rendered[:-1], whole]
    else:  # the content's last piece and the embeds do not fit together
        texts = [*rendered, *filter(None, [join(extras)])]
        sources += [""] * (len(texts) - len(sources))
    parts = []
    for index, text in enumerate(texts):
        content = _text_content(text)
        content["m.mentions"] = {}
        parts.append(MatrixPart("text" if index == 0 else f"text:{index + 1}", MESSAGE, content))
    _add_mentions(parts, sources, message, ctx, options)
    return parts


def _fit(source: str, render: Callable[[str], Formatted]) -> list[str]:
    """Pieces of the source whose converted content each fits in one event."""
    size = content_size(_text_content(render(source)))
    if size <= MAX_CONTENT_BYTES:
        return [source]
    # Aim below the limit in proportion (HTML grows unevenly), then check every piece.
    budget = max(int(len(source) * MAX_CONTENT_BYTES / size * 0.8), 64)
    pieces = split_source(source, min(budget, len(source) // 2 or 1))
    return [fitted for piece in pieces for fitted in _fit(piece, render)]


def _add_mentions(
    parts: list[MatrixPart],
    sources: list[str],
    message: MessageSnapshot,
    ctx: MessageContext,
    options: _Options,
) -> None:
    """Intentional mentions (``m.mentions``): the users Discord pinged, on the part whose
    text names them (pings without a visible mention, e.g. of a reply's author, go on the
    first part); ``room`` only when @everyone pinged and both config and author allow it."""
    if not parts:
        return
    pinged = {
        m.user_id: ctx.user_mxids[m.user_id]
        for m in message.mentions
        if m.user_id in ctx.user_mxids
    }
    room = (
        message.mention_everyone and ctx.allow_room_mention and options.author_can_mention_everyone
    )
    if not pinged and not room:
        return  # nobody to place: every part keeps the empty m.mentions it has
    placed: set[int] = set()
    room_placed = False
    for part, source in zip(parts, sources, strict=False):
        users = [user for user in mentioned_user_ids(source) if user in pinged]
        _set_mentions(
            part,
            [pinged[u] for u in dict.fromkeys(users)],
            room and bool(_ROOM_MENTION.search(source)),
        )
        placed.update(users)
        room_placed = room_placed or bool(_ROOM_MENTION.search(source))
    leftover = [mxid for user, mxid in pinged.items() if user not in placed]
    _set_mentions(parts[0], leftover, room and not room_placed)


def _set_mentions(part: MatrixPart, user_ids: list[str], room: bool) -> None:
    mentions = part.content.setdefault("m.mentions", {})
    if user_ids:
        mentions["user_ids"] = [*mentions.get("user_ids", []), *user_ids]
    if room:
        mentions["room"] = True


def _with_relations(
    parts: list[MatrixPart], ctx: MessageContext, *, reply: bool
) -> list[MatrixPart]:
    """Reply relation on the first part; in a thread, the thread relation on every part (a
    reply in a thread is a real reply, the others fall back to the thread's latest event)."""
    for index, part in enumerate(parts):
        replied = reply and index == 0 and ctx.reply_to is not None
        relation: dict[str, Any] | None = None
        if ctx.thread is not None:
            target = (
                ctx.reply_to.event_id if replied and ctx.reply_to else ctx.thread.latest_event_id
            )
            relation = {
                "rel_type": "m.thread",
                "event_id": ctx.thread.root_event_id,
                "is_falling_back": not replied,
                "m.in_reply_to": {"event_id": target},
            }
        elif replied and ctx.reply_to is not None:
            relation = {"m.in_reply_to": {"event_id": ctx.reply_to.event_id}}
        if relation is not None:
            part.content["m.relates_to"] = relation
    return parts


# ---- edits and deletion ------------------------------------------------------------------


@dataclass(frozen=True)
class ExistingPart:
    """An event already sent for a message (from the message ↔ event mapping)."""

    part: int
    kind: str
    event_id: str
    event_type: str


@dataclass
class EditPlan:
    """What to do in Matrix for a Discord edit: events to replace, to redact, to send."""

    replace: list[tuple[str, MatrixPart]] = field(default_factory=list)  # (old event id, edit)
    redact: list[str] = field(default_factory=list)
    send: list[MatrixPart] = field(default_factory=list)


def edit_plan(
    new: MessageSnapshot,
    existing: list[ExistingPart],
    ctx: MessageContext,
    *,
    captions: bool = False,
    system_messages: bool = True,
    author_can_mention_everyone: bool = False,
) -> EditPlan:
    """Match the edited message's parts to the sent ones by kind: same kind → an m.replace
    edit (text, notices, captions), gone → redact, new → send. Files and stickers do not
    change on Discord, so their events stay as they are (unless they carry a caption)."""
    parts = convert_message(
        new,
        ctx,
        captions=captions,
        system_messages=system_messages,
        author_can_mention_everyone=author_can_mention_everyone,
    )
    sent = {part.kind: part for part in existing}
    may_caption = captions and len(new.attachments) == 1
    plan = EditPlan()
    for part in parts:
        old = sent.get(part.kind)
        if old is None:
            plan.send.append(part)
        elif old.event_type != part.event_type:  # e.g. a text fallback became a sticker
            plan.redact.append(old.event_id)
            plan.send.append(part)
        elif _editable(part.kind, may_caption):
            plan.replace.append((old.event_id, replacement(part, old.event_id)))
    kinds = {part.kind for part in parts}
    plan.redact.extend(part.event_id for part in existing if part.kind not in kinds)
    return plan


def _editable(kind: str, may_caption: bool) -> bool:
    """Stickers never change; a file only through its caption."""
    if kind.startswith("sticker:"):
        return False
    return may_caption or not kind.startswith("attachment:")


def replacement(part: MatrixPart, event_id: str) -> MatrixPart:
    """An m.replace edit of ``event_id`` with the part's content.

    The thread or reply relation stays with the original event (an edit can hold only the
    replace relation). The outer ``m.mentions`` is empty so that an edit pings nobody again.
    """
    new_content = {k: v for k, v in part.content.items() if k != "m.relates_to"}
    content = dict(new_content)
    content["body"] = f"* {new_content.get('body', '')}"
    if "formatted_body" in new_content:
        content["formatted_body"] = f"* {new_content['formatted_body']}"
    content["m.mentions"] = {}
    content["m.new_content"] = new_content
    content["m.relates_to"] = {"rel_type": "m.replace", "event_id": event_id}
    return MatrixPart(part.kind, part.event_type, content)


def delete_plan(existing: list[ExistingPart]) -> list[str]:
    """Event ids to redact when a Discord message is deleted: all of its parts."""
    return [part.event_id for part in sorted(existing, key=lambda p: p.part)]

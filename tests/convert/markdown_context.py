"""The world the markdown tests' messages refer to."""

from __future__ import annotations

from bridge.convert.d2m.context import ChannelTarget, MessageContext, RoleTarget, UploadedMedia

CTX = MessageContext(
    domain="example.org",
    user_mxids={111: "@discord_111:example.org", 333: "@alice:example.org"},
    user_names={111: "Zoë", 222: "NoGhost", 666: "room"},
    roles={555: RoleTarget("Moderators", 0x3498DB), 556: RoleTarget("Members")},
    channels={
        777: ChannelTarget("general", "!gen:example.org"),
        778: ChannelTarget("rules", "!rules:example.org", "#rules:example.org"),
        779: ChannelTarget("staff"),
    },
    emoji={
        900: UploadedMedia("mxc://example.org/blobcat", "image/png"),
        901: UploadedMedia("mxc://example.org/party", "image/gif"),
    },
)
ROOM_CTX = MessageContext(domain="example.org", allow_room_mention=True)

ZOE_PILL = '<a href="https://matrix.to/#/@discord_111:example.org">Zoë</a>'
BLOBCAT = (
    '<img data-mx-emoticon src="mxc://example.org/blobcat" alt=":blobcat:" title=":blobcat:"'
    ' height="32">'
)

"""The Matrix side: the appservice server, homeserver checks, room helpers."""

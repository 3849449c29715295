"""Portals: the Matrix rooms and spaces that stand for Discord guilds and channels."""

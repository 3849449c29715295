"""An emulator of the Discord HTTP API v10 and gateway v10 that discord.py connects to unchanged.

Layout: ``events`` (the bus every state change goes through), the in-memory store and its
payload serialisers, REST routes, the gateway, a control API to act as Discord users, and
``server`` which assembles them into one aiohttp application.
"""

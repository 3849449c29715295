"""Admin actions: bridging, unbridging, syncing, importing, status. One verb per module.

Each door (bot commands, ``/matrix`` on Discord, the provisioning API) parses its input,
checks the sender's level, calls one of these and renders the result its own way.
"""

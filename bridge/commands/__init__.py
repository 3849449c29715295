"""Bot commands: parsing and rendering (pure) and the Matrix door that runs them.

The same admin actions (``bridge.actions.admin``) are reached through three doors: commands
sent to the bridge bot in Matrix (here), Discord's ``/matrix`` application command
(``bridge.discord.slash``) and the provisioning API (``bridge.web.provisioning``).
"""

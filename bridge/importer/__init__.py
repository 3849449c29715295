"""The one-shot history import: a guild's past, from the Discord API or from exports."""

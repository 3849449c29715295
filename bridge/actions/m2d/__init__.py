"""Matrix → Discord actions."""

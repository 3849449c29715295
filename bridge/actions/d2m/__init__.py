"""Discord → Matrix actions."""

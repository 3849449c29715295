"""Discord → Matrix converters."""

"""Matrix → Discord converters."""

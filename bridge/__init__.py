"""Discord → Matrix migration bridge."""

__version__ = "0.1.0"

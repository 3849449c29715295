"""Pure converters: Discord and Matrix data in, the other side\x27s data (or a plan) out."""

"""Pure converters: Discord and Matrix data in, the other side's data (or a plan) out."""

"""``python -m bridge doctor``: check a setup and explain each problem with its fix."""

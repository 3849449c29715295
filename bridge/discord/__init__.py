"""The Discord side: discord.py client setup, gateway dispatch, payload snapshots."""

"""The sandbox: a Discord API emulator and a local Synapse launcher, for tests and the demo."""

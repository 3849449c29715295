"""Ghosts (puppets) of Discord users and webhook authors."""

from .puppets import Puppets

__all__ = ["Puppets"]

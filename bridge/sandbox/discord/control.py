"""HTTP control API to act as Discord users and admins (to be written: see the sandbox issue)."""

from aiohttp import web


def add_control_routes(app: web.Application, prefix: str = "/_control") -> None:
    """Mount the control API under ``prefix``. Placeholder until the control API lands."""

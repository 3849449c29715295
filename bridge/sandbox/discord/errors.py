"""Discord's JSON errors, raised by the store and the REST routes and rendered by ``server``."""

from __future__ import annotations

from typing import Any


class DiscordError(Exception):
    """An error answered as Discord does: ``{"message", "code"[, "errors"]}`` with an HTTP status."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


# Discord's JSON error codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
UNKNOWN_APPLICATION = (10002, "Unknown Application")
UNKNOWN_CHANNEL = (10003, "Unknown Channel")
UNKNOWN_GUILD = (10004, "Unknown Guild")
UNKNOWN_MEMBER = (10007, "Unknown Member")
UNKNOWN_MESSAGE = (10008, "Unknown Message")
UNKNOWN_ROLE = (10011, "Unknown Role")
UNKNOWN_TOKEN = (10012, "Unknown Token")
UNKNOWN_USER = (10013, "Unknown User")
UNKNOWN_EMOJI = (10014, "Unknown Emoji")
UNKNOWN_WEBHOOK = (10015, "Unknown Webhook")
UNKNOWN_BAN = (10026, "Unknown Ban")
UNKNOWN_INTERACTION = (10062, "Unknown interaction")
UNKNOWN_STICKER = (10060, "Unknown Sticker")


def not_found(what: tuple[int, str]) -> DiscordError:
    return DiscordError(404, what[0], what[1])


def missing_permissions() -> DiscordError:
    return DiscordError(403, 50013, "Missing Permissions")


def missing_access() -> DiscordError:
    return DiscordError(403, 50001, "Missing Access")


def unauthorized() -> DiscordError:
    return DiscordError(401, 0, "401: Unauthorized")


def invalid_form(errors: dict[str, Any]) -> DiscordError:
    """400 Invalid Form Body; ``errors`` maps field → ``{"_errors": [{"code", "message"}]}``."""
    return DiscordError(400, 50035, "Invalid Form Body", errors)


def field_error(field: str, code: str, message: str) -> DiscordError:
    """Invalid Form Body for one field, e.g. ``field_error("content", "BASE_TYPE_MAX_LENGTH", ...)``."""
    return invalid_form({field: {"_errors": [{"code": code, "message": message}]}})


def bad_request(code: int, message: str) -> DiscordError:
    return DiscordError(400, code, message)

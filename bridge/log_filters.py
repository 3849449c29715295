"""Log levels the bridge sets for its libraries, whatever the ``logging`` config says.

- aiohttp's access log (logger ``aiohttp.access``, one line per HTTP request: every
  appservice transaction the homeserver pushes) is logged at INFO by aiohttp. Here its lines
  become DEBUG records, shown only when ``aiohttp.access`` (or ``aiohttp``, or the root) is
  set to DEBUG. mautrix builds the appservice's ``web.AppRunner`` itself, with aiohttp's
  default access logger, so the level is changed on the logger's records rather than by an
  ``access_log_class``.
- discord.py warns "davey is not installed, voice will NOT be supported" when a client is
  made (discord/client.py, ``VoiceClient.warn_dave``). The bridge never joins voice, so
  that one line is dropped; every other discord.py warning (PyNaCl included) is kept.
"""

from __future__ import annotations

import logging

ACCESS_LOGGER = "aiohttp.access"
DISCORD_CLIENT_LOGGER = "discord.client"
#: discord.py 2.7's exact message (discord/client.py, ``Client.__init__``).
DAVEY_WARNING = "davey is not installed, voice will NOT be supported"


class AccessLogAtDebug(logging.Filter):
    """On ``aiohttp.access``: makes each access line a DEBUG record, and drops it unless the
    logger is enabled for DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO:
            record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(record.levelno)


class DropDaveyWarning(logging.Filter):
    """On ``discord.client``: drops the voice warning about the missing ``davey`` package."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != DAVEY_WARNING


def install_log_filters() -> None:
    """Put :class:`AccessLogAtDebug` and :class:`DropDaveyWarning` on their loggers (once).

    Call it after ``logging.config.dictConfig``: loggers keep their filters through it. When
    ``aiohttp.access`` would not show DEBUG, its level becomes WARNING (no line is made).
    """
    for name, kind in (
        (ACCESS_LOGGER, AccessLogAtDebug),
        (DISCORD_CLIENT_LOGGER, DropDaveyWarning),
    ):
        logger = logging.getLogger(name)
        if not any(isinstance(existing, kind) for existing in logger.filters):
            logger.addFilter(kind())
    access = logging.getLogger(ACCESS_LOGGER)
    if access.level == logging.NOTSET and not access.isEnabledFor(logging.DEBUG):
        # Every access line would be dropped: aiohttp then does not make them at all (it asks
        # for INFO), which saves formatting a line per pushed transaction.
        access.setLevel(logging.WARNING)

"""Logging: the config's ``logging`` dictConfig, a JSON formatter, and secrets kept out.

Secrets never reach a log line: :data:`REDACTOR` rewrites every record when it is created
(a log-record factory, so handlers that libraries add later cannot bypass it) and is also a
filter on every handler configured at setup. It removes

- the secrets of the config (``appservice.as_token``/``hs_token``, ``discord.bot_token``,
  ``bridge.provisioning.shared_secret``, the database URL's password) and those learnt at run
  time (Discord webhook tokens: :func:`redact_secret` when the bridge reads or makes one);
- by their shape, whatever the value: webhook and interaction URLs
  (``/webhooks/{id}/{token}``, ``/interactions/{id}/{token}``; Discord API reference,
  "Execute Webhook", "Create Interaction Response"), ``Authorization: Bearer …``/``Bot …``,
  ``access_token=`` query values, ``"token": …`` style JSON/dict keys, URL passwords.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

MASK = "***"
MIN_SECRET_LENGTH = 8  # shorter values (e.g. "" for "off") would mask ordinary words

_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(/(?:webhooks|interactions)/\d+/)[^/\s?'\"&>]+"), r"\1" + MASK),
    (re.compile(r"(\bBearer\s+)[^\s'\",;]+", re.IGNORECASE), r"\1" + MASK),
    (
        re.compile(r"(Authorization['\"]?\s*[:=]\s*['\"]?Bot\s+)[^\s'\",;]+", re.IGNORECASE),
        r"\1" + MASK,
    ),
    (re.compile(r"\b(Bot\s+)[\w-]{16,}\.[\w-]{4,}\.[\w-]{16,}"), r"\1" + MASK),
    (re.compile(r"((?:access_token|secret|password)=)[^&\s'\"]+", re.IGNORECASE), r"\1" + MASK),
    (
        re.compile(
            r"(['\"](?:token|access_token|as_token|hs_token|bot_token|shared_secret|password)"
            r"['\"]\s*:\s*['\"])[^'\"]+",
            re.IGNORECASE,
        ),
        r"\1" + MASK,
    ),
    (re.compile(r"(://[^:/@\s]+:)[^@\s/]+@"), r"\1" + MASK + "@"),
)


class SecretRedactor(logging.Filter):
    """Masks secrets in log records: known values (:meth:`add`) and secret-shaped text.

    As a filter it never drops a record; it rewrites the message (and a traceback's text)
    only when something was masked, so records without secrets keep their ``args``.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._known: re.Pattern[str] | None = None
        self.add(*secrets)

    def add(self, *secrets: str | None) -> None:
        """Mask these values from now on (values shorter than 8 characters are ignored)."""
        fresh = {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH} - self._secrets
        if not fresh:
            return
        with self._lock:
            self._secrets |= fresh
            longest_first = sorted(self._secrets, key=len, reverse=True)
            self._known = re.compile("|".join(re.escape(s) for s in longest_first))

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by ``***``."""
        known = self._known
        if known is not None:
            text = known.sub(MASK, text)
        for pattern, replacement in _SHAPES:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "secrets_masked", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format: logging reports it when the record is emitted
            return True
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        record.secrets_masked = True
        return True


#: The process's redactor: logging is process-wide, and so are the secrets it must mask.
REDACTOR = SecretRedactor()


def redact_secret(*secrets: str | None) -> None:
    """Keep these values (e.g. a webhook token the bridge just learnt) out of every log line."""
    REDACTOR.add(*secrets)


def config_secrets(config: Any) -> list[str]:
    """The secrets a config holds (see the module's docstring); empty values are skipped."""
    secrets = []
    for key in (
        "appservice.as_token",
        "appservice.hs_token",
        "discord.bot_token",
        "bridge.provisioning.shared_secret",
        "bridge.double_puppet.as_token",
    ):
        value = config[key]
        if isinstance(value, str) and value:
            secrets.append(value)
    password = re.search(r"://[^:/@\s]+:([^@\s/]+)@", str(config["appservice.database.url"]))
    if password:
        secrets.append(password.group(1))
    return secrets


def install_redaction(secrets: Iterable[str] = ()) -> SecretRedactor:
    """Mask ``secrets`` (and secret shapes) in every record from now on.

    Wraps the log-record factory once per process (records are masked when made, so any
    handler sees them masked, even one a library adds later) and puts the filter on every
    handler configured so far. Returns :data:`REDACTOR`.
    """
    REDACTOR.add(*secrets)
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "masks_secrets", False):

        def masking_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = factory(*args, **kwargs)
            REDACTOR.filter(record)
            return record

        masking_factory.masks_secrets = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(masking_factory)
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", ()):
            if REDACTOR not in handler.filters:
                handler.addFilter(REDACTOR)
    return REDACTOR


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (ISO 8601, UTC), ``level``, ``logger``,
    ``message``, and ``exception`` (the traceback's text) when there is one.

    Use it from the ``logging`` dictConfig: ``formatters: {json: {"()":
    bridge.logs.JsonFormatter}}``.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)

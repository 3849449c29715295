"""Logs: the JSON formatter, and secrets masked in every shape they take in log lines."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.__main__ import _setup_logging
from bridge.config import load_config
from bridge.logs import JsonFormatter, SecretRedactor, config_secrets, install_redaction

BOT_TOKEN = "MTAxMjM0NTY3ODkwMTIzNDU2.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"
WEBHOOK_TOKEN = "x3Yb-Qw_9ZkLmN0pQrStUvWxYz0123456789abcdefghijklmnopqrstuvwxyzABCD"


@pytest.fixture
def redactor() -> SecretRedactor:
    return SecretRedactor(["the-as-token-of-the-bridge", "short"])


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("sent with the-as-token-of-the-bridge", "the-as-token-of-the-bridge"),
        (
            f"POST https://discord.com/api/v10/webhooks/123456/{WEBHOOK_TOKEN}?wait=true has "
            "returned 200",
            WEBHOOK_TOKEN,
        ),
        (f"POST /interactions/99/{WEBHOOK_TOKEN}/callback", WEBHOOK_TOKEN),
        (f"{{'id': '5', 'token': '{WEBHOOK_TOKEN}', 'name': 'Matrix'}}", WEBHOOK_TOKEN),
        (f'{{"token": "{WEBHOOK_TOKEN}"}}', WEBHOOK_TOKEN),
        ("headers {'Authorization': 'Bearer syt_abc_DEFghi123'}", "syt_abc_DEFghi123"),
        (f"headers {{'Authorization': 'Bot {BOT_TOKEN}'}}", BOT_TOKEN),
        (f"Authorization: Bot {BOT_TOKEN}", BOT_TOKEN),
        ("PUT /_matrix/app/v1/transactions/5?access_token=hs-token-123456 200", "hs-token-123456"),
        ("Connecting to postgresql://bridge:pa55w0rd-x@db:5432/bridge", "pa55w0rd-x"),
    ],
)
def test_each_secret_shape_is_masked(redactor: SecretRedactor, line: str, secret: str) -> None:
    masked = redactor.redact(line)
    assert secret not in masked
    assert "***" in masked


def test_ordinary_text_is_left_alone(redactor: SecretRedactor) -> None:
    line = "Bot Matrix Bridge joined; the shortest answer is short"
    assert redactor.redact(line) == line  # "short" is below the length of a secret


def test_secrets_learnt_later_and_in_arguments_and_tracebacks(redactor: SecretRedactor) -> None:
    redactor.add(WEBHOOK_TOKEN)
    record = logging.LogRecord(
        "aiosqlite",
        logging.DEBUG,
        __file__,
        1,
        "executing %s",
        (("UPDATE", 5, WEBHOOK_TOKEN),),
        None,
    )
    redactor.filter(record)
    assert WEBHOOK_TOKEN not in record.getMessage()
    try:
        raise RuntimeError(f"failed with {WEBHOOK_TOKEN}")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    redactor.filter(record)
    assert WEBHOOK_TOKEN not in logging.Formatter().format(record)


def test_json_formatter_writes_one_object_per_line() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("bridge.test_json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("Relayed %d messages", 3)
        try:
            raise ValueError("bad value")
        except ValueError:
            logger.exception("It failed")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "WARNING" and first["logger"] == "bridge.test_json"
    assert first["message"] == "Relayed 3 messages"
    assert first["time"].endswith("+00:00") and "exception" not in first
    assert second["message"] == "It failed"
    assert "ValueError: bad value" in second["exception"]


@pytest.fixture
def restored_record_factory() -> Iterator[None]:
    factory = logging.getLogRecordFactory()
    yield
    logging.setLogRecordFactory(factory)


def test_the_config_sets_up_json_and_a_rotating_file_and_masks_every_handler(
    tmp_path: Path, restored_record_factory: None
) -> None:
    """The example config's JSON formatter and commented file handler, as a user turns them
    on; a handler a library adds afterwards gets masked records too."""
    config_path = tmp_path / "config.yaml"
    log_file = tmp_path / "bridge.log"
    config_path.write_text(
        "appservice:\n"
        "    as_token: the-as-token-of-the-bridge\n"
        "    hs_token: the-hs-token-of-the-bridge\n"
        f"discord:\n    bot_token: {BOT_TOKEN}\n"
        "bridge:\n    provisioning:\n        shared_secret: the-provisioning-secret\n"
        "logging:\n"
        "    version: 1\n"
        "    formatters:\n"
        "        json:\n"
        "            (): bridge.logs.JsonFormatter\n"
        "    handlers:\n"
        "        file:\n"
        "            class: logging.handlers.RotatingFileHandler\n"
        f"            filename: {log_file}\n"
        "            maxBytes: 10485760\n"
        "            backupCount: 5\n"
        "            formatter: json\n"
        # Named levels: other tests' logging setups may have left these loggers at INFO.
        "    loggers:\n"
        "        discord:\n"
        "            level: DEBUG\n"
        "        mau:\n"
        "            level: DEBUG\n"
        "    root:\n"
        "        level: DEBUG\n"
        "        handlers: [file]\n"
    )
    config = load_config(config_path, environ={})
    assert set(config_secrets(config)) == {
        "the-as-token-of-the-bridge",
        "the-hs-token-of-the-bridge",
        BOT_TOKEN,
        "the-provisioning-secret",
    }
    _setup_logging(config)
    late = io.StringIO()
    late_handler = logging.StreamHandler(late)  # as a library might add, after the setup
    logging.getLogger("discord.http").addHandler(late_handler)
    try:
        logging.getLogger("discord.http").debug(
            "GET /users/@me with %s", {"Authorization": f"Bot {BOT_TOKEN}"}
        )
        logging.getLogger("mau.as").debug(
            "Provisioning secret the-provisioning-secret, tokens %s %s",
            "the-as-token-of-the-bridge",
            "the-hs-token-of-the-bridge",
        )
    finally:
        logging.getLogger("discord.http").removeHandler(late_handler)
        for handler in logging.getLogger().handlers:
            handler.flush()
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert [line["logger"] for line in lines] == ["discord.http", "mau.as"]
    everything = log_file.read_text() + late.getvalue()
    for secret in config_secrets(config):
        assert secret not in everything
    assert "Bot ***" in late.getvalue()


def test_redaction_installs_once(restored_record_factory: None) -> None:
    install_redaction(["first-secret-value"])
    factory = logging.getLogRecordFactory()
    install_redaction(["second-secret-value"])
    assert logging.getLogRecordFactory() is factory
    record = logging.getLogger("x").makeRecord(
        "x",
        logging.INFO,
        __file__,
        1,
        "%s and %s",
        ("first-secret-value", "second-secret-value"),
        None,
    )
    assert record.getMessage() == "*** and ***"

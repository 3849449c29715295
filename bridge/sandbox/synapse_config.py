"""The sandbox Synapse's configuration, as plain dicts (pure: no files, no processes)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

DEFAULT_SERVER_NAME = "sandbox.local"

# Far above anything a test does; Synapse itself manages ~20 events/s here anyway.
_UNLIMITED = {"per_second": 10_000, "burst_count": 100_000}

RATE_LIMITS: dict[str, Any] = {
    "rc_message": _UNLIMITED,
    "rc_registration": _UNLIMITED,
    "rc_registration_token_validity": _UNLIMITED,
    "rc_login": {k: _UNLIMITED for k in ("address", "account", "failed_attempts")},
    "rc_admin_redaction": _UNLIMITED,
    "rc_joins": {"local": _UNLIMITED, "remote": _UNLIMITED},
    "rc_joins_per_room": _UNLIMITED,
    "rc_key_requests": _UNLIMITED,
    "rc_3pid_validation": _UNLIMITED,
    "rc_invites": {k: _UNLIMITED for k in ("per_room", "per_user", "per_issuer")},
    "rc_third_party_invite": _UNLIMITED,
    "rc_media_create": _UNLIMITED,
    "rc_presence": {"per_user": _UNLIMITED},
    "rc_delayed_event_mgmt": _UNLIMITED,
    "rc_room_creation": _UNLIMITED,
    "rc_reports": _UNLIMITED,
    "rc_user_directory": _UNLIMITED,
    "rc_profile": _UNLIMITED,
    "rc_federation": {"window_size": 1000, "sleep_limit": 1000, "reject_limit": 10_000},
}


def homeserver_config(
    data_dir: Path,
    *,
    server_name: str,
    port: int,
    shared_secret: str,
    registrations: Iterable[Path],
) -> dict[str, Any]:
    """homeserver.yaml for a loopback-only Synapse with SQLite and everything in ``data_dir``."""
    d = data_dir
    return {
        "server_name": server_name,
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "pid_file": str(d / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                # `client` alone also serves the admin API and media; `openid` only
                # /_matrix/federation/v1/openid/userinfo (the migration page checks tokens).
                "resources": [{"names": ["client", "openid"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(d / "homeserver.db")}},
        "log_config": str(d / "log.config"),
        "media_store_path": str(d / "media_store"),
        "signing_key_path": str(d / "signing.key"),
        "report_stats": False,
        "enable_metrics": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],  # no federation: nothing outside this machine
        "presence": {"enabled": False},
        "enable_registration": False,
        "bcrypt_rounds": 4,  # password hashing at the default 12 rounds costs ~0.3 s a user
        "registration_shared_secret": shared_secret,
        "app_service_config_files": [str(r) for r in registrations],
        "room_list_publication_rules": [{"action": "allow"}],
        "url_preview_enabled": False,
        **RATE_LIMITS,
    }


def logging_config(log_file: Path, level: str = "WARNING") -> dict[str, Any]:
    """A Python logging dict config writing Synapse's log to ``log_file`` only."""
    return {
        "version": 1,
        "formatters": {
            "precise": {
                "format": "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - "
                "%(request)s - %(message)s"
            }
        },
        "handlers": {
            "file": {
                "class": "logging.FileHandler",
                "formatter": "precise",
                "filename": str(log_file),
                "encoding": "utf8",
            }
        },
        "root": {"level": level, "handlers": ["file"]},
        "disable_existing_loggers": False,
    }

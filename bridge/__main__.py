"""Command line: run the bridge, generate the registration, migrate the database."""

from __future__ import annotations

import argparse
import copy
import logging
import logging.config
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import __version__
from .commands.arguments import date
from .config import Config, ConfigCreated, ConfigError, load_config
from .doctor.arguments import well_known_base
from .interrupt import run_command
from .log_filters import install_log_filters
from .logs import config_secrets, install_redaction


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bridge",
        description="Discord → Matrix migration bridge: a Matrix application service.",
    )
    parser.add_argument(
        "-c", "--config", default="config.yaml", help="config file (default: config.yaml)"
    )
    parser.add_argument(
        "-g",
        "--generate-registration",
        action="store_true",
        help="write the appservice registration (see -r) and store its tokens in the config",
    )
    parser.add_argument(
        "-r",
        "--registration",
        default="registration.yaml",
        help="where -g writes the registration (default: registration.yaml)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    database = commands.add_parser("db", help="database maintenance")
    database_commands = database.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    database_commands.add_parser("upgrade", help="migrate the database to this version's schema")
    demo = commands.add_parser(
        "demo", help="migrate a sample community on this machine (Synapse + Discord emulator)"
    )
    demo.add_argument("--headless", action="store_true", help="play the script and exit")
    demo.add_argument("--dir", type=Path, default=Path(".demo"), help="working folder")
    importing = commands.add_parser(
        "import",
        help="import a guild's whole history (run it instead of the bridge, not beside it)",
    )
    importing.add_argument("--guild", type=int, help="the Discord guild ID (from the API)")
    importing.add_argument(
        "--export",
        type=Path,
        action="append",
        default=[],
        help="a DiscordChatExporter JSON file or folder of them (repeatable), instead of the API",
    )
    importing.add_argument(
        "--channel", type=int, action="append", default=[], help="only this channel (repeatable)"
    )
    importing.add_argument(
        "--since", type=date, help="only messages from this date on (YYYY-MM-DD, UTC)"
    )
    importing.add_argument(
        "--dry-run", action="store_true", help="count what would be imported; change nothing"
    )
    importing.add_argument(
        "--replace-rooms",
        action="store_true",
        help="give channels whose rooms already have live messages a new room (tombstone)",
    )
    doctor = commands.add_parser(
        "doctor", help="check the setup (config, homeserver, delegation, Discord, database)"
    )
    doctor.add_argument(
        "--well-known-url",
        metavar="BASE",
        type=well_known_base,
        help="where to read .well-known/matrix/* (default: https://<homeserver.domain>)",
    )
    return parser


def _plain(value: Any) -> Any:
    """ruamel.yaml's commented maps as plain dicts, for logging.config."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return copy.copy(value)


def _setup_logging(config: Config) -> None:
    settings = _plain(config["logging"])
    # Loggers created before this point (imported modules) must keep working.
    settings.setdefault("disable_existing_loggers", False)
    try:
        logging.config.dictConfig(settings)
    except (ValueError, TypeError, AttributeError, ImportError) as error:
        raise ConfigError(
            Path(config.path), [f"logging: not a usable logging config: {error}"]
        ) from error
    # Tokens and secrets are masked in every record, whatever the handlers (bridge.logs).
    install_redaction(config_secrets(config))
    # Access lines at DEBUG, discord.py's voice warning dropped (bridge.log_filters).
    install_log_filters()


def _generate(config: Config, registration: Path) -> int:
    from .registration import generate_registration, write_double_puppet_registration

    generate_registration(config, registration)
    print(f"Wrote the registration to {registration} and its tokens to {config.path}.")
    double_puppet = write_double_puppet_registration(config, registration.parent)
    if double_puppet is not None:
        print(f"Wrote the double-puppet registration to {double_puppet}: load it too.")
    print("Load it into your homeserver (see the README), then start the bridge.")
    return 0


async def _db_upgrade(config: Config) -> int:
    from .db.migrate import upgrade_database
    from .db.url import resolve_database_url

    url = resolve_database_url(config["appservice.database.url"], config.directory)
    before, after = await upgrade_database(url)
    if before == (after,):
        print(f"The database is already at the current schema ({after}).")
    else:
        print(f"Migrated the database from {', '.join(before) or 'empty'} to {after}.")
    return 0


async def _import(config: Config, args: argparse.Namespace) -> int:
    from .importer.command import ImportRequest, dry_run, run_import

    if args.export:
        from .importer.export_import import run_export_import

        return await run_export_import(config, args.export, dry_run=args.dry_run)
    if args.guild is None:
        print(
            "Error: import needs --guild ID (from the Discord API) or --export PATH",
            file=sys.stderr,
        )
        return 2
    request = ImportRequest(args.guild, args.channel, args.since, args.replace_rooms)
    if args.dry_run:
        return await dry_run(config, request)
    return await run_import(config, request)


async def _run(config: Config) -> int:
    from .app import Bridge

    await Bridge(config).run_until_stopped()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":  # needs no config: it writes its own
        from .sandbox.demo import main as demo_main

        return demo_main([*(["--headless"] if args.headless else []), "--dir", str(args.dir)])
    if args.command == "doctor":  # loads the config itself, to report its problems
        from .doctor.cli import run as doctor_run

        return doctor_run(Path(args.config), args.well_known_url)
    if args.generate_registration:
        require: tuple[str, ...] = ()
    elif args.command == "db":
        require = ()
    else:
        require = ("tokens", "discord")
    try:
        dry_run = args.command == "import" and args.dry_run
        config = load_config(args.config, require=require, save_upgrades=not dry_run)
        _setup_logging(config)
        if args.generate_registration:
            return _generate(config, Path(args.registration))
        # The first Ctrl-C (or SIGTERM) stops any of these cleanly: see bridge.interrupt.
        if args.command == "db":
            return run_command(_db_upgrade(config))
        if args.command == "import":
            return run_command(_import(config, args))
        return run_command(_run(config), sigterm_status=0)
    except (ConfigCreated, ConfigError) as error:
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a failure we can explain: one clear line, no traceback
        if _is_explained(error):
            print(f"Error: {error}", file=sys.stderr)
            return 1
        raise


def _is_explained(error: Exception) -> bool:
    from .db.migrate import DatabaseTooNew, DatabaseUnreachable
    from .discord.client import DiscordStartError
    from .discord.membership import NotInGuild
    from .matrix.checks import HomeserverCheckFailed

    return isinstance(
        error,
        DatabaseTooNew
        | DatabaseUnreachable
        | DiscordStartError
        | HomeserverCheckFailed
        | NotInGuild,
    ) or (isinstance(error, OSError) and error.errno is not None)


if __name__ == "__main__":
    sys.exit(main())

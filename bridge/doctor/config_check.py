"""Doctor check 1: the config file loads and validates (bridge.config.load_config)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..config import ENV_PREFIX, Config, ConfigError, load_config
from .result import CheckResult

LABEL = "config"


def check_config(
    path: Path, environ: Mapping[str, str] | None = None
) -> tuple[CheckResult, Config | None]:
    """Load ``path`` as the bridge would (with the discord and token rules); change nothing.

    Returns the result and the config, or None when it is unusable; one ✗ result lists every
    problem load_config found. A missing file is reported, not created.
    """
    if not path.exists():
        return (
            CheckResult.fail(
                LABEL,
                f"no config file at {path}",
                f"run `python -m bridge -c {path}` once: it writes an example config to edit",
            ),
            None,
        )
    try:
        config = load_config(
            path, require=("tokens", "discord"), environ=environ, save_upgrades=False
        )
    except ConfigError as error:
        problems = "; ".join(error.problems)
        return (
            CheckResult.fail(
                LABEL, f"{path} has {len(error.problems)} problem(s): {problems}", _fix(error)
            ),
            None,
        )
    return CheckResult.ok(LABEL, f"{path} is valid"), config


def _fix(error: ConfigError) -> str:
    """The fix for load_config's problems: the environment variables a problem starts with
    (Config.attribute_to_environment and apply_environment name them), and the file's keys."""
    from_environment = [problem for problem in error.problems if problem.startswith(ENV_PREFIX)]
    variables = sorted({problem.split(":", 1)[0].split("=", 1)[0] for problem in from_environment})
    in_file = len(from_environment) < len(error.problems)
    parts = []
    if variables:
        parts.append(
            f"correct or unset the environment variable{'s' if len(variables) > 1 else ''} "
            f"{', '.join(variables)} (the value is read as YAML; it overrides the file)"
        )
    if in_file:
        parts.append(f"correct those keys in {error.path} (see the comments in the example config)")
    return "; ".join(parts)

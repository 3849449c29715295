"""Reading the packaging files the tests check: the Dockerfile, the README's install commands,
and a clean copy of the checkout to install from.

Shapes: a Dockerfile instruction is ``(KEYWORD, argument text)`` with line continuations
joined; a command is one shell command line as a string.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import venv
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
INSTALL_PREFIX = "/opt/discord-bridge"  # the README's, the Dockerfile's and the unit's venv


def dockerfile_instructions(path: Path = REPO / "Dockerfile") -> list[tuple[str, str]]:
    """Every instruction of the Dockerfile, comments dropped and continuations joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        text = (pending + stripped).strip()
        pending = ""
        keyword, _, argument = text.partition(" ")
        instructions.append((keyword.upper(), " ".join(argument.split())))
    return instructions


def dockerfile_stages(path: Path = REPO / "Dockerfile") -> list[list[tuple[str, str]]]:
    """The instructions split into build stages, each starting with its FROM."""
    stages: list[list[tuple[str, str]]] = []
    for instruction in dockerfile_instructions(path):
        if instruction[0] == "FROM":
            stages.append([])
        stages[-1].append(instruction)
    return stages


def dockerfile_env(stage: list[tuple[str, str]]) -> dict[str, str]:
    """The ENV variables a stage sets (``ENV A=1 B=2`` form), $PATH left unexpanded."""
    env: dict[str, str] = {}
    for keyword, argument in stage:
        if keyword == "ENV":
            for pair in shlex.split(argument):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def run_commands(stage: list[tuple[str, str]]) -> list[str]:
    """The shell commands of a stage's RUN instructions, split at ``&&``."""
    return [
        command.strip()
        for keyword, argument in stage
        if keyword == "RUN"
        for command in argument.split("&&")
    ]


def readme_install_commands(readme: Path = REPO / "README.md") -> list[str]:
    """The commands of the README's code block that installs the package non-editable.

    That is the ``sh`` block with a line starting ``…pip install .`` (not ``sudo …``: the
    systemd notes repeat the commands as root); comments and blank lines dropped.
    Raises AssertionError when the README has no such block, or more than one.
    """
    blocks = re.findall(r"```sh\n(.*?)```", readme.read_text(), flags=re.S)
    found = [block for block in blocks if re.search(r"^\S*pip install \.(\s|$)", block, re.M)]
    assert len(found) == 1, (
        f"expected one ```sh block with `pip install .` in {readme.name}, found {len(found)}"
    )
    commands = [line.split(" #")[0].strip() for line in found[0].splitlines()]
    return [command for command in commands if command and not command.startswith("#")]


def clean_checkout(destination: Path) -> Path:
    """Copy what git would commit from the work tree (tracked and new files, not the ignored
    ones such as .venv or build output, nor deleted ones) to ``destination``."""
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for name in filter(None, listing.split("\0")):
        source = REPO / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


def make_venv(path: Path, *, reuse_site_packages: Sequence[str] = ()) -> Path:
    """A new virtual environment at ``path`` with pip; returns its bin folder.

    ``reuse_site_packages`` are folders appended to its sys.path through a .pth file, so that
    a ``--no-deps`` install finds its dependencies there without downloading them.
    """
    venv.EnvBuilder(with_pip=True).create(path)
    if reuse_site_packages:
        site = next(path.glob("lib/python3*/site-packages"))
        (site / "reused.pth").write_text("".join(f"{folder}\n" for folder in reuse_site_packages))
    return path / "bin"

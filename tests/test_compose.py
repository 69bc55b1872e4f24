"""docker-compose.yml, checked without a Docker engine: no daemon runs here and the `docker
compose` plugin is absent (Debian 12 packages only the retired v1), so the file is interpolated
with a .env that `cuevision admin init-env` writes, then validated against the official
compose-spec JSON schema (vendored by check-jsonschema), then against what this project needs:
health-gated start-up, secrets only from .env, data in named volumes and a scalable worker.
Deliberately broken copies must each fail, so the checks are seen to bite. Where the plugin is
installed, `docker compose config -q` checks the file too.
"""

from __future__ import annotations

import importlib.resources
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import typer.main
import yaml

from cuevision.cli import app
from cuevision.cli.deploy import SECRETS

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
SERVICES = {"api", "worker", "redis", "postgres", "label-studio"}
PUSH_ENV = {  # what `cuevision worker` reads to push as serve does (cli/service.py)
    "CUEVISION_LABELSTUDIO",
    "CUEVISION_LABELSTUDIO_URL",
    "CUEVISION_LABELSTUDIO_TOKEN",
    "CUEVISION_API_URL",
    "CUEVISION_CALLBACK_URL",
}
# compose's interpolation: $$, $NAME, ${NAME}, ${NAME<op>word} with op one of :- - :? ? :+ +
TOKEN = re.compile(
    r"\$(?:(?P<escaped>\$)|(?P<bare>[A-Za-z_]\w*)"
    r"|\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?+])(?P<word>[^}]*))?\})"
)
NO_DEFAULT = {None, ":?", "?"}  # the forms that take a value from .env or fail
SWITCHES = {"LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN"}  # named like secrets, but a true or false


@cache
def schema() -> dict[str, Any]:
    vendor = importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
    loaded: dict[str, Any] = json.loads((vendor / "compose-spec.json").read_text())
    return loaded


def env_file(tmp_path: Path) -> dict[str, str]:
    """The variables of a .env made by the real command, as compose reads them."""
    from typer.testing import CliRunner

    tmp_path.mkdir(exist_ok=True)
    done = CliRunner().invoke(app, ["admin", "init-env", "--path", str(tmp_path / ".env")])
    assert done.exit_code == 0, done.output
    text = (tmp_path / ".env").read_text()
    assert not any(v in done.output for v in _pairs(text).values()), "a secret was printed"
    return _pairs(text)


def _pairs(text: str) -> dict[str, str]:
    lines = (line.partition("=") for line in text.splitlines() if line and line[0] != "#")
    return {name: value for name, _, value in lines}


def _strings(node: Any, where: str = "") -> list[tuple[str, str]]:
    """(path, text) of every string in the file, keys included."""
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in [(where, str(k)), *_strings(v, f"{where}.{k}")]]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _strings(v, f"{where}[{i}]")]
    return [(where, node)] if isinstance(node, str) else []


def _interpolate(node: Any, env: dict[str, str], problems: list[str], where: str = "") -> Any:
    """The file as compose sees it after reading .env; bad syntax and missing values noted."""
    if isinstance(node, dict):
        return {k: _interpolate(v, env, problems, f"{where}.{k}") for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate(v, env, problems, f"{where}[{i}]") for i, v in enumerate(node)]
    if not isinstance(node, str):
        return node

    def value(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name, op, word = match["bare"] or match["name"], match["op"], match["word"] or ""
        given = env.get(name)
        if op in (":-", "-"):
            return given if given or (op == "-" and given is not None) else word
        if op in (":+", "+"):
            return word if given or (op == "+" and given is not None) else ""
        if given is None or (op == ":?" and not given):
            problems.append(f"{where}: ${{{name}}} has no value ({word or 'not in .env'})")
        return given or ""

    rest = TOKEN.sub("", node)
    if "$" in rest:
        problems.append(f"{where}: {node!r} has a '$' that is no variable (write $$ for a '$')")
    return TOKEN.sub(value, node)


def problems(text: str, env: dict[str, str]) -> list[str]:
    """Everything wrong with a compose file, given the variables of its .env; [] if none."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        return [f"not YAML: {error}"]
    if not isinstance(raw, dict):
        return ["not a mapping"]
    found: list[str] = []
    config = _interpolate(raw, env, found)
    validator = jsonschema.validators.validator_for(schema())(
        schema(), format_checker=jsonschema.FormatChecker()
    )
    found += [f"schema: {e.json_path}: {e.message}" for e in validator.iter_errors(config)]
    if found:
        return found
    services: dict[str, dict[str, Any]] = config.get("services", {})
    if set(services) != SERVICES:
        found.append(f"services are {sorted(services)}, not {sorted(SERVICES)}")
    declared = set(config.get("volumes") or {})
    used: set[str] = set()
    for name, service in services.items():
        check = service.get("healthcheck") or {}
        if not check.get("test") or check.get("disable"):
            found.append(f"{name} has no healthcheck")
        needs = service.get("depends_on", {})
        if not isinstance(needs, dict):
            found.append(f"{name}: depends_on is a list; give each `condition: service_healthy`")
        else:
            for other, how in needs.items():
                if (how or {}).get("condition") != "service_healthy":
                    found.append(f"{name} does not wait for {other} to be healthy")
        for volume in service.get("volumes", []):
            source = str(volume.get("source", "")) if isinstance(volume, dict) else volume
            source = source.split(":")[0]
            if source.startswith((".", "/", "~")):
                found.append(f"{name} keeps data in the host folder {source}, not a named volume")
            elif source not in declared:
                found.append(f"{name} mounts the volume {source}, which volumes: does not declare")
            used.add(source)
        if not service.get("volumes"):
            found.append(f"{name} keeps its data in the container, not in a named volume")
    found += [f"volume {v} is declared and never mounted" for v in sorted(declared - used)]
    worker = services.get("worker", {})
    found += [f"worker has {k}: --scale worker=N would clash" for k in ("container_name", "ports")
              if k in worker]  # fmt: skip
    # a worker pushes each session it finishes to Label Studio with the api's settings
    api_env, worker_env = (services.get(n, {}).get("environment") or {} for n in ("api", "worker"))
    found += [f"worker's {k} is not api's: its automatic pushes would differ from serve's"
              for k in sorted(PUSH_ENV) if api_env.get(k) != worker_env.get(k)]  # fmt: skip
    redis_command = " ".join(services.get("redis", {}).get("command") or [])
    if "--appendonly yes" not in redis_command:
        found.append("redis runs without --appendonly yes")
    return found + secret_problems(raw)


def secret_problems(raw: dict[str, Any]) -> list[str]:
    """Secrets only from .env with no default: exactly init-env's names, never a literal."""
    found: list[str] = []
    required: set[str] = set()
    for where, text in _strings(raw):
        for match in TOKEN.finditer(text):
            name = match["bare"] or match["name"]
            if name in SECRETS and match["op"] not in NO_DEFAULT:
                found.append(f"{where}: {name} has a default ({match[0]}); secrets come from .env")
            if match["name"] and match["op"] in (":?", "?"):
                required.add(name)
    for name, service in raw.get("services", {}).items():
        environment = service.get("environment") or {}
        for key, value in environment.items() if isinstance(environment, dict) else ():
            secretive = (
                key not in SWITCHES and re.search(r"PASSWORD|TOKEN|SECRET", key)
            ) or re.search(r"://[^/@]*:[^/@]*@", str(value or ""))
            if secretive and not any(m["name"] in SECRETS for m in TOKEN.finditer(str(value))):
                found.append(f"{name}.environment.{key} is a literal secret; take it from .env")
    if required != set(SECRETS):
        found.append(f"compose requires {sorted(required)}, init-env writes {sorted(SECRETS)}")
    return found


def test_the_compose_file_is_valid_and_complete(tmp_path: Path) -> None:
    assert problems(COMPOSE.read_text(), env_file(tmp_path)) == []


def test_init_env_writes_fresh_secrets_once_and_owner_only(
    tmp_path: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    first, second = env_file(tmp_path / "a"), env_file(tmp_path / "b")
    assert set(first) == set(SECRETS) and len(set(first.values()) | set(second.values())) == 8
    assert all(len(v) >= 32 for v in first.values())
    assert (tmp_path / "a" / ".env").stat().st_mode & 0o777 == 0o600
    before = (tmp_path / "a" / ".env").read_bytes()
    again = run_cli("admin", "init-env", "--path", tmp_path / "a" / ".env", check=False)
    assert again.returncode == 2 and "to rotate them" in again.stderr
    assert "Traceback" not in again.stderr and (tmp_path / "a" / ".env").read_bytes() == before


def test_without_env_nothing_starts() -> None:
    missing = problems(COMPOSE.read_text(), {})
    assert missing and all("has no value" in p for p in missing)
    assert {n for n in SECRETS if any(n in p for p in missing)} == set(SECRETS)


Edit = Callable[[str], str]


def structural(change: Callable[[dict[str, Any]], object]) -> Edit:
    """An edit of the parsed file (anchors expanded), written back as YAML."""

    def edit(text: str) -> str:
        config = yaml.safe_load(text)
        change(config["services"])
        return yaml.safe_dump(config, sort_keys=False)

    return edit


BROKEN: dict[str, tuple[Edit, str]] = {
    "not YAML": (lambda t: t.replace("  api:\n", "  api:\n   x: [\n", 1), "not YAML"),
    "unknown key": (structural(lambda s: s["postgres"].update(restart_policy="always")), "schema"),
    "bad healthcheck": (
        structural(lambda s: s["api"]["healthcheck"].update(intervall="10s")),
        "schema",
    ),
    "no healthcheck": (structural(lambda s: s["redis"].pop("healthcheck")), "redis has no health"),
    "short depends_on": (
        structural(lambda s: s["worker"].update(depends_on=["api", "postgres", "redis"])),
        "depends_on is a list",
    ),
    "started, not healthy": (
        lambda t: t.replace("condition: service_healthy", "condition: service_started", 1),
        "to be healthy",
    ),
    "secret default": (
        lambda t: t.replace("${POSTGRES_PASSWORD:?", "${POSTGRES_PASSWORD:-postgres", 1),
        "has a default",
    ),
    "literal secret": (
        structural(lambda s: s["postgres"]["environment"].update(POSTGRES_PASSWORD="hunter2")),
        "literal secret",
    ),
    "bad variable": (
        lambda t: t.replace("${REDIS_PASSWORD:?", "${REDIS PASSWORD:?", 1),
        "no variable",
    ),
    "undeclared volume": (lambda t: t.replace("  redis-data:\n", "", 1), "does not declare"),
    "host folder": (lambda t: t.replace("- postgres-data:/var", "- ./pg:/var", 1), "host folder"),
    "no volume": (structural(lambda s: s["postgres"].pop("volumes")), "in the container"),
    "worker container_name": (
        structural(lambda s: s["worker"].update(container_name="worker")),
        "--scale",
    ),
    "worker ports": (structural(lambda s: s["worker"].update(ports=["9000:9000"])), "--scale"),
    "worker without Label Studio": (
        structural(
            lambda s: s["worker"].update(
                environment={**s["worker"]["environment"], "CUEVISION_LABELSTUDIO": "false"}
            )
        ),
        "automatic pushes",
    ),
    "redis without appendonly": (
        lambda t: t.replace("--appendonly yes", "--appendonly no", 1),
        "appendonly",
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_copy_fails(case: str, tmp_path: Path) -> None:
    edit, expected = BROKEN[case]
    text = COMPOSE.read_text()
    broken = edit(text)
    assert broken != text, f"the edit {case!r} no longer applies to docker-compose.yml"
    found = problems(broken, env_file(tmp_path))
    assert any(expected in p for p in found), found


def test_the_commands_exist() -> None:
    """The services run commands this version of the CLI has."""
    config = yaml.safe_load(COMPOSE.read_text())["services"]
    assert "serve --runner celery" in " ".join(config["api"]["command"])
    assert config["worker"]["command"] == ["cuevision", "worker"]
    root = typer.main.get_command(app)
    commands = root.commands  # type: ignore[attr-defined]
    assert "worker" in commands and "init-env" in commands["admin"].commands
    assert "--runner" in {o for p in commands["serve"].params for o in p.opts}


def test_env_is_never_committed_nor_built_into_the_image() -> None:
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT)
    assert ignored.returncode == 0, ".gitignore must list .env"
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    assert lines[lines.index("*") + 1 :] and "!.env" not in lines  # everything out, then a few in


def _plugin() -> bool:
    docker = shutil.which("docker")
    found = docker and subprocess.run([docker, "compose", "version"], capture_output=True)
    return bool(found) and found.returncode == 0  # type: ignore[union-attr]


@pytest.mark.skipif(not _plugin(), reason="no docker compose plugin (Debian 12 packages none)")
def test_docker_compose_config_accepts_it(tmp_path: Path) -> None:
    shutil.copy(COMPOSE, tmp_path / "docker-compose.yml")
    env_file(tmp_path)
    done = subprocess.run(
        ["docker", "compose", "config", "-q"], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr

"""The multi-machine shape (docker-compose.yml, Dockerfile), checked without a Docker engine."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from check_jsonschema.builtin_schemas import get_builtin_schema
from jsonschema.validators import validator_for
from pydantic_settings import BaseSettings
from ruamel.yaml import YAML

from api.settings import Settings
from yearwheel.settings import WorkerSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

# Built from the project's Dockerfile: the setting classes each one reads.
BUILT = {"api": Settings, "worker": WorkerSettings, "migrate": Settings}
ONE_SHOT = {"temporal-schema", "temporal-namespace", "migrate"}
HEALTHY = "service_healthy"
DONE = "service_completed_successfully"
EXPECTED_DEPENDS_ON = {
    "temporal-schema": {"postgres": HEALTHY},
    "temporal": {"temporal-schema": DONE},
    "temporal-namespace": {"temporal": HEALTHY},
    "temporal-ui": {"temporal": HEALTHY},
    "migrate": {"postgres": HEALTHY},
    "api": {"migrate": DONE, "temporal-namespace": DONE},
    "worker": {"temporal-namespace": DONE, "api": HEALTHY},
}
# Values for the `${VAR:?...}` secrets when the file is rendered.
SECRETS = {"YEARWHEEL_SERVICE_TOKEN": "t" * 32, "POSTGRES_PASSWORD": "p" * 24}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = YAML(typ="safe", pure=True).load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def depends_on_of(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def env_names(settings_cls: type[BaseSettings]) -> tuple[set[str], set[str]]:
    """(every variable the class reads, the variables it cannot start without)."""
    prefix = settings_cls.model_config.get("env_prefix", "")
    known: set[str] = set()
    required: set[str] = set()
    for name, field in settings_cls.model_fields.items():
        alias = field.validation_alias
        var = (alias if isinstance(alias, str) else f"{prefix}{name}").upper()
        known.add(var)
        if field.is_required():
            required.add(var)
    return known, required


def test_file_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = get_builtin_schema("vendor.compose-spec")
    validator_cls = validator_for(schema)
    validator_cls.check_schema(schema)
    validator = validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)
    errors = [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in validator.iter_errors(compose)
    ]
    assert not errors, "\n".join(errors)


def test_avoids_keys_that_docker_compose_1_29_rejects(compose: dict[str, Any]) -> None:
    assert not {"name", "include"} & set(compose)
    for name, service in compose["services"].items():
        assert "start_interval" not in (service.get("healthcheck") or {}), name
        for dep, spec in (service.get("depends_on") or {}).items():
            assert "required" not in (spec or {}), f"{name} -> {dep}"


def test_every_service_has_an_image_or_a_build(services: dict[str, dict[str, Any]]) -> None:
    assert {"postgres", *EXPECTED_DEPENDS_ON} <= set(services)
    for name, service in services.items():
        assert "image" in service or "build" in service, name


def test_images_are_pinned(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if "build" in service:
            continue
        image = service["image"]
        assert "$" not in image, f"{name}: {image} must not come from a variable"
        repo, _, tag = image.split("@")[0].rpartition(":")
        assert repo and "/" not in tag, f"{name}: {image} has no tag"
        assert tag != "latest" and re.search(r"\d+\.\d+", tag), f"{name}: {image} is not pinned"


def test_the_built_services_are_the_yearwheel_image(services: dict[str, dict[str, Any]]) -> None:
    for name in BUILT:
        build = services[name]["build"]
        if isinstance(build, str):
            build = {"context": build}
        context, dockerfile = build.get("context", "."), build.get("dockerfile", "Dockerfile")
        assert (ROOT / context / dockerfile).resolve() == DOCKERFILE, name


def test_stateful_services_have_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    for name in ("postgres", "temporal", "api"):
        test = (services[name].get("healthcheck") or {}).get("test")
        assert test and test != ["NONE"] and not services[name]["healthcheck"].get("disable"), name
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "/health" in " ".join(services["api"]["healthcheck"]["test"])
    assert "volumes" in services["postgres"], "postgres data must live in a volume"


def test_depends_on_targets_exist_with_the_right_conditions(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        for target, condition in depends_on_of(service).items():
            assert target in services, f"{name} depends on unknown service {target}"
            if target in ONE_SHOT:
                assert condition == DONE, f"{name} -> {target} must wait for completion"
            elif "healthcheck" in services[target]:
                assert condition == HEALTHY, f"{name} -> {target} must wait for health"
    for name, expected in EXPECTED_DEPENDS_ON.items():
        assert depends_on_of(services[name]) == expected, name
    for name in ONE_SHOT:
        assert services[name].get("restart", "no") == "no", name


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}`, enough for these checks."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2) or "", match.group(3) or ""
        if env.get(name):
            return env[name]
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return arg if op == ":-" else ""

    return re.sub(r"\$\{(\w+)(:[-?])?([^}]*)\}", one, value)


def test_api_and_worker_scale_out(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        assert "container_name" not in service, f"{name}: container_name blocks --scale"
    assert "ports" not in services["worker"]
    for port in services["api"].get("ports", []):
        parts = interpolate(str(port), SECRETS).split(":")
        host_port = parts[-2] if len(parts) > 1 else ""
        assert not re.fullmatch(r"\d+", host_port), f"api publishes a fixed host port: {port}"


@pytest.mark.parametrize("service", sorted(BUILT))
def test_environment_fits_the_settings(services: dict[str, dict[str, Any]], service: str) -> None:
    env = environment_of(services[service])
    known, required = env_names(BUILT[service])
    assert required <= set(env), f"{service} lacks {sorted(required - set(env))}"
    unknown = {key for key in env if key.startswith("YEARWHEEL_")} - known
    assert not unknown, f"{service} sets {sorted(unknown)}, which {BUILT[service].__name__} ignores"


def test_secrets_come_from_the_environment(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for key, value in environment_of(service).items():
            if re.search(r"TOKEN|PASSWORD|PWD", key):
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", value), f"{name}.{key} = {value!r}"
            if key == "YEARWHEEL_DATABASE_URL":
                assert value.startswith("postgresql+asyncpg://"), value
                assert "${POSTGRES_PASSWORD:?" in value, value


def test_compose_commands_exist_in_the_cli(services: dict[str, dict[str, Any]]) -> None:
    from typer.main import get_command

    from yearwheel.cli import app

    cli = get_command(app)
    subcommands = getattr(cli, "commands", {})
    for name in BUILT:
        argv = services[name]["command"]
        assert argv[0] in subcommands, f"{name}: `yearwheel {argv[0]}` does not exist"
        options = {opt for param in subcommands[argv[0]].params for opt in param.opts}
        for arg in argv[1:]:
            if arg.startswith("--"):
                assert arg in options, f"{name}: `yearwheel {argv[0]}` has no {arg}"


def shell_script(command: list[str]) -> str:
    """The script a one-shot job runs, as its shell sees it after Compose's interpolation."""
    script = command[0]
    lone = re.findall(r"(?<!\$)\$(?!\$)[{\w(]", script.replace("$$", ""))
    assert not lone, f"unescaped $ (Compose would interpolate it): {lone}"
    return script.replace("$$", "$")


def fake_tools(tmp_path: Path, *names: str, describe_fails: bool = False) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in names:
        body = f'echo "{name} $*" >> "{tmp_path}/calls"\n'
        if describe_fails:
            body += 'case "$*" in *"namespace describe"*) exit 1;; esac\n'
        tool = bin_dir / name
        tool.write_text(f"#!/bin/sh\n{body}exit 0\n")
        tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    return bin_dir


def run_job(
    service: dict[str, Any], bin_dir: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    entrypoint = service["entrypoint"]
    assert entrypoint[0] == "/bin/sh"
    return subprocess.run(
        ["sh", *entrypoint[1:], shell_script(service["command"])],
        env={"PATH": f"{bin_dir}:{os.environ['PATH']}", **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_schema_job_sets_up_both_temporal_databases(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    done = run_job(services["temporal-schema"], fake_tools(tmp_path, "temporal-sql-tool"), {})
    assert done.returncode == 0, done.stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    for db, kind in (("temporal", "temporal"), ("temporal_visibility", "visibility")):
        assert f"temporal-sql-tool --db {db} create" in calls
        assert f"temporal-sql-tool --db {db} setup-schema -v 0.0" in calls
        assert (
            f"temporal-sql-tool --db {db} update-schema -d "
            f"/etc/temporal/schema/postgresql/v12/{kind}/versioned"
        ) in calls


def test_namespace_job_creates_the_namespace_and_search_attributes(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    env = {"NAMESPACE": "default", "RETENTION": "2160h", "SEARCH_ATTRIBUTES": "Committee=Keyword"}
    bin_dir = fake_tools(tmp_path, "temporal", describe_fails=True)
    done = run_job(services["temporal-namespace"], bin_dir, env)
    assert done.returncode == 0, done.stderr
    calls = (tmp_path / "calls").read_text()
    assert "temporal operator namespace create -n default --retention 2160h" in calls
    assert (
        "temporal operator search-attribute create -n default --name Committee --type Keyword"
    ) in calls


def test_dockerfile_runs_yearwheel_as_a_non_root_user() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]
    bases = [line.split()[1] for line in lines if line.upper().startswith("FROM ")]
    assert bases and all(re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", b) for b in bases), bases
    entrypoints = [line for line in lines if line.upper().startswith("ENTRYPOINT")]
    assert entrypoints[-1] == 'ENTRYPOINT ["yearwheel"]', entrypoints
    users = [line.split()[1] for line in lines if line.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"root", "0"}, users
    assert re.search(r"pip install \.(\s|$)", text), "the image must `pip install .` the project"
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "yearwheel" in scripts
    ignored = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    assert ignored and ("*" in ignored or ".venv" in ignored), ".dockerignore must keep .venv out"


def docker_compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip(
            "docker-compose is not installed "
            "(apt-get install --no-install-recommends docker-compose)"
        )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("YEARWHEEL_", "POSTGRES_"))}
    return subprocess.run(
        [binary, "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE), *args],
        env={**clean, **env, "COMPOSE_PROJECT_NAME": "yearwheel-test"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    done = docker_compose("--env-file", str(empty_env_file), "config", "-q", env=SECRETS)
    assert done.returncode == 0, done.stderr


def test_docker_compose_refuses_to_start_without_the_secrets(tmp_path: Path) -> None:
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    for missing in SECRETS:
        env = {k: v for k, v in SECRETS.items() if k != missing}
        done = docker_compose("--env-file", str(empty_env_file), "config", "-q", env=env)
        assert done.returncode != 0 and missing in done.stderr, (missing, done.stderr)

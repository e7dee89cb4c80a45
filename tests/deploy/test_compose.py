"""docker-compose.yml, checked without a Docker engine (issue 13, item 6).

The file must validate against the Compose Specification's JSON schema (the copy check-jsonschema vendors,
a dev dependency), set on the app's services only variables the service reads (Settings' fields with their
prefix and aliases, plus the few variables the code reads from ``os.environ`` itself), with defaults and
deploy/*.env values that Settings accepts, have the profiles the deployment documents, and name only services,
volumes and ports that exist. tests/deploy/test_topology.py runs the same topology without Docker.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import tomllib
from importlib import metadata, resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DEPLOY_DIR = ROOT / "deploy"
APP_IMAGE = "ml-engineer-agent:latest"
PROFILES = {"ray", "postgres", "llm", "mlflow"}  # issue 13 item 6; the api has no profile (starts by default)
APP_PACKAGES = ("core", "agent", "tools", "sandbox", "knowledge")
IMAGE_DEFAULT_PORTS = {"postgres": 5432}  # ports an image listens on without being told
# ${VAR}, ${VAR:-default}, ${VAR-default}; `$${...}` is Compose's escape for a literal `$` (left to the shell)
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")


def load_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def compose_schema() -> dict[str, Any]:
    """The Compose Specification schema (compose-spec/compose-spec schema/compose-spec.json) as vendored by
    check-jsonschema (its builtin_schemas/vendor/compose-spec.json, refreshed with each release)."""
    pytest.importorskip("check_jsonschema")
    text = (
        resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text()
    )
    schema: dict[str, Any] = json.loads(text)
    assert schema.get("title") == "Compose Specification"
    return schema


def schema_errors(data: dict[str, Any]) -> list[str]:
    schema = compose_schema()
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    validator = validator_cls(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]


def settings_env_names() -> set[str]:
    """The environment variables Settings reads: the prefix plus each field's name, or the field's alias."""
    prefix = Settings.model_config.get("env_prefix", "")
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names.add(alias if isinstance(alias, str) else f"{prefix}{name}".upper())
    return names


def code_env_names() -> set[str]:
    """Variables the service's own code reads from the environment directly (``os.environ.get("X")``,
    ``os.environ["X"]``, ``os.getenv("X")``), e.g. RAY_ADDRESS and MLFLOW_TRACKING_URI."""
    names = set()
    for package in APP_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                key: ast.expr | None = None
                if isinstance(node, ast.Call) and node.args:
                    func = ast.unparse(node.func)
                    if func in ("os.environ.get", "os.getenv", "environ.get"):
                        key = node.args[0]
                elif isinstance(node, ast.Subscript) and ast.unparse(node.value) in ("os.environ", "environ"):
                    key = node.slice
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    names.add(key.value)
    return names


def app_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services running this project's image (the API and the Ray nodes)."""
    return {
        name: service
        for name, service in compose["services"].items()
        if service.get("image") == APP_IMAGE or "build" in service
    }


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def resolve(value: str, variables: dict[str, str]) -> str:
    """Compose's interpolation of one value: the variable if set (and non-empty for `:-`), else the default."""
    return INTERPOLATION.sub(lambda m: variables.get(m.group(1)) or (m.group(2) or ""), value)


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings built from exactly these variables, as the container's process would build them."""
    for name in settings_env_names() | code_env_names():
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def service_profiles(service: dict[str, Any]) -> set[str]:
    return set(service.get("profiles") or [])


def hosts_and_ports(value: str) -> list[tuple[str, int | None]]:
    """host[:port] of a URL (scheme://...) or of a bare host:port such as a Ray address."""
    if "://" in value:
        parts = urlsplit(value)
        return [(parts.hostname, parts.port)] if parts.hostname else []
    match = re.fullmatch(r"([A-Za-z][A-Za-z0-9_.-]*):(\d+)", value)
    return [(match.group(1), int(match.group(2)))] if match else []


# --- the schema ---


def test_the_compose_file_validates_against_the_compose_specification() -> None:
    assert schema_errors(load_compose()) == []


def test_the_schema_rejects_a_broken_file() -> None:
    broken = load_compose()
    broken["services"]["mlagent"]["deploy"] = {"resources": {"reservations": {"devices": "all"}}}
    broken["services"]["postgres"]["profile"] = ["postgres"]  # misspelt key
    errors = schema_errors(broken)
    assert len(errors) >= 2, errors


# --- environment variables against the settings ---


def test_the_app_services_set_only_variables_the_service_reads() -> None:
    known = settings_env_names() | code_env_names()
    assert {"MLAGENT_DATABASE_URL", "OPENAI_BASE_URL", "RAY_ADDRESS", "MLFLOW_TRACKING_URI"} <= known
    for name, service in app_services(load_compose()).items():
        unknown = set(environment(service)) - known
        assert not unknown, f"{name} sets variables nothing reads: {sorted(unknown)}"


def test_every_variable_the_app_services_set_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    first_cells = [line.split("|")[1] for line in readme.splitlines() if line.startswith("| `")]
    documented = {name for cell in first_cells for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cell)}
    for name, service in app_services(load_compose()).items():
        missing = set(environment(service)) - documented
        assert not missing, f"{name} sets variables README.md does not explain: {sorted(missing)}"


def test_every_variable_passes_through_under_its_own_name_with_a_default() -> None:
    text = COMPOSE_FILE.read_text()
    used = INTERPOLATION.findall(text)
    assert used
    assert all(default is not None for _, default in used)
    no_default = re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text)
    assert not no_default, f"`docker compose up` with no variables set would warn about: {no_default}"
    for service in app_services(load_compose()).values():
        for key, value in environment(service).items():
            match = INTERPOLATION.fullmatch(value)
            assert match and match.group(1) == key, f"{key}: {value!r}"


def test_the_defaults_are_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    api = load_compose()["services"]["mlagent"]
    env = {key: resolve(value, {}) for key, value in environment(api).items()}
    settings = settings_from(env, monkeypatch)
    assert settings.llm == "offline" and settings.sandbox_backend == "local"
    assert settings.database_url is None  # empty: SQLite in the data volume


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_each_profile_has_an_env_file_that_switches_the_api_over(
    profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    compose = load_compose()
    env_file = DEPLOY_DIR / f"{profile}.env"
    assert env_file.is_file(), f"docker compose --profile {profile} needs {env_file.name}"
    values = read_env_file(env_file)
    interpolated = {name for name, _ in INTERPOLATION.findall(COMPOSE_FILE.read_text())}
    assert set(values) <= interpolated, f"{env_file.name} sets variables the compose file never uses"
    api = compose["services"]["mlagent"]
    env = {key: resolve(value, values) for key, value in environment(api).items()}
    settings = settings_from(env, monkeypatch)
    in_profile = {
        name for name, service in compose["services"].items() if profile in service_profiles(service)
    }
    targets = {host for value in values.values() for host, _ in hosts_and_ports(value)}
    expected: dict[str, Any] = {
        "postgres": lambda: settings.database_url is not None,
        "ray": lambda: settings.sandbox_backend == "ray" and env["RAY_ADDRESS"],
        "llm": lambda: settings.llm == "openai" and settings.openai_base_url,
        "mlflow": lambda: env["MLFLOW_TRACKING_URI"],
    }
    assert expected[profile](), f"{env_file.name} does not switch the API over to the {profile} profile"
    assert targets and targets <= in_profile, (
        f"{env_file.name} points at {targets}, the profile has {in_profile}"
    )


# --- profiles and references ---


def test_the_profiles_are_those_documented_and_the_default_is_the_api() -> None:
    services = load_compose()["services"]
    assert set().union(*(service_profiles(s) for s in services.values())) == PROFILES
    assert {name for name, s in services.items() if not service_profiles(s)} == {"mlagent"}
    readme = (ROOT / "README.md").read_text()
    for profile in PROFILES:
        assert f"--profile {profile}" in readme, f"README.md does not say how to start the {profile} profile"


def test_the_ray_worker_reserves_a_gpu_and_the_sandboxes_keep_their_security_options() -> None:
    services = load_compose()["services"]
    devices = services["ray-worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert any(d.get("driver") == "nvidia" and "gpu" in d.get("capabilities", []) for d in devices)
    for name in ("mlagent", "ray-worker"):  # both run the sandbox
        service = services[name]
        assert "SYS_ADMIN" in service["cap_add"], name
        assert {"seccomp=unconfined", "apparmor=unconfined"} <= set(service["security_opt"]), name
        assert service["cgroup"] == "private", name
    images = {services[name]["image"] for name in ("mlagent", "ray-head", "ray-worker")}
    assert images == {APP_IMAGE}  # one Ray, Python and torch version on every node


def test_services_refer_only_to_services_volumes_and_ports_that_exist() -> None:
    compose = load_compose()
    services = compose["services"]
    declared_volumes = set(compose.get("volumes") or {})
    for name, service in services.items():
        depends = service.get("depends_on") or []
        for target in depends if isinstance(depends, list) else depends.keys():
            assert target in services, f"{name} depends on {target}, which does not exist"
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
            if source and not source.startswith((".", "/", "~")):
                assert source in declared_volumes, f"{name} mounts undeclared volume {source}"
        for target, condition in depends.items() if isinstance(depends, dict) else []:
            if condition.get("condition") == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target} to be healthy: no check"
    # every address: compose's own text (defaults, commands) and the env files' values
    values = [resolve(v, {}) for s in services.values() for v in environment(s).values()]
    values += [v for s in services.values() for v in map(str, s.get("command") or []) for v in v.split()]
    values += [v.removeprefix("--address=") for v in list(values)]
    for env_file in DEPLOY_DIR.glob("*.env"):
        values += list(read_env_file(env_file).values())
    checked = 0
    for value in values:
        for host, port in hosts_and_ports(value):
            if host in ("localhost", "127.0.0.1", "0.0.0.0") or "." in host:
                continue
            assert host in services, f"{value!r} names {host}, which is no service"
            target = services[host]
            image = str(target.get("image", "")).split(":")[0]
            listens = json.dumps(target.get("command") or []) + json.dumps(target.get("ports") or [])
            assert port is None or str(port) in listens or IMAGE_DEFAULT_PORTS.get(image) == port, (
                f"{value!r}: {host} does not listen on {port}"
            )
            checked += 1
    assert checked >= 4  # postgres, ray-head (env and worker), llm, mlflow


# --- the commands and the image ---


def test_the_ray_and_mlflow_commands_parse_with_the_installed_clis() -> None:
    """Every `ray start` and `mlflow server` option in the file is one those CLIs (the versions the app pins,
    which the images run) accept; parsing only, nothing is started."""
    services = load_compose()["services"]
    pytest.importorskip("ray")
    from ray.scripts.scripts import start

    for name in ("ray-head", "ray-worker"):
        command = [str(part) for part in services[name]["command"]]
        assert command[:2] == [".venv/bin/ray", "start"], name
        start.make_context("start", command[2:])
    api_script = str(services["mlagent"]["command"][-1])
    joined = re.search(r"\.venv/bin/ray start ([^|;]*)", api_script)
    assert joined, api_script
    start.make_context("start", shlex.split(joined.group(1).replace("$${RAY_ADDRESS}", "ray-head:6379")))
    from ray.scripts.scripts import healthcheck

    probe = [str(part) for part in services["ray-head"]["healthcheck"]["test"]]
    assert probe[:3] == ["CMD", ".venv/bin/ray", "health-check"]
    healthcheck.make_context("health-check", probe[3:])

    pytest.importorskip("mlflow")
    from mlflow.cli import server

    command = [str(part) for part in services["mlflow"]["command"]]
    assert command[:2] == ["mlflow", "server"]
    server.make_context("server", command[2:])
    assert services["mlflow"]["image"].endswith(f":v{metadata.version('mlflow-skinny')}")  # client = server


def test_the_image_copies_every_package_the_project_installs() -> None:
    include = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = {pattern.rstrip("*") for pattern in include["include"]}
    copied = set(re.findall(r"^COPY\s+(\S+)\s+\./\S+\s*$", (ROOT / "Dockerfile").read_text(), re.MULTILINE))
    missing = sorted(p for p in packages if (ROOT / p).is_dir() and p not in copied)
    assert not missing, (
        f"the Dockerfile does not copy {missing}, so `make setup` in the image cannot install it"
    )

"""The harness's pure helpers, called directly (no sandbox, no Lightning import): construction from configs,
failure descriptions, module discovery."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pydantic import BaseModel

from sandbox import harness


class ModelConfig(BaseModel):
    width: int = 8


class NeedsFields(BaseModel):
    width: int


@dataclasses.dataclass
class DataConfig:
    batch_size: int = 4


class TakesPydantic:
    def __init__(self, config: ModelConfig) -> None:
        self.config = config


class TakesOptionalDataclass:
    def __init__(self, config: DataConfig | None, *, extra: int = 1) -> None:
        self.config = config


class TakesPlainValue:
    def __init__(self, data_dir: str) -> None:
        self.data_dir = data_dir


class TakesConfigWithoutDefaults:
    def __init__(self, config: NeedsFields) -> None:
        self.config = config


def test_instantiate_fills_configs_from_defaults() -> None:
    assert harness.instantiate(TakesPydantic).config.width == 8
    assert harness.instantiate(TakesOptionalDataclass).config == DataConfig()


class HasSmokeProfile(TakesPydantic):
    """What generated projects write: a smoke-size instance next to the production defaults."""

    @classmethod
    def for_smoke_run(cls) -> HasSmokeProfile:
        return cls(ModelConfig(width=2))


def test_instantiate_prefers_the_smoke_profile() -> None:
    assert harness.instantiate(HasSmokeProfile).config.width == 2
    assert harness.instantiate(TakesPydantic).config.width == 8


@pytest.mark.parametrize("cls", [TakesPlainValue, TakesConfigWithoutDefaults])
def test_instantiate_explains_what_is_missing(cls: type) -> None:
    with pytest.raises(harness.HarnessError, match=rf"cannot construct {cls.__name__}: its parameter"):
        harness.instantiate(cls)


def test_missing_package_vs_missing_submodule() -> None:
    with pytest.raises(ImportError) as missing:
        __import__("surely_not_installed_pkg")
    assert harness.describe_failure(missing.value, "/tmp", set()) == (
        "failed",
        "package 'surely_not_installed_pkg' is not installed in the sandbox "
        "(ModuleNotFoundError: No module named 'surely_not_installed_pkg')",
    )
    with pytest.raises(ImportError) as submodule:
        __import__("json.not_a_module")
    _status, message = harness.describe_failure(submodule.value, "/tmp", set())
    assert "not installed" not in message and message.startswith("ModuleNotFoundError")


def test_memory_error_is_oom() -> None:
    assert harness.describe_failure(MemoryError("big"), "/tmp", set())[0] == "oom"


def test_discovery_skips_scripts_and_reports_syntax_errors(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "model.py").write_text("class A:\n    pass\n")
    (tmp_path / "train.py").write_text("print('would train')\n")
    (tmp_path / "bad-name.py").write_text("class B: pass\n")
    names = harness.submitted_module_names(str(tmp_path))
    assert set(names) == {"pkg", "pkg.model", "train"}
    assert harness.defines_classes(names["pkg.model"]) and not harness.defines_classes(names["train"])
    (tmp_path / "broken.py").write_text("class C(:\n")
    with pytest.raises(harness.HarnessError, match=r"SyntaxError in .*broken.py, line 1"):
        harness.defines_classes(str(tmp_path / "broken.py"))


def test_user_traceback_keeps_only_submitted_frames(tmp_path: Path) -> None:
    user_file = tmp_path / "model.py"
    user_file.write_text("def boom():\n    raise KeyError('x')\n")
    namespace: dict[str, object] = {}
    exec(compile(user_file.read_text(), str(user_file), "exec"), namespace)
    try:
        namespace["boom"]()  # type: ignore[operator]
    except KeyError as exc:
        frames = harness.user_traceback(exc, str(tmp_path))
    assert frames == "  File \"model.py\", line 2, in boom\n    raise KeyError('x')"


@pytest.mark.parametrize(
    ("name", "is_test"),
    [("tests.test_smoke", True), ("test_model", True), ("conftest", True), ("pkg.tests", True),
     ("model", False), ("testing_utils", False), ("contest", False)],
)  # fmt: skip
def test_test_modules_are_not_imported(name: str, is_test: bool) -> None:
    assert harness.is_test_module(name) is is_test

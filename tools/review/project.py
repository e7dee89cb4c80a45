"""A reviewed project: indexed Python files plus YAML configs, and the cross-file facts rules ask about.

Settings that decide checklist items often live outside the ``.py`` file holding the ``Trainer`` call: in Hydra
YAML (``configs/trainer/default.yaml``), in ``LightningCLI(trainer_defaults={...})`` literals, or in a class from
another module. This module gathers them into *sites* (places a Trainer is configured) with an ``open`` flag
meaning "more settings may come from somewhere we were not given", so rules can say unknown instead of fail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import libcst as cst

from tools.review.config_names import CONVENTIONAL as CONVENTIONAL_CONFIG_NAMES
from tools.review.config_names import bound_config_names, config_ref
from tools.review.index import MISSING, Call, ClassInfo, FileIndex, FuncInfo, literal

if TYPE_CHECKING:
    import yaml

LIGHTNING = ("lightning.pytorch",)
TORCH = ("torch",)

LM_BASES = {"LightningModule"}
DM_BASES = {"LightningDataModule"}
PYDANTIC_BASES = {"BaseModel", "BaseSettings"}
STEP_METHODS = ("training_step", "validation_step", "test_step", "predict_step")
LOGGER_CLASSES = {
    "WandbLogger",
    "MLFlowLogger",
    "TensorBoardLogger",
    "CSVLogger",
    "CometLogger",
    "NeptuneLogger",
    "AimLogger",
    "ClearMLLogger",
    "DVCLiveLogger",
}


# --------------------------------------------------------------------------------------------- YAML ---
class YMap(dict[Any, Any]):
    """A YAML mapping that remembers the line (1-based) of each key."""

    line: int = 1
    key_lines: dict[Any, int]


@dataclass
class YamlDoc:
    path: str
    data: Any
    error: str | None = None
    global_package: bool = False
    """``# @package _global_``: a Hydra group file (e.g. an experiment) that overrides the primary config."""

    def mappings(self) -> Iterator[YMap]:
        stack = [self.data]
        while stack:
            item = stack.pop()
            if isinstance(item, YMap):
                yield item
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)

    def targets(self) -> Iterator[tuple[str, YMap]]:
        """Every ``_target_`` mapping (Hydra instantiate) as (canonical target, mapping)."""
        from tools.review.index import canonical

        for m in self.mappings():
            target = m.get("_target_", m.get("class_path"))
            if isinstance(target, str):
                yield canonical(target), m


def load_yaml(path: str, text: str) -> YamlDoc:
    """Parse YAML keeping key line numbers; a broken file yields a doc with ``error`` set."""
    import yaml  # here, not at the top: most reviews have no YAML and PyYAML costs ~20 ms of a cold start

    try:
        loader = yaml.SafeLoader(text)
        try:
            docs = []
            while loader.check_node():
                node = loader.get_node()
                if node is not None:
                    docs.append(_convert(loader, node))
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        return YamlDoc(path, None, error=" ".join(str(exc).split()))
    data: Any = docs[0] if len(docs) == 1 else docs
    head = "\n".join(text.splitlines()[:5])
    return YamlDoc(path, data, global_package=bool(re.search(r"#\s*@package\s+_global_", head)))


def _convert(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    import yaml  # already loaded by load_yaml(); a dictionary look-up

    if isinstance(node, yaml.MappingNode):
        result = YMap()
        result.line = node.start_mark.line + 1
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = _convert(loader, key_node)
            if isinstance(key, YMap | list):
                continue
            result[key] = _convert(loader, value_node)
            result.key_lines[key] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(loader, n) for n in node.value]
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError:
        return node.value


# ------------------------------------------------------------------------------------- Trainer sites ---
@dataclass
class Setting:
    """One Trainer/CLI argument found somewhere: its value (literal or MISSING) and where it was found."""

    key: str
    value: Any
    code: str
    where: str
    node: cst.BaseExpression | None = None
    from_missing_config: bool = False


@dataclass
class TrainerSite:
    """A place where a Trainer is configured (a call, CLI defaults or a YAML mapping)."""

    label: str
    path: str
    line: int
    settings: dict[str, Setting]
    open: bool
    call: Call | None = None
    anchor: cst.CSTNode | None = None

    def where(self) -> str:
        return f"{self.path}:{self.line}"


def _dict_literal_settings(node: cst.BaseExpression, ix: FileIndex) -> dict[str, Setting] | None:
    if not isinstance(node, cst.Dict):
        return None
    out: dict[str, Setting] = {}
    for el in node.elements:
        if isinstance(el, cst.DictElement):
            key = literal(el.key)
            if isinstance(key, str):
                out[key] = Setting(
                    key, literal(el.value), ix.code(el.value), f"{ix.path}:{ix.line(el)}", el.value
                )
    return out


# ------------------------------------------------------------------------------------------- project ---
@dataclass
class Project:
    """Everything under review, plus cached cross-file queries."""

    files: list[FileIndex]
    yamls: list[YamlDoc] = field(default_factory=list)
    snippet: bool = False

    # -- basic iteration ----------------------------------------------------------------------------------
    @cached_property
    def calls(self) -> list[Call]:
        return [c for f in self.files for c in f.calls]

    def calls_named(self, short: str | Iterable[str], roots: tuple[str, ...] = ()) -> list[Call]:
        shorts = (short,) if isinstance(short, str) else tuple(short)
        return [c for c in self.calls if c.is_(shorts, roots)]

    @cached_property
    def classes(self) -> list[ClassInfo]:
        return [c for f in self.files for c in f.classes.values()]

    @cached_property
    def _class_by_name(self) -> dict[str, ClassInfo]:
        return {c.name: c for c in self.classes}

    def class_file(self, cls: ClassInfo) -> FileIndex:
        for f in self.files:
            if f.classes.get(cls.name) is cls:
                return f
        return self.files[0]

    def _kinds(self, cls: ClassInfo, seen: frozenset[str] = frozenset()) -> set[str]:
        kinds: set[str] = set()
        for base in cls.bases:
            short = base.rsplit(".", 1)[-1]
            if short in LM_BASES:
                kinds.add("lightning_module")
            elif short in DM_BASES:
                kinds.add("datamodule")
            elif short in PYDANTIC_BASES:
                kinds.add("pydantic")
            elif short in {"Module"} and base.startswith(("torch", "nn")):
                kinds.add("torch_module")
            elif short in {"Dataset", "IterableDataset"}:
                kinds.add("dataset")
            elif short in self._class_by_name and short not in seen:
                kinds |= self._kinds(self._class_by_name[short], seen | {short})
            elif (
                base
                and not base.startswith(("typing", "abc", "enum", "object"))
                and short
                not in {
                    "object",
                    "ABC",
                    "Enum",
                    "NamedTuple",
                    "TypedDict",
                    "Protocol",
                    "Generic",
                    "Exception",
                }
            ):
                kinds.add("unknown_base")
        if any(d.rsplit(".", 1)[-1] == "dataclass" for d in cls.decorators):
            kinds.add("dataclass")
        return kinds

    def kinds(self, cls: ClassInfo) -> set[str]:
        return self._kinds(cls, frozenset({cls.name}))

    @cached_property
    def lightning_modules(self) -> list[ClassInfo]:
        return [c for c in self.classes if "lightning_module" in self.kinds(c)]

    @cached_property
    def datamodules(self) -> list[ClassInfo]:
        return [c for c in self.classes if "datamodule" in self.kinds(c)]

    def method(self, cls: ClassInfo, name: str) -> FuncInfo | None:
        """A method of ``cls`` or of a project base class (None when not found here)."""
        seen: set[str] = set()
        current: ClassInfo | None = cls
        while current is not None and current.name not in seen:
            seen.add(current.name)
            if name in current.methods:
                return current.methods[name]
            nxt = None
            for base in current.bases:
                short = base.rsplit(".", 1)[-1]
                if short in self._class_by_name:
                    nxt = self._class_by_name[short]
                    break
            current = nxt
        return None

    def has_foreign_base(self, cls: ClassInfo) -> bool:
        """Whether part of ``cls`` is defined outside the reviewed files (a base class we were not given)."""
        return "unknown_base" in self.kinds(cls)

    # -- assignments --------------------------------------------------------------------------------------
    def assigned_values(self, name: str, func: FuncInfo | None = None) -> list[cst.BaseExpression]:
        """Values assigned to ``name`` (in ``func`` when given, else anywhere)."""
        return [
            a.value
            for f in self.files
            for a in f.assignments
            if a.target == name and (func is None or a.func is func)
        ]

    # -- training ------------------------------------------------------------------------------------------
    @cached_property
    def trainer_calls(self) -> list[Call]:
        return [c for c in self.calls_named("Trainer", LIGHTNING) if c.raw != "Trainer.from_argparse_args"]

    @cached_property
    def cli_classes(self) -> set[str]:
        """Names of the project's ``LightningCLI`` subclasses (``class MyCLI(LightningCLI)``, transitively).

        A subclass inherits ``seed_everything_default`` and ``trainer_defaults`` handling from the base, so a
        call to it is judged exactly like a call to ``LightningCLI`` (issue 11, class 4).
        """
        names: set[str] = set()
        changed = True
        while changed:
            changed = False
            for cls in self.classes:
                if cls.name in names:
                    continue
                if cls.base_shorts() & (names | {"LightningCLI"}):
                    names.add(cls.name)
                    changed = True
        return names

    @cached_property
    def cli_calls(self) -> list[Call]:
        calls = self.calls_named("LightningCLI", LIGHTNING)
        subclasses = self.cli_classes
        if subclasses:
            calls += [c for c in self.calls if c.short in subclasses and c not in calls]
        return calls

    @cached_property
    def trainer_sites(self) -> list[TrainerSite]:
        sites: list[TrainerSite] = []
        yaml_sites = list(self._yaml_trainer_sites())
        for call in self.trainer_calls:
            ix = call.file
            settings = {
                a.keyword.value: self._setting(ix, a) for a in call.node.args if a.keyword is not None
            }
            is_open = call.has_star_args
            for a in call.node.args:
                if a.star == "**":
                    ref = self.config_ref(ix, ix.code(a.value)) or ""
                    if ref.split(".")[0] == "trainer" and yaml_sites:
                        for site in yaml_sites:
                            for key, setting in site.settings.items():
                                settings.setdefault(key, setting)
                    else:
                        is_open = True
            sites.append(
                TrainerSite(
                    label=call.code(),
                    path=ix.path,
                    line=ix.line(call.node),
                    settings=settings,
                    open=is_open,
                    call=call,
                    anchor=call.node,
                )
            )
        if any(s.call is not None and any(a.star == "**" for a in s.call.node.args) for s in sites):
            yaml_sites = []  # merged into the Trainer call that unpacks them
        for call in self.cli_calls:
            ix = call.file
            arg = call.kw("trainer_defaults")
            cli_settings = _dict_literal_settings(arg.value, ix) if arg is not None else None
            seed = call.kw("seed_everything_default")
            sites.append(
                TrainerSite(
                    label=f"LightningCLI at {ix.path}:{ix.line(call.node)}",
                    path=ix.path,
                    line=ix.line(call.node),
                    settings=cli_settings or {},
                    open=cli_settings is None and not yaml_sites,
                    call=call,
                    anchor=call.node,
                )
            )
            if seed is not None:
                sites[-1].settings["seed_everything"] = Setting(
                    "seed_everything", literal(seed.value), ix.code(seed.value), f"{ix.path}:{ix.line(seed)}"
                )
        for call in self.calls_named(("instantiate", "call"), ("hydra",)):
            first = call.positional(0)
            raw = _raw(first)
            if raw.rsplit(".", 1)[-1] in {"trainer", "trainer_cfg", "trainer_config"}:
                ix = call.file
                sites.append(
                    TrainerSite(
                        label=f"{call.code()} (Hydra config)",
                        path=ix.path,
                        line=ix.line(call.node),
                        settings={
                            a.keyword.value: Setting(
                                a.keyword.value,
                                literal(a.value),
                                ix.code(a.value),
                                f"{ix.path}:{ix.line(a)}",
                                a.value,
                            )
                            for a in call.node.args
                            if a.keyword is not None
                        },
                        open=not yaml_sites,
                        call=call,
                        anchor=call.node,
                    )
                )
        for call in self.calls_named("from_argparse_args"):
            if call.receiver.rsplit(".", 1)[-1] in {"Trainer", "T"}:
                ix = call.file
                sites.append(
                    TrainerSite(
                        call.code(), ix.path, ix.line(call.node), {}, True, call=call, anchor=call.node
                    )
                )
        return sites + yaml_sites

    def _setting(self, ix: FileIndex, arg: cst.Arg) -> Setting:
        """A keyword argument as a Setting; a config reference (``cfg.trainer.x``) takes the YAML value."""
        assert arg.keyword is not None
        key = arg.keyword.value
        value = literal(arg.value)
        code = ix.code(arg.value)
        where = f"{ix.path}:{ix.line(arg)}"
        if value is MISSING:
            ref = self.config_ref(ix, code)
            if ref is not None:
                state, found, yaml_where = self.config_value(ref)
                if state == "given":
                    return Setting(key, found, f"{code} = {found!r}", yaml_where or where, arg.value)
                return Setting(key, MISSING, code, where, arg.value, from_missing_config=True)
        return Setting(key, value, code, where, arg.value)

    def _yaml_trainer_sites(self) -> Iterator[TrainerSite]:
        if self.hydra_primary is not None or any("trainer/" in d.path for d in self.yamls):
            state, docs = self.hydra_group("trainer")
            if state == "selected":
                merged: dict[str, Setting] = {}
                for doc in docs:
                    mapping = doc.data
                    if isinstance(mapping, YMap):
                        merged.update(self._yaml_site(doc, mapping).settings)
                        merged.pop("defaults", None)
                for doc in self.global_overrides:
                    trainer = doc.data.get("trainer") if isinstance(doc.data, YMap) else None
                    if isinstance(trainer, YMap):
                        merged.update(self._yaml_site(doc, trainer).settings)
                last = docs[-1]
                line = last.data.line if isinstance(last.data, YMap) else 1
                yield TrainerSite(f"trainer config {last.path}", last.path, line, merged, open=False)
            return
        for doc in self.yamls:
            seen: set[int] = set()
            for target, mapping in doc.targets():
                if target.rsplit(".", 1)[-1] == "Trainer" and target.startswith("lightning"):
                    seen.add(id(mapping))
                    yield self._yaml_site(doc, mapping)
            if isinstance(doc.data, YMap):
                trainer = doc.data.get("trainer")
                if isinstance(trainer, YMap) and id(trainer) not in seen:
                    yield self._yaml_site(doc, trainer)

    @staticmethod
    def _yaml_site(doc: YamlDoc, mapping: YMap) -> TrainerSite:
        settings = {
            str(k): Setting(str(k), v, f"{k}: {v}", f"{doc.path}:{mapping.key_lines.get(k, mapping.line)}")
            for k, v in mapping.items()
            if k != "_target_"
        }
        return TrainerSite(f"trainer config in {doc.path}", doc.path, mapping.line, settings, open=False)

    def trainer_setting(self, key: str) -> tuple[list[tuple[TrainerSite, Setting]], bool]:
        """All values given to Trainer argument ``key`` and whether some site could set it unseen."""
        found = [(s, s.settings[key]) for s in self.trainer_sites if key in s.settings]
        any_open = any(s.open for s in self.trainer_sites)
        return found, any_open

    @cached_property
    def fit_calls(self) -> list[Call]:
        return [
            c for c in self.calls if c.short == "fit" and c.receiver and not c.receiver.startswith("self")
        ]

    @cached_property
    def backward_calls(self) -> list[Call]:
        """Hand-written ``loss.backward()`` / ``fabric.backward(loss)`` calls inside loops (not LightningModules)."""
        out = []
        for c in self.calls:
            if c.short != "backward" or not c.loops:
                continue
            if c.cls is not None and c.cls in self.lightning_modules:
                continue
            out.append(c)
        return out

    @cached_property
    def fabric_names(self) -> set[str]:
        return {c.target for c in self.calls_named("Fabric", (*LIGHTNING, "lightning.fabric")) if c.target}

    @cached_property
    def uses_fabric(self) -> bool:
        return bool(self.calls_named("Fabric", (*LIGHTNING, "lightning.fabric")))

    @cached_property
    def run_calls(self) -> list[Call]:
        """Calls that launch or configure a training run: Trainer, LightningCLI, ``trainer.fit``, ``backward``."""
        fits = [c for c in self.fit_calls if "trainer" in c.receiver.lower()]
        return self.trainer_calls + self.cli_calls + fits + self.backward_calls

    @property
    def plain_loop(self) -> bool:
        return bool(self.backward_calls)

    @cached_property
    def entry_files(self) -> list[FileIndex]:
        """Files that start training: a Trainer/LightningCLI, ``.fit(``, or a hand-written training loop."""
        files = {c.file.path for c in self.trainer_calls + self.cli_calls + self.backward_calls}
        files |= {c.file.path for c in self.fit_calls if "trainer" in c.receiver.lower()}
        files |= {s.path for s in self.trainer_sites if s.call is not None}
        return [f for f in self.files if f.path in files]

    @property
    def trains(self) -> bool:
        return bool(self.entry_files)

    # -- logging ------------------------------------------------------------------------------------------
    @cached_property
    def log_calls(self) -> list[Call]:
        """Metric logging: ``self.log``/``log_dict`` and experiment-tracker calls of hand-written loops."""
        out = []
        for c in self.calls:
            if (
                c.raw
                in {
                    "self.log",
                    "self.log_dict",
                    "pl_module.log",
                    "pl_module.log_dict",
                    "self.logger.log",
                }
                or c.short in {"add_scalar", "add_scalars", "log_metric", "log_metrics"}
                or (
                    c.short in {"log", "log_dict"}
                    and (
                        c.name.startswith("wandb")
                        or c.receiver in {"run", "wandb_run", "fabric", "self.fabric", "logger"}
                    )
                )
            ):
                out.append(c)
        return out

    @staticmethod
    def _key(node: cst.BaseExpression | None) -> tuple[str | None, bool]:
        """(static key, whether the key is an f-string with a stage placeholder first: ``f"{stage}/loss"``)."""
        value = literal(node)
        if isinstance(value, str):
            return value, False
        if isinstance(node, cst.FormattedString) and node.parts:
            head = node.parts[0]
            if isinstance(head, cst.FormattedStringExpression):
                return None, True
            if isinstance(head, cst.FormattedStringText):
                return head.value + "{}", False
        return None, False

    @cached_property
    def logged_keys(self) -> tuple[list[tuple[str, Call, cst.CSTNode]], bool]:
        """Statically known logged keys as (key, call, node) and whether some key is dynamic.

        f-strings count by their literal head (``f"val/{name}"`` -> ``val/{}``); ``f"{stage}/loss"`` is taken
        to carry its stage and is neither listed nor dynamic. ``metrics = {...}; self.log_dict(metrics)`` is
        followed to the dict literal assigned in the same function. Every f-string key is also a pattern in
        :attr:`logged_patterns`, so a monitor can be matched against keys built at run time.
        """
        keys, dynamic, _ = self._logged
        return keys, dynamic

    @property
    def logged_patterns(self) -> list[tuple[re.Pattern[str], Call]]:
        """Keys built by f-strings, as full-match patterns (``f"{stage}/{name}"`` -> ``.+/.+``), with their call."""
        return self._logged[2]

    def _log_dict_literal(self, call: Call, arg: cst.BaseExpression | None) -> cst.BaseExpression | None:
        """``metrics = {...}; self.log_dict(metrics)``: the dict literal, when it is the name's only binding."""
        if not isinstance(arg, cst.Name) or call.func is None:
            return arg
        values = self.assigned_values(arg.value, call.func)
        grown = any(c.raw in {f"{arg.value}.update", f"{arg.value}.setdefault"} for c in call.func.calls)
        if len(values) == 1 and isinstance(values[0], cst.Dict) and not grown:
            return values[0]
        return arg

    @cached_property
    def _logged(
        self,
    ) -> tuple[list[tuple[str, Call, cst.CSTNode]], bool, list[tuple[re.Pattern[str], Call]]]:
        keys: list[tuple[str, Call, cst.CSTNode]] = []
        patterns: list[tuple[re.Pattern[str], Call]] = []
        dynamic = False

        def add_pattern(node: cst.CSTNode | None, call: Call, prefix: str = "") -> None:
            if isinstance(node, cst.FormattedString):
                patterns.append((re.compile(re.escape(prefix) + fstring_pattern(node)), call))

        for call in self.log_calls:
            single = call.short in {"log", "add_scalar", "log_metric"} and not call.name.startswith("wandb")
            single = single and call.receiver not in {"run", "wandb_run"}
            if single:
                arg = call.positional(0)
                for name in ("name", "key", "tag"):
                    if arg is None and call.kw(name) is not None:
                        arg = call.kw(name).value  # type: ignore[union-attr]
                key, staged = self._key(arg)
                add_pattern(arg, call)
                if key is not None and arg is not None:
                    keys.append((key, call, arg))
                elif not staged:
                    dynamic = True
                continue
            arg = call.positional(0)
            for name in ("dictionary", "metrics", "data", "tag_scalar_dict"):
                if arg is None and call.kw(name) is not None:
                    arg = call.kw(name).value  # type: ignore[union-attr]
            if call.short == "add_scalars":
                arg = call.positional(1)
            arg = self._log_dict_literal(call, arg)
            prefix = call.kw_value("prefix") if call.kw("prefix") is not None else ""
            if isinstance(arg, cst.Dict):
                for el in arg.elements:
                    if not isinstance(el, cst.DictElement):
                        dynamic = True
                        continue
                    key, staged = self._key(el.key)
                    if isinstance(prefix, str):
                        add_pattern(el.key, call, prefix)
                    if key is not None:
                        keys.append((key, call, el.key))
                    elif not staged:
                        dynamic = True
            else:
                dynamic = True
            if call.kw("prefix") is not None:
                if isinstance(prefix, str):
                    keys = [(prefix + k if c is call else k, c, n) for k, c, n in keys]
                else:
                    dynamic = True
        return keys, dynamic, patterns

    # -- misc ---------------------------------------------------------------------------------------------
    def yaml_targets(self, *shorts: str) -> list[tuple[YamlDoc, str, YMap]]:
        return [
            (doc, t, m) for doc in self.yamls for t, m in doc.targets() if t.rsplit(".", 1)[-1] in set(shorts)
        ]

    def yaml_key(self, key: str) -> list[tuple[YamlDoc, Any, int]]:
        """Top-level ``key`` in any YAML config, with its value and line."""
        out = []
        for doc in self.yamls:
            if isinstance(doc.data, YMap) and key in doc.data:
                out.append((doc, doc.data[key], doc.data.key_lines.get(key, 1)))
        return out

    # -- Hydra configs and first-party imports -------------------------------------------------------

    @cached_property
    def given_modules(self) -> set[str]:
        out: set[str] = set()
        for f in self.files:
            out |= _module_names(f.path)
        return out

    @cached_property
    def missing_imports(self) -> dict[tuple[str, str], str]:
        """(file path, local name) -> module for first-party imports whose module was not given."""
        stdlib = _stdlib()
        given = self.given_modules
        out: dict[tuple[str, str], str] = {}
        for f in self.files:
            for local, full in f.aliases.items():
                module = full.lstrip(".")
                root = module.split(".", 1)[0]
                if not full.startswith(".") and (root in stdlib or root in KNOWN_THIRD_PARTY or not root):
                    continue
                candidates = [module, module.rsplit(".", 1)[0] if "." in module else module]
                if any(c in given for c in candidates):
                    continue
                out[(f.path, local)] = full
        return out

    def is_missing(self, file: FileIndex, name: str) -> bool:
        """Whether ``name`` (a dotted expression in ``file``) comes from a first-party module not given."""
        root = name.split(".", 1)[0]
        return (file.path, root) in self.missing_imports

    @cached_property
    def hydra_primary(self) -> YamlDoc | None:
        for doc in self.yamls:
            defaults = doc.data.get("defaults") if isinstance(doc.data, YMap) else None
            if isinstance(defaults, list) and any(isinstance(e, dict) for e in defaults):
                return doc
        return None

    def hydra_group(self, group: str) -> tuple[str, list[YamlDoc]]:
        """('selected', docs) / ('null', []) / ('absent', []) for a Hydra config group."""
        primary = self.hydra_primary

        def find(name: str) -> YamlDoc | None:
            for doc in self.yamls:
                if doc.path.endswith((f"{group}/{name}.yaml", f"{group}/{name}.yml")):
                    return doc
            return None

        def expand(doc: YamlDoc) -> list[YamlDoc]:
            docs: list[YamlDoc] = []
            if isinstance(doc.data, YMap) and isinstance(doc.data.get("defaults"), list):
                for entry in doc.data["defaults"]:
                    if isinstance(entry, str) and entry != "_self_":
                        base = find(entry)
                        if base is not None and base is not doc:
                            docs += expand(base)
            return [*docs, doc]

        if primary is not None:
            for entry in primary.data["defaults"]:
                if isinstance(entry, dict):
                    for key, value in entry.items():
                        if str(key).split("@", 1)[0].lstrip("/").removeprefix("override ") == group:
                            if value is None:
                                return "null", []
                            doc = find(str(value))
                            return ("selected", expand(doc)) if doc is not None else ("absent", [])
            inline = primary.data.get(group)
            if isinstance(inline, YMap):
                return "selected", [YamlDoc(primary.path, inline)]
            return "absent", []
        docs = [d for d in self.yamls if f"{group}/" in d.path or d.path.startswith(f"{group}/")]
        return ("selected", docs) if docs else ("absent", [])

    @cached_property
    def yaml_configured(self) -> bool:
        """Whether ``cfg.x`` refers to YAML (Hydra/OmegaConf imported) rather than a Python config object."""
        return any(f.imports_module("hydra", "omegaconf") for f in self.files) or bool(self.cli_calls)

    def _python_config_value(self, key: str) -> tuple[str, Any, str]:
        last = key.rsplit(".", 1)[-1]
        for cls in self.classes:
            fld = cls.fields.get(last)
            if fld is not None and fld.value is not None:
                value = literal(fld.value)
                if value is MISSING and isinstance(fld.value, cst.Call) and fld.value.args:
                    first = fld.value.args[0]
                    value = literal(first.value) if first.keyword is None else MISSING
                file = self.class_file(cls)
                return "given", value, f"{cls.name}.{last} at {file.path}:{file.line(fld, cls.node)}"
        if any(re.search(r"config|cfg|settings|params", m, re.I) for m in self.missing_imports.values()):
            return "absent", None, ""
        return "given", MISSING, "a Python config object"

    @cached_property
    def global_overrides(self) -> list[YamlDoc]:
        """Group files selected by the primary defaults list that override it globally (Hydra experiments)."""
        primary = self.hydra_primary
        if primary is None:
            return []
        out: list[YamlDoc] = []
        for entry in primary.data["defaults"]:
            if not isinstance(entry, dict):
                continue
            for group, name in entry.items():
                group_name = str(group).split("@", 1)[0].lstrip("/").removeprefix("override ")
                if name is None:
                    continue
                for doc in self.yamls:
                    if doc.global_package and doc.path.endswith(
                        (f"{group_name}/{name}.yaml", f"{group_name}/{name}.yml")
                    ):
                        out.append(doc)
        return out

    def _override(self, first: str, rest: str) -> tuple[Any, str] | None:
        for doc in reversed(self.global_overrides):
            data = doc.data
            if not isinstance(data, YMap) or first not in data:
                continue
            if not rest:
                return data[first], f"{doc.path}:{data.key_lines.get(first, 1)}"
            inner = data[first]
            head = rest.split(".")[0]
            if isinstance(inner, YMap) and head in inner:
                return inner[head], f"{doc.path}:{inner.key_lines.get(head, inner.line)}"
        return None

    def config_value(self, key: str) -> tuple[str, Any, str]:
        """('given'|'absent', value, where) for a dotted config key such as 'seed' or 'trainer.precision'.

        A value that is configured but not a literal is MISSING; a group selected in Hydra's defaults list
        (``logger: wandb``) is reported as its file path.
        """
        if not self.yaml_configured:
            return self._python_config_value(key)
        first, _, rest = key.partition(".")
        override = self._override(first, rest)
        if override is not None:
            return "given", override[0], override[1]
        if first in HYDRA_GROUPS and not rest:
            state, docs = self.hydra_group(first)
            if state == "null":
                return "given", None, f"{first}: null in the Hydra defaults"
            if state == "selected":
                return "given", docs[-1].path, docs[-1].path
            if self.hydra_primary is not None:
                return "given", None, f"{self.hydra_primary.path} selects no {first}"
            return "absent", None, ""
        if first in HYDRA_GROUPS and rest:
            state, docs = self.hydra_group(first)
            if state == "null":
                return "given", None, f"{first}: null"
            for doc in reversed(docs):
                data = doc.data
                if isinstance(data, YMap) and rest.split(".")[0] in data:
                    value = data[rest.split(".")[0]]
                    return "given", value, f"{doc.path}:{data.key_lines.get(rest.split('.')[0], data.line)}"
            return ("given", None, f"{first} config") if docs else ("absent", None, "")
        primary = self.hydra_primary
        docs = [primary] if primary is not None else [d for d in self.yamls if isinstance(d.data, YMap)]
        for doc in docs:
            if isinstance(doc.data, YMap) and first in doc.data:
                return "given", doc.data[first], f"{doc.path}:{doc.data.key_lines.get(first, 1)}"
        return (
            ("given", None, f"{primary.path} has no {first}") if primary is not None else ("absent", None, "")
        )

    @cached_property
    def config_names(self) -> dict[str, frozenset[str]]:
        """File path -> names bound to a Hydra/OmegaConf config there (see :mod:`tools.review.config_names`)."""
        return bound_config_names(self.files)

    def config_ref(self, file: FileIndex, code: str) -> str | None:
        """The config key ``code`` reads (``opts.trainer.precision`` -> 'trainer.precision'), by binding."""
        return config_ref(code, self.config_names.get(file.path, CONVENTIONAL_CONFIG_NAMES))

    @cached_property
    def hydra_mains(self) -> list[FuncInfo]:
        return [
            fn
            for f in self.files
            for fn in f.functions
            if any(
                "hydra" in f.code(d.decorator) or f.code(d.decorator).startswith("main(")
                for d in fn.node.decorators
            )
        ]

    @cached_property
    def has_run(self) -> bool:
        return bool(
            self.trainer_sites or self.fit_calls or self.cli_calls or self.backward_calls or self.hydra_mains
        )

    @cached_property
    def has_data(self) -> bool:
        return bool(
            self.datamodules
            or self.calls_named("DataLoader")
            or any("dataset" in self.kinds(c) for c in self.classes)
        )

    @cached_property
    def has_model(self) -> bool:
        return bool(self.lightning_modules or self.backward_calls)

    def _external(self, kind: str) -> str | None:
        """Evidence that the project's ``kind`` ('model' | 'data') is defined in code/config not given."""
        pattern = (
            r"Data|Dataset|DataModule"
            if kind == "data"
            else r"Model|Module|Net|Classifier|Lit|Segment|Detect"
        )
        for call in self.calls:
            if (
                call.short[:1].isupper()
                and re.search(pattern, call.short)
                and self.is_missing(call.file, call.raw)
            ):
                return f"{call.code(50)} comes from a module that was not given"
            if (
                call.short == "instantiate"
                and kind in call.code().lower()
                and self.hydra_group(kind)[0] == "absent"
            ):
                return f"{call.code(50)}: the {kind} config was not given"
        if kind == "data":
            for cls in self.classes:
                if re.search(pattern, cls.name + " " + " ".join(cls.bases)) and self.has_foreign_base(cls):
                    return f"{cls.name} derives from a class that was not given ({', '.join(cls.bases)})"
        if kind == "model":
            for cls in self.classes:
                if (cls in self.lightning_modules or re.search(pattern, cls.name)) and self.has_foreign_base(
                    cls
                ):
                    return f"{cls.name} derives from a class that was not given ({', '.join(cls.bases)})"
        return None

    @cached_property
    def external_model(self) -> str | None:
        return self._external("model")

    @cached_property
    def external_data(self) -> str | None:
        return self._external("data")

    @cached_property
    def external_run(self) -> str | None:
        """A Trainer built by a factory from a module that was not given (``trainer = build_trainer(cfg)``)."""
        for call in self.calls:
            if (
                "trainer" in call.short.lower()
                and call.short[:1].islower()
                and self.is_missing(call.file, call.raw)
            ):
                return f"{call.code(50)} builds the Trainer in a module that was not given"
        return None

    def run_level(self) -> tuple[Any, str] | None:
        """The status of a Trainer-level item when no run is given (None when a run is given)."""
        if self.external_run:
            return "unknown", self.external_run
        if self.has_run:
            return None
        if self.lightning_modules:
            return "unknown", "a LightningModule without a run: this is decided where the Trainer is built"
        return "not_applicable", "no model or training run in the reviewed code"

    def mentions(self, pattern: str) -> bool:
        rx = re.compile(pattern)
        return any(rx.search(f.source) for f in self.files)


def _raw(node: cst.CSTNode | None) -> str:
    from libcst.helpers import get_full_name_for_node

    return (get_full_name_for_node(node) or "") if node is not None else ""


def fstring_pattern(node: cst.FormattedString) -> str:
    """An f-string as a regex: literal parts escaped, each ``{expr}`` any non-empty text."""
    out = []
    for part in node.parts:
        if isinstance(part, cst.FormattedStringText):
            out.append(re.escape(part.value))
        else:
            out.append(".+")
    return "".join(out)


def raw_name(node: cst.CSTNode | None) -> str:
    """Dotted source name of an expression ('' when it is not a name/attribute/call chain)."""
    return _raw(node)


# ------------------------------------------------------------------------------------ Hydra and imports ---
KNOWN_THIRD_PARTY = {
    "torch",
    "torchvision",
    "torchaudio",
    "torchmetrics",
    "lightning",
    "pytorch_lightning",
    "lightning_fabric",
    "timm",
    "albumentations",
    "segmentation_models_pytorch",
    "smp",
    "hydra",
    "omegaconf",
    "pydantic",
    "pydantic_settings",
    "numpy",
    "np",
    "sklearn",
    "scipy",
    "pandas",
    "PIL",
    "cv2",
    "wandb",
    "mlflow",
    "transformers",
    "datasets",
    "huggingface_hub",
    "tqdm",
    "yaml",
    "matplotlib",
    "seaborn",
    "kornia",
    "monai",
    "onnx",
    "onnxruntime",
    "tensorboard",
    "tensorboardX",
    "rich",
    "typer",
    "click",
    "jsonargparse",
    "lightning_utilities",
    "einops",
    "accelerate",
    "safetensors",
    "pycocotools",
    "skimage",
    "imageio",
    "requests",
    "fsspec",
    "ray",
    "optuna",
    "rootutils",
    "pyrootutils",
    "hydra_zen",
    "comet_ml",
    "neptune",
    "aim",
    "clearml",
    "dvclive",
    "deepspeed",
    "apex",
    "bitsandbytes",
    "peft",
    "open_clip",
    "ultralytics",
    "mmcv",
    "mmdet",
    "detectron2",
    "pl_bolts",
    "torchdata",
    "webdataset",
    "h5py",
    "zarr",
    "lmdb",
    "dotenv",
    "typing_extensions",
    "attr",
    "attrs",
    "tomli",
    "packaging",
    "psutil",
    "GPUtil",
    "pynvml",
    "thop",
    "fvcore",
}
HYDRA_GROUPS = ("trainer", "model", "data", "callbacks", "logger", "paths", "extras", "experiment")


def _stdlib() -> frozenset[str]:
    import sys

    return frozenset(sys.stdlib_module_names)


def _module_names(path: str) -> set[str]:
    """Dotted module names a file can be imported as (every suffix of its path)."""
    p = PurePosixPath(path)
    parts = list(p.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return {".".join(parts[i:]) for i in range(len(parts))}

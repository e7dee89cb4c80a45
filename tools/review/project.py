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
from typing import Any

import libcst as cst
import yaml

from tools.review.index import MISSING, Call, ClassInfo, FileIndex, FuncInfo, literal

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
            target = m.get("_target_")
            if isinstance(target, str):
                yield canonical(target), m


def load_yaml(path: str, text: str) -> YamlDoc:
    """Parse YAML keeping key line numbers; a broken file yields a doc with ``error`` set."""
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
    return YamlDoc(path, data)


def _convert(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
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
    def cli_calls(self) -> list[Call]:
        return self.calls_named("LightningCLI", LIGHTNING)

    @cached_property
    def trainer_sites(self) -> list[TrainerSite]:
        sites: list[TrainerSite] = []
        for call in self.trainer_calls:
            ix = call.file
            settings = {
                a.keyword.value: Setting(
                    a.keyword.value, literal(a.value), ix.code(a.value), f"{ix.path}:{ix.line(a)}", a.value
                )
                for a in call.node.args
                if a.keyword is not None
            }
            sites.append(
                TrainerSite(
                    label=call.code(),
                    path=ix.path,
                    line=ix.line(call.node),
                    settings=settings,
                    open=call.has_star_kwargs or call.has_star_args,
                    call=call,
                    anchor=call.node,
                )
            )
        yaml_sites = list(self._yaml_trainer_sites())
        for call in self.cli_calls:
            ix = call.file
            arg = call.kw("trainer_defaults")
            settings = _dict_literal_settings(arg.value, ix) if arg is not None else None
            seed = call.kw("seed_everything_default")
            sites.append(
                TrainerSite(
                    label=f"LightningCLI at {ix.path}:{ix.line(call.node)}",
                    path=ix.path,
                    line=ix.line(call.node),
                    settings=settings or {},
                    open=settings is None and not yaml_sites,
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

    def _yaml_trainer_sites(self) -> Iterator[TrainerSite]:
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
        """Hand-written ``loss.backward()`` calls inside loops (Fabric's ``fabric.backward`` excluded)."""
        out = []
        for c in self.calls:
            if c.short != "backward" or not c.loops:
                continue
            if "fabric" in c.receiver.lower() or c.receiver in self.fabric_names:
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
        return [
            c
            for c in self.calls
            if c.raw in {"self.log", "self.log_dict", "pl_module.log", "self.logger.log"}
        ]

    @cached_property
    def logged_keys(self) -> tuple[list[tuple[str, Call, cst.CSTNode]], bool]:
        """Statically known logged keys as (key, call, string node) and whether some key is dynamic."""
        keys: list[tuple[str, Call, cst.CSTNode]] = []
        dynamic = False
        for call in self.log_calls:
            if call.short == "log":
                arg = call.positional(0) or (call.kw("name").value if call.kw("name") else None)
                value = literal(arg)
                if isinstance(value, str) and arg is not None:
                    keys.append((value, call, arg))
                else:
                    dynamic = True
            else:
                arg = call.positional(0) or (call.kw("dictionary").value if call.kw("dictionary") else None)
                if isinstance(arg, cst.Dict):
                    for el in arg.elements:
                        key = literal(el.key) if isinstance(el, cst.DictElement) else MISSING
                        if isinstance(key, str) and isinstance(el, cst.DictElement):
                            keys.append((key, call, el.key))
                        else:
                            dynamic = True
                else:
                    dynamic = True
                prefix = call.kw_value("prefix")
                if call.kw("prefix") is not None:
                    if isinstance(prefix, str):
                        keys = [(prefix + k if c is call else k, c, n) for k, c, n in keys]
                    else:
                        dynamic = True
        return keys, dynamic

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

    def mentions(self, pattern: str) -> bool:
        rx = re.compile(pattern)
        return any(rx.search(f.source) for f in self.files)


def _raw(node: cst.CSTNode | None) -> str:
    from libcst.helpers import get_full_name_for_node

    return (get_full_name_for_node(node) or "") if node is not None else ""


def raw_name(node: cst.CSTNode | None) -> str:
    """Dotted source name of an expression ('' when it is not a name/attribute/call chain)."""
    return _raw(node)

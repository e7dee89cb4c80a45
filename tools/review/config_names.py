"""Which names hold a Hydra/OmegaConf config, found by what they are bound to (issue 11, class 9).

A config reference is recognised by binding, not by spelling: the first parameter of a ``@hydra.main``
function, a parameter annotated ``DictConfig``/``ListConfig``, a name assigned from ``OmegaConf.load/create/
merge/structured``, Hydra's ``compose(...)`` or a config class's file loader (``X.from_yaml(path)``), and (one hop) the parameter of a project function that such a
name is passed to. The conventional spellings (``cfg``, ``config``, ``conf``, ``hydra_cfg``) stay recognised for
pasted fragments that show no binding at all.
"""

from __future__ import annotations

import re
from functools import lru_cache

import libcst as cst

from tools.review.index import FileIndex, FuncInfo

CONVENTIONAL = frozenset({"cfg", "config", "conf", "hydra_cfg"})
_LOADERS = {"load", "create", "merge", "structured", "compose", "unsafe_merge"}
#: Methods that read a config object from a file or mapping (``ExperimentConfig.from_yaml(path)``).
_FILE_LOADERS = {
    "from_yaml",
    "from_file",
    "from_json",
    "from_toml",
    "load_yaml",
    "parse_file",
    "parse_raw",
    "model_validate",
    "model_validate_json",
}
_CONFIG_TYPES = {"DictConfig", "ListConfig"}


def _callee(node: cst.BaseExpression) -> str:
    from libcst.helpers import get_full_name_for_node

    return get_full_name_for_node(node) or ""


def _is_hydra_main(file: FileIndex, fn: FuncInfo) -> bool:
    return any(
        "hydra" in file.code(d.decorator) or file.code(d.decorator).startswith("main(")
        for d in fn.node.decorators
    )


def bound_config_names(files: list[FileIndex]) -> dict[str, frozenset[str]]:
    """File path -> names bound to a config in that file (always including the conventional spellings)."""
    names: dict[str, set[str]] = {f.path: set(CONVENTIONAL) for f in files}
    for f in files:
        own = names[f.path]
        for fn in f.functions:
            params = fn.node.params.params
            if params and _is_hydra_main(f, fn):
                own.add(params[0].name.value)
            for p in params:
                ann = p.annotation
                if ann is not None and _callee(ann.annotation).rsplit(".", 1)[-1] in _CONFIG_TYPES:
                    own.add(p.name.value)
        for a in f.assignments:
            if "." in a.target or not isinstance(a.value, cst.Call):
                continue
            callee = _callee(a.value.func)
            short = callee.rsplit(".", 1)[-1]
            if (
                short in _LOADERS and ("OmegaConf" in callee or short == "compose")
            ) or short in _FILE_LOADERS:
                own.add(a.target)
    # One hop: a config passed to a project function binds that function's parameter.
    functions: dict[str, list[tuple[FileIndex, FuncInfo]]] = {}
    for f in files:
        for fn in f.functions:
            functions.setdefault(fn.name, []).append((f, fn))
    for f in files:
        for call in f.calls:
            targets = functions.get(call.short)
            if not targets:
                continue
            for i, arg in enumerate(call.node.args):
                if not isinstance(arg.value, cst.Name) or arg.value.value not in names[f.path]:
                    continue
                for tf, fn in targets:
                    params = [p for p in fn.node.params.params if p.name.value not in {"self", "cls"}]
                    if arg.keyword is not None:
                        names[tf.path].add(arg.keyword.value)
                    elif arg.star == "" and i < len(params):
                        names[tf.path].add(params[i].name.value)
    return {path: frozenset(v) for path, v in names.items()}


@lru_cache(maxsize=256)
def _pattern(names: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})\b((?:\.get\(\s*[\"']\w+[\"'][^)]*\)|\[[\"']\w+[\"']\]|\.\w+)+)")


def config_ref(code: str, names: frozenset[str] = CONVENTIONAL) -> str | None:
    """``cfg.trainer.gradient_clip_val`` / ``cfg.get("seed")`` / ``cfg["seed"]`` -> 'trainer.gradient_clip_val'."""
    m = _pattern(names).search(code)
    if not m:
        return None
    parts = re.findall(r"\.get\(\s*[\"'](\w+)[\"']|\[[\"'](\w+)[\"']\]|\.(\w+)", m.group(1))
    keys = [a or b or c for a, b, c in parts]
    return ".".join(keys) or None

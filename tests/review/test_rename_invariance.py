"""Verdicts depend on what names are bound to, never on how they are spelled (issue 11, class 9).

Every corpus case is reviewed again after a behaviour-preserving rename (LibCST, scope-blind but consistent
across the case's files): config variables (``cfg``/``config``/``conf``/``hydra_cfg`` -> ``opts``) and
project classes (``MNISTLitModule`` -> ``Zq3``). Each checklist status must stay what it was.
"""

from __future__ import annotations

import re

import libcst as cst

from tests.review.test_corpus import CASES, bench

CONFIG_RENAMES = {"cfg": "opts", "config": "opts", "conf": "opts", "hydra_cfg": "opts"}


class _Renamer(cst.CSTTransformer):
    """Renames bare names (variables, parameters, classes, imported names); never attributes or keywords."""

    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        if original_node.keyword is not None:  # keyword names are the callee's API, not our binding
            return updated_node.with_changes(keyword=original_node.keyword)
        return updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.Attribute:
        return updated_node.with_changes(attr=original_node.attr)

    def leave_ImportAlias(
        self, original_node: cst.ImportAlias, updated_node: cst.ImportAlias
    ) -> cst.ImportAlias:
        if isinstance(original_node.name, cst.Attribute):  # import a.b.c: module paths stay
            return updated_node.with_changes(name=original_node.name)
        return updated_node

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        new = self.mapping.get(original_node.value)
        return updated_node.with_changes(value=new) if new else updated_node


def _rename(files: dict[str, str], mapping: dict[str, str]) -> dict[str, str]:
    out = {}
    for path, text in files.items():
        if path.endswith(".py"):
            out[path] = cst.parse_module(text).visit(_Renamer(mapping)).code
        else:
            out[path] = text
    return out


def _class_renames(files: dict[str, str]) -> dict[str, str]:
    """Project classes not named in YAML (``_target_`` paths must keep resolving) -> neutral names."""
    yaml_text = "\n".join(t for p, t in files.items() if not p.endswith(".py"))
    names: list[str] = []
    for path, text in files.items():
        if path.endswith(".py"):
            names += re.findall(r"^\s*class\s+(\w+)", text, re.M)
    keep = {n for n in names if re.search(rf"\b{n}\b", yaml_text)}
    return {n: f"Zq{i}" for i, n in enumerate(sorted(set(names) - keep))}


def _statuses(files: dict[str, str]) -> dict[str, str]:
    case = bench.Case("renamed", "", files, dict.fromkeys(bench.CHECKLIST_IDS, "pass"), {})
    report = bench.review_case(case)
    return {i["id"]: i["status"] for i in report["checklist"]}


def test_verdicts_survive_renaming_config_variables_and_classes() -> None:
    """One combined rename per case (config variables and project classes) keeps the suite's time down."""
    changed: list[str] = []
    renamed_cases = 0
    for case in CASES:
        mapping = {**CONFIG_RENAMES, **_class_renames(case.files)}
        files = _rename(case.files, mapping)
        if files == case.files:
            continue
        renamed_cases += 1
        before, after = _statuses(case.files), _statuses(files)
        for item in bench.CHECKLIST_IDS:
            if before[item] != after[item]:
                changed.append(f"{case.name}: {item} {before[item]} -> {after[item]} (renamed {mapping})")
    assert renamed_cases >= 40, f"only {renamed_cases} cases touched by the rename"
    assert changed == [], "\n".join(changed)

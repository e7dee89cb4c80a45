"""Helpers shared by the structure rules: the structure of a LightningModule and its entry point."""

from __future__ import annotations

from tools.review.index import ClassInfo, FuncInfo
from tools.review.project import Project

LM = "import lightning as L\n"


def file_of(project: Project, func: FuncInfo):  # type: ignore[no-untyped-def]
    return next(f for f in project.files if func in f.functions)


def local_lms(project: Project) -> list[ClassInfo]:
    """LightningModules whose whole definition is in the reviewed code (no foreign base class)."""
    return [c for c in project.lightning_modules if not project.has_foreign_base(c)]


HEAVY = {
    "torch.hub.load",
    "torch.load",
    "urllib.request.urlretrieve",
    "requests.get",
    "wget.download",
    "torch.hub.download_url_to_file",
    "torch.hub.load_state_dict_from_url",
    "gdown.download",
}


METRIC_ROOTS = ("torchmetrics",)

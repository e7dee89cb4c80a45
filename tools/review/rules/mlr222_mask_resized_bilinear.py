"""MLR222: segmentation masks are resized with nearest-neighbour interpolation."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule

_MASK = re.compile(r"mask|label|target|seg|annotation", re.I)
_RESIZES = {"Resize", "RandomResize", "RandomResizedCrop", "RandomShortestSize", "ScaleJitter"}


class MaskResizedBilinear(Rule):
    """A transform meant for masks resizes them with the default (bilinear) interpolation.

    Bilinear interpolation of a class-index mask invents class ids at object borders (between 3 and 7 lies 5)
    and blurs ignore labels: the model is trained or scored against labels that do not exist. Resize masks
    with ``interpolation=InterpolationMode.NEAREST`` (or wrap them in ``tv_tensors.Mask``, which v2 resizes
    with nearest automatically, inside the joint transform).
    """

    code = "MLR222"
    name = "mask-resized-bilinear"
    checklist = "augmentations"
    severity = "error"
    message = "Mask transform resizes with bilinear interpolation"
    suggestion = (
        "Use interpolation=InterpolationMode.NEAREST for masks (or tv_tensors.Mask in a joint v2 transform)."
    )
    VALID = [
        "from torchvision.transforms import v2, InterpolationMode\n"
        "mask_tf = v2.Resize((512, 512), interpolation=InterpolationMode.NEAREST)\n"
    ]
    INVALID = ["from torchvision.transforms import v2\nself_mask_tf = v2.Resize((512, 512))\n"]

    def check(self, project: Project) -> Iterable[Hit]:
        for call in project.calls:
            if call.short not in _RESIZES or not call.target or call.kw("interpolation") is not None:
                continue
            if call.positional(1) is not None and call.short == "Resize":
                continue  # interpolation passed positionally
            if _MASK.search(call.target.rsplit(".", 1)[-1]):
                yield self.at(
                    call.file, call.node, f"{call.target} = {call.code(50)} resizes masks bilinearly"
                )

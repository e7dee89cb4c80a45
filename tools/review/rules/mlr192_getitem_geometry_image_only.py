"""MLR192: a hand-written ``__getitem__`` moves the image but not its mask."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from tools.review.project import Project, raw_name
from tools.review.rules.base import Hit, Rule
from tools.review.walk import find_all

#: Calls that read an image-like array from storage: two of them in one ``__getitem__`` are an image and its
#: dense target (mask, depth, label map), whatever the variables are called.
_LOADERS = {"open", "imread", "read_image", "decode_image", "load", "imread_collection"}
#: Functional geometric operations (torchvision.transforms.functional, numpy, torch, cv2): each one changes
#: pixel positions, so a dense target must go through the same operation with the same parameters.
_GEOMETRIC = {
    "hflip",
    "vflip",
    "rotate",
    "affine",
    "perspective",
    "resized_crop",
    "crop",
    "center_crop",
    "flip",
    "fliplr",
    "flipud",
    "rot90",
    "elastic_transform",
}
_DS = (
    "import random\nimport torchvision.transforms.functional as TF\nfrom PIL import Image\n"
    "from torch.utils.data import Dataset\n\n\nclass Seg(Dataset):\n    def __getitem__(self, i):\n"
    "        img = Image.open(self.images[i])\n        mask = Image.open(self.masks[i])\n"
    "        if random.random() < 0.5:\n"
)


class GetitemGeometryImageOnly(Rule):
    """A hand-written ``Dataset.__getitem__`` flips/rotates/crops the image but not its mask.

    The image and its dense target (segmentation mask, depth map) are read side by side; a random
    ``TF.hflip(img)`` or ``TF.rotate(img, angle)`` that the mask does not get moves every object away from its
    label: the model learns from misaligned targets and segmentation quality collapses without any error.
    Apply every geometric operation to both, with the same sampled parameters (or use a joint transform:
    albumentations with ``mask=``, ``transforms.v2`` with ``tv_tensors.Mask``).
    """

    code = "MLR192"
    name = "getitem-geometry-image-only"
    checklist = "augmentations"
    severity = "error"
    message = "Geometric augmentation applied to the image but not to its mask"
    suggestion = (
        "Apply the same flip/rotation/crop (same sampled parameters) to the mask, or use a joint transform."
    )
    VALID = [
        _DS + "            img, mask = TF.hflip(img), TF.hflip(mask)\n        return img, mask\n",
        _DS + "            angle = random.uniform(-10, 10)\n            img = TF.rotate(img, angle)\n"
        "            mask = TF.rotate(mask, angle)\n        return img, mask\n",
    ]
    INVALID = [
        _DS + "            img = TF.hflip(img)\n        return img, mask\n",
        _DS + "            img = TF.rotate(img, random.uniform(-20, 20))\n        return img, mask\n",
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for f in project.files:
            for cls in f.classes.values():
                getitem = cls.methods.get("__getitem__")
                if getitem is None:
                    continue
                loaded = [
                    a.target
                    for a in f.assignments
                    if a.func is getitem
                    and "." not in a.target
                    and any(
                        raw_name(c.func).rsplit(".", 1)[-1] in _LOADERS for c in find_all(a.value, cst.Call)
                    )
                ]
                names = list(dict.fromkeys(loaded))
                if len(names) < 2:
                    continue
                applied: dict[str, set[str]] = {}
                sites: dict[tuple[str, str], cst.Call] = {}
                for call in getitem.calls:
                    if call.short not in _GEOMETRIC:
                        continue
                    first = call.positional(0)
                    if isinstance(first, cst.Name) and first.value in names:
                        applied.setdefault(call.short, set()).add(first.value)
                        sites.setdefault((call.short, first.value), call.node)
                for op, targets in applied.items():
                    untouched = [n for n in names if n not in targets]
                    if untouched and len(targets) < len(names):
                        moved = sorted(targets)[0]
                        yield self.at(
                            f,
                            sites[(op, moved)],
                            f"{cls.name}.__getitem__ applies {op} to {moved} but not to {', '.join(untouched)}",
                        )

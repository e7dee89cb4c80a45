"""MLR223: horizontal flips of keypoints swap the left/right keypoints."""

from __future__ import annotations

import re
from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule

_KEYPOINTS = re.compile(r"KeyPoints|keypointrcnn|keypoints", re.I)
_SWAP = re.compile(
    r"flip_(index|idx|pairs|perm|map)|FLIP_(INDEX|IDX|PAIRS|PERM|MAP)|swap|left_right|lr_pairs", re.I
)


class KeypointFlipWithoutSwap(Rule):
    """Keypoints are flipped horizontally without swapping left and right keypoints.

    A horizontal flip moves the left wrist to where the right wrist was, but the annotation still calls it
    "left wrist": the model learns that left and right are interchangeable. After flipping keypoints, permute
    them with the dataset's flip index (COCO: ``[0, 2, 1, 4, 3, ...]``).
    """

    code = "MLR223"
    name = "keypoint-flip-without-swap"
    checklist = "augmentations"
    severity = "error"
    message = "Keypoints flipped without swapping left/right"
    suggestion = (
        "After a horizontal flip, reorder keypoints with the left/right flip index (e.g. COCO_FLIP_INDEX)."
    )
    VALID = [
        "from torchvision.transforms import v2\nflip = v2.RandomHorizontalFlip()\n"
        "FLIP_INDEX = [0, 2, 1, 4, 3]\nimg, target = flip(img, target)\n"
        "target['keypoints'] = target['keypoints'][:, FLIP_INDEX]\nkeypoints = True\n"
    ]
    INVALID = [
        "from torchvision.transforms import v2\nfrom torchvision import tv_tensors\nflip = v2.RandomHorizontalFlip()\n"
        "kp = tv_tensors.KeyPoints(pts, canvas_size=(64, 64))\nimg, target = flip(img, {'keypoints': kp})\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        if not project.mentions(_KEYPOINTS.pattern) or project.mentions(_SWAP.pattern):
            return
        for call in project.calls:
            if call.short in {"RandomHorizontalFlip", "HorizontalFlip", "hflip"}:
                yield self.at(
                    call.file, call.node, f"{call.code(50)} flips keypoints without a left/right swap"
                )
                return

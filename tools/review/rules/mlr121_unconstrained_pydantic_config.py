"""MLR121: unconstrained pydantic config."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.mlr003_config_without_validation import config_like, constrained, pydantic_configs

_NUMERIC = {"int", "float", "PositiveInt", "PositiveFloat"}


class UnconstrainedPydanticConfig(Rule):
    """A Pydantic config declares numeric hyperparameters with plain types and no constraints.

    ``lr: float`` accepts ``-1`` and ``1e9``; ``batch_size: int`` accepts ``0``. Pydantic only earns its keep
    with constraints: ``Field(gt=0, le=1)``, ``Field(ge=1)``, ``Literal[...]`` for choices, validators for
    cross-field rules.
    """

    code = "MLR121"
    name = "unconstrained-pydantic-config"
    checklist = "pydantic-config"
    severity = "warning"
    message = "Pydantic config without field constraints"
    suggestion = (
        "Constrain the fields: lr: float = Field(1e-3, gt=0, le=1), batch_size: int = Field(32, ge=1)."
    )
    VALID = [
        "from pydantic import BaseModel, Field\nclass Cfg(BaseModel):\n    lr: float = Field(1e-3, gt=0)\n"
        "    batch_size: int = Field(32, ge=1)\n"
    ]
    INVALID = [
        "from pydantic import BaseModel\nclass HParams(BaseModel):\n    lr: float = 1e-3\n    batch_size: int = 32\n"
        "    epochs: int = 10\n"
    ]

    def check(self, project: Project) -> Iterable[Hit]:
        for cls in pydantic_configs(project):
            if not config_like(cls):
                continue
            numeric = [
                n
                for n, f in cls.fields.items()
                if isinstance(f.annotation.annotation, cst.Name) and f.annotation.annotation.value in _NUMERIC
            ]
            if len(numeric) >= 2 and not constrained(project, cls):
                file = project.class_file(cls)
                yield self.at(
                    file,
                    cls.node.name,
                    f"{cls.name} declares {', '.join(numeric[:4])} without any constraint",
                )

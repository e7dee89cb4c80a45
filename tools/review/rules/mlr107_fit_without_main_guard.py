"""MLR107: fit without main guard."""

from __future__ import annotations

from collections.abc import Iterable

from tools.review.project import Project
from tools.review.rules.base import Hit, Rule
from tools.review.rules.structure import LM


class FitWithoutMainGuard(Rule):
    """``trainer.fit()`` runs at module level without ``if __name__ == "__main__":``.

    Importing the module (tests, DataLoader workers with the spawn start method, DDP launchers) then starts
    training again; with ``num_workers > 0`` on macOS/Windows it recurses.
    """

    code = "MLR107"
    name = "fit-without-main-guard"
    checklist = ""
    severity = "warning"
    message = "trainer.fit() at module level without a __main__ guard"
    suggestion = 'Move the training code into main() and call it under if __name__ == "__main__":.'
    VALID = [
        LM
        + "def main():\n    trainer = L.Trainer()\n    trainer.fit(model)\nif __name__ == '__main__':\n    main()\n"
    ]
    INVALID = [{"train.py": LM + "trainer = L.Trainer()\ntrainer.fit(model)\n"}]

    def check(self, project: Project) -> Iterable[Hit]:
        # Pasted snippets are judged like files (issue 11: {"code"} must agree with the CLI, files and chat).
        for call in project.fit_calls:
            if (
                call.func is None
                and call.cls is None
                and not call.main_guard
                and "trainer" in call.receiver.lower()
            ):
                yield self.at(call.file, call.node, f"{call.code(50)} runs on import")

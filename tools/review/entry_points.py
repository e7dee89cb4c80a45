"""Entry points judged one by one (issue 11, class 1).

A project (the files given together: a repository or package root with its configs) can hold several
training entry points: ``pretrain.py`` and ``finetune.py``, each building and fitting its own Trainer. Entry
point items (clipping, precision, seeding) are decided per entry point: a clipped, seeded Trainer in one file
does not excuse an unclipped, unseeded one in another. An entry point here is a ``Trainer(...)`` written with
literal arguments (no ``**config``) in a file that calls ``.fit(``; when a project has two or more of them in
different files, each one that leaves the setting out is a finding of its own.
"""

from __future__ import annotations

from tools.review.project import Project, TrainerSite


def separate_entry_sites(project: Project) -> list[TrainerSite]:
    """Literal Trainer sites that fit a model, one per file, when the project has two or more such files."""
    fitting_files = {c.file.path for c in project.fit_calls if "trainer" in c.receiver.lower()}
    by_file: dict[str, TrainerSite] = {}
    for site in project.trainer_sites:
        call = site.call
        if call is None or call.short != "Trainer" or site.open or site.path not in fitting_files:
            continue
        by_file.setdefault(site.path, site)
    return list(by_file.values()) if len(by_file) >= 2 else []


def sites_missing(project: Project, key: str) -> list[TrainerSite]:
    """Separate entry-point Trainers that do not set ``key`` at all, while another entry point does."""
    sites = separate_entry_sites(project)
    missing = [s for s in sites if key not in s.settings]
    return missing if len(missing) < len(sites) else []

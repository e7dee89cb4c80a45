"""Shared CLI for the lab's vision projects; project CLIs subclass LabCLI."""

from lightning.pytorch.cli import LightningCLI


class LabCLI(LightningCLI):
    def add_arguments_to_parser(self, parser) -> None:
        parser.add_argument("--notes", default="")

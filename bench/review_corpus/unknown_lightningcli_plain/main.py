from lightning.pytorch.cli import LightningCLI

from project.data import FashionMNISTData
from project.model import LitClassifier


def cli_main():
    LightningCLI(LitClassifier, FashionMNISTData)


if __name__ == "__main__":
    cli_main()

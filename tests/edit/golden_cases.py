"""Golden edit cases: (input file in golden/, instruction) -> golden/expected/<name>.py, checked by eye once."""

from __future__ import annotations

CASES: dict[str, tuple[str, str]] = {
    "precision_bf16": ("lightning_script.py", "make it use bf16"),
    "precision_replace": ("flowers_finetune.py", "switch to bf16 mixed precision"),
    "precision_pl": ("pl_multilabel.py", "use 16-bit"),
    "early_stopping_new_list": ("lightning_script.py", "add early stopping on val/loss"),
    "early_stopping_update": ("flowers_finetune.py", "early stop on val/acc with patience 3"),
    "early_stopping_pl_default_monitor": ("pl_multilabel.py", "add early stopping"),
    "cosine_replace_dict": ("lightning_script.py", "switch to a cosine schedule with warm-up"),
    "cosine_replace_named": ("flowers_finetune.py", "use cosine annealing with 500 warmup steps"),
    "cosine_from_bare_optimizer": ("pl_multilabel.py", "cosine lr schedule with warmup"),
    "focal_ce_functional": ("lightning_script.py", "use focal loss"),
    "focal_ce_module": ("flowers_finetune.py", "use focal loss with gamma 1.5"),
    "focal_bce_module": ("pl_multilabel.py", "use focal loss"),
    "mlflow_new": ("lightning_script.py", "log to MLflow"),
    "mlflow_with_wandb": ("flowers_finetune.py", "add an MLflow logger, experiment 'flowers'"),
    "mlflow_logger_false": ("pl_multilabel.py", "log to mlflow at http://localhost:5000"),
    "freeze_backbone_callback": ("pl_multilabel.py", "freeze the backbone for 2 epochs"),
    "freeze_named_hook": ("flowers_finetune.py", "freeze self.net for 2 epochs"),
    "clip": ("lightning_script.py", "add gradient clipping at 1.0"),
    "seed_insert": ("lightning_script.py", "seed everything with 42"),
    "seed_module_level": ("pl_multilabel.py", "seed everything with 42"),
    "optimizer_adamw": ("lightning_script.py", "use AdamW with lr 3e-4"),
    "optimizer_default": ("pl_multilabel.py", "use AdamW with lr 3e-4 and weight decay 0.01"),
    "batch_size_constant": ("pl_multilabel.py", "set batch size to 64"),
    "batch_size_field": ("flowers_finetune.py", "set batch size to 64"),
    "ddp": ("lightning_script.py", "use 4 GPUs with DDP"),
    "combined": (
        "lightning_script.py",
        "use bf16, add early stopping on val/loss and switch to a cosine schedule with warm-up",
    ),
}

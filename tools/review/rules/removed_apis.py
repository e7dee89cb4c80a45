"""Helpers shared by the removed apis rules: Lightning / torchmetrics APIs that no longer exist, each with its replacement."""

from __future__ import annotations

REMOVED_TRAINER_ARGS: dict[str, tuple[str, bool]] = {
    "gpus": ('accelerator="gpu", devices=N', True),
    "auto_select_gpus": ('devices="auto" (Lightning picks free GPUs itself)', True),
    "track_grad_norm": (
        "log lightning.pytorch.utilities.grad_norm(self, norm_type=2) in on_before_optimizer_step",
        False,
    ),
    "resume_from_checkpoint": ('trainer.fit(model, ckpt_path="...")', False),
    "progress_bar_refresh_rate": ("callbacks=[TQDMProgressBar(refresh_rate=N)]", False),
    "weights_summary": ("callbacks=[ModelSummary(max_depth=N)]", False),
    "checkpoint_callback": ("enable_checkpointing=True/False", False),
    "flush_logs_every_n_steps": ("the logger's flush_logs_every_n_steps / log_every_n_steps", False),
    "terminate_on_nan": ("detect_anomaly=True or a callback checking the loss", False),
    "amp_backend": ('precision="16-mixed"', False),
    "amp_level": ('precision="16-mixed"', False),
    "tpu_cores": ('accelerator="tpu", devices=N', False),
    "ipus": ("the lightning-graphcore package", False),
    "num_processes": ('accelerator="cpu", devices=N', False),
    "replace_sampler_ddp": ("use_distributed_sampler", False),
    "stochastic_weight_avg": ("callbacks=[StochasticWeightAveraging(swa_lrs=...)]", False),
    "multiple_trainloader_mode": ("CombinedLoader(..., mode=...)", False),
    "move_metrics_to_cpu": ("nothing: metrics are no longer accumulated by the Trainer", False),
    "auto_lr_find": ("Tuner(trainer).lr_find(model)", False),
    "auto_scale_batch_size": ("Tuner(trainer).scale_batch_size(model)", False),
    "prepare_data_per_node": ("LightningDataModule.prepare_data_per_node attribute", False),
    "truncated_bptt_steps": ("manual optimization with your own truncation", False),
    # pre-1.0 names still found in old tutorials and research code
    "early_stop_callback": ("callbacks=[EarlyStopping(monitor=...)]", False),
    "distributed_backend": ('strategy="ddp"', False),
    "row_log_interval": ("log_every_n_steps", False),
    "log_save_interval": ("the logger's flush_logs_every_n_steps", False),
    "max_nb_epochs": ("max_epochs", False),
    "min_nb_epochs": ("min_epochs", False),
    "nb_gpu_nodes": ("num_nodes", False),
    "show_progress_bar": ("enable_progress_bar", False),
    "use_amp": ('precision="16-mixed"', False),
    "gradient_clip": ("gradient_clip_val", False),
}


REMOVED_HOOKS = {
    "training_epoch_end": "on_train_epoch_end (collect step outputs yourself)",
    "validation_epoch_end": "on_validation_epoch_end (collect step outputs yourself)",
    "test_epoch_end": "on_test_epoch_end (collect step outputs yourself)",
    "validation_end": "on_validation_epoch_end",
    "training_end": "on_train_epoch_end",
    "test_end": "on_test_epoch_end",
    "on_epoch_start": "on_train_epoch_start / on_validation_epoch_start",
    "on_epoch_end": "on_train_epoch_end / on_validation_epoch_end",
    "on_batch_start": "on_train_batch_start",
    "on_batch_end": "on_train_batch_end",
    "on_pretrain_routine_start": "on_fit_start",
    "on_pretrain_routine_end": "on_fit_start",
    "get_progress_bar_dict": "TQDMProgressBar.get_metrics",
}


TASK_METRICS = {
    "Accuracy",
    "F1Score",
    "FBetaScore",
    "Precision",
    "Recall",
    "AUROC",
    "AveragePrecision",
    "ConfusionMatrix",
    "JaccardIndex",
    "Specificity",
    "StatScores",
    "CohenKappa",
    "MatthewsCorrCoef",
    "ROC",
    "PrecisionRecallCurve",
    "CalibrationError",
    "HammingDistance",
    "ExactMatch",
    "HingeLoss",
    "Dice",
}

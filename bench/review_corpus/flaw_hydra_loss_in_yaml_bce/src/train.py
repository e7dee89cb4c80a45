import hydra
import lightning as L
import torch
from omegaconf import DictConfig


@hydra.main(version_base="1.3", config_path="../configs", config_name="train")
def main(cfg: DictConfig) -> None:
    L.seed_everything(cfg.seed, workers=True)
    datamodule = hydra.utils.instantiate(cfg.data)
    model = hydra.utils.instantiate(cfg.model)
    callbacks = [hydra.utils.instantiate(c) for c in cfg.callbacks.values()]
    logger = hydra.utils.instantiate(cfg.logger)
    trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks, logger=logger)
    trainer.fit(model, datamodule=datamodule)
    best = type(model).load_from_checkpoint(trainer.checkpoint_callback.best_model_path,
                                            net=model.net, loss=model.criterion)
    best.eval()
    best.to_onnx("deeplab_voc.onnx", torch.randn(1, 3, cfg.data.crop, cfg.data.crop), opset_version=17)


if __name__ == "__main__":
    main()

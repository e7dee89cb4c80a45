"""Export the best checkpoint to ONNX for the TensorRT service."""

import sys

import torch

from seg.model import DeepLabModule


def export(ckpt_path: str, out_path: str = "deeplab.onnx") -> None:
    model = DeepLabModule.load_from_checkpoint(ckpt_path, map_location="cpu")
    model.eval()
    dummy = torch.randn(1, 3, 512, 512)
    torch.onnx.export(
        model,
        (dummy,),
        out_path,
        input_names=["image"],
        output_names=["logits"],
        opset_version=18,
        dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"}, "logits": {0: "batch"}},
    )


if __name__ == "__main__":
    export(sys.argv[1])

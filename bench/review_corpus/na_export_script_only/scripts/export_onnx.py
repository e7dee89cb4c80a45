"""Export a trained checkpoint to ONNX and check it against PyTorch with onnxruntime."""

import sys

import numpy as np
import onnxruntime as ort
import torch

from classifier.lit_module import ImageClassifier

OPSET = 17
IMAGE_SIZE = 224


def main(ckpt: str, out: str) -> None:
    model = ImageClassifier.load_from_checkpoint(ckpt, map_location="cpu")
    model.eval()
    example = torch.randn(2, 3, IMAGE_SIZE, IMAGE_SIZE)
    torch.onnx.export(
        model,
        (example,),
        out,
        input_names=["pixel_values"],
        output_names=["logits"],
        opset_version=OPSET,
        dynamic_axes={"pixel_values": {0: "batch"}, "logits": {0: "batch"}},
    )
    session = ort.InferenceSession(out, providers=["CPUExecutionProvider"])
    onnx_out = session.run(None, {"pixel_values": example.numpy()})[0]
    with torch.no_grad():
        torch_out = model(example).numpy()
    np.testing.assert_allclose(torch_out, onnx_out, rtol=1e-3, atol=1e-4)
    print(f"exported {out}: outputs match PyTorch")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "model.onnx")

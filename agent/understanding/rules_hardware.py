"""Rules for where and how the model runs: GPUs and accelerators, precision, latency/throughput, device target."""

from __future__ import annotations

import re

from agent.understanding.reader import Reader, num, value_of

_GPU_MODEL = (
    r"(?:nvidia\s+)?(?:[ahvlpk]100|h200|a10g?|a40|a6000|l4|l40s?|t4|b200|(?:rtx|gtx)\s*a?\d{4}(?:\s*ti)?"
    r"|rtx\s*a\d{4}|titan\s*\w+|tpu(?:\s*v\d)?|mi\d{3}x?)"
)


_GPU_RULES = [
    (re.compile(rf"{num(glued=True)}\s*[x*]\s*(?P<model>{_GPU_MODEL})\b"), "n_x_model"),
    (re.compile(rf"{num()}\s+(?P<model>{_GPU_MODEL})s?\b"), "n_model"),
    (
        re.compile(
            rf"{num(glued=True)}\s*(?:x\s*)?(?:(?P<model>{_GPU_MODEL})\s+)?(?:gpus?|graphics cards|cards|accelerators|tpus?)\b"
        ),
        "n_gpus",
    ),
    (re.compile(rf"(?:gpus|devices|num_gpus|n_gpus|--gpus|nproc_per_node)\s*[=:]\s*{num()}"), "gpus_equals"),
    (re.compile(rf"{num()}\s+devices\b"), "n_devices"),
    (re.compile(rf"(?:single|1)[- ](?:(?P<model>{_GPU_MODEL})\b|gpu\b)"), "single_gpu"),
    (
        re.compile(
            rf"(?:on|with|have|using|got|own)\s+(?:a|an)\s+(?:single\s+)?(?:(?P<model>{_GPU_MODEL})\b|gpu\b)"
        ),
        "a_gpu",
    ),
]


_NO_GPU = re.compile(
    r"\bno gpus?\b|\bwithout (?:a |any )?gpus?\b|(?:don't|do not|dont) have (?:a |any )?gpus?\b|\bcpu[- ]only\b"
)


_GPU_NAME = re.compile(rf"(?<![\w-])(?P<model>{_GPU_MODEL})(?![\w-])")


def read_gpus(r: Reader) -> None:
    """Number of GPUs and the accelerator model ("2x A100", "on 4 GPUs", "single T4", "no GPU" = 0)."""
    if not r.mentions("gpu", "tpu", "device", "nproc", "card", "accelerator") and not r.has_digit:
        return
    no_gpu = _NO_GPU.search(r.text)
    if no_gpu and "cpu" not in no_gpu.group():
        r.put("num_gpus", 0, *no_gpu.span(), "no_gpu")
    for pattern, rule in _GPU_RULES:
        for match in r.finditer(pattern):
            groups = match.groupdict()
            count = int(value_of(match)) if groups.get("n") else 1
            if count < 1 or count > 4096:
                continue
            r.put("num_gpus", count, *match.span(), rule)
            if groups.get("model"):
                r.put("accelerator", _canonical_gpu(groups["model"]), *match.span("model"), rule)
    for match in _GPU_NAME.finditer(r.text):
        if not r.is_claimed(*match.span()):
            r.put("accelerator", _canonical_gpu(match.group("model")), *match.span(), "gpu_name")
        else:
            r.claim(*match.span())


def _canonical_gpu(raw: str) -> str:
    text = re.sub(r"\s+", " ", raw.strip()).removeprefix("nvidia ")
    return re.sub(r"(rtx|gtx)\s*", r"\1 ", text).upper().replace("TI", "Ti")


_PRECISION = [
    (re.compile(r"\b(?:bf16|bfloat16|bfloat-16|bf-16|brain ?float ?16)[- ]true\b|\bpure bf16\b"), "bf16-true"),
    (re.compile(r"\b(?:bf16|bfloat16|bfloat-16|bf-16|brain ?float ?16)(?:[- ]mixed)?\b"), "bf16-mixed"),
    (re.compile(r"\b(?:fp16|float16|half[- ]precision|16[- ]bit(?: precision| mixed)?|16-mixed|fp-16)\b"), "16-mixed"),
    (re.compile(r"\bmixed[- ]precision\b|\bamp\b|\bautocast\b"), "16-mixed"),
    (re.compile(r"\b(?:fp32|float32|full[- ]precision|single[- ]precision|32[- ]bit|32-true)\b"), "32-true"),
    (re.compile(r"\b(?:fp64|float64|double[- ]precision|64[- ]bit precision|64-true)\b"), "64-true"),
]  # fmt: skip


_QUANT = re.compile(r"\b(?:int8|8[- ]bit|quanti[sz](?:e|ed|ation|ing))\b|\bint4\b")


def read_precision(r: Reader) -> None:
    """Lightning precision ("bf16" -> "bf16-mixed", "fp16"/"AMP" -> "16-mixed") and int8/int4 quantisation."""
    if not r.mentions("16", "32", "64", "fp", "float", "half", "mixed", "amp", "autocast", "precision", "int", "bit", "quanti"):  # fmt: skip
        return
    hits: list[tuple[int, int, str]] = []
    for pattern, value in _PRECISION:
        for match in pattern.finditer(r.text):
            if not r.is_claimed(*match.span()):
                hits.append((match.start(), match.end(), value))
                r.claim(*match.span())
    # bf16 said anywhere beats a generic "mixed precision" (the user said which half format).
    said_bf16 = any(value.startswith("bf16") for _, _, value in hits)
    hits.sort(key=lambda hit: (hit[2] == "16-mixed" and said_bf16, hit[0]))
    for start, end, value in hits:
        r.put("precision", value, start, end, "precision")
    for match in _QUANT.finditer(r.text):
        value = "int4" if "4" in match.group() else "int8"
        r.put("quantization", value, *match.span(), "quantization")


_LATENCY = re.compile(
    rf"{num(glued=True)}\s*(?P<unit>ms|milliseconds?|msecs?|millis|µs|us|microseconds?)\b"
    rf"|(?:under|below|less than|<=?|within|at most|max(?:imum)?|no more than|faster than|sub-?|latency(?: of| budget| target)?:?)"
    rf"\s*{num('s')}\s*(?P<sunit>s|secs?|seconds?)\b"
)  # fmt: skip


_FPS = re.compile(
    rf"{num(glued=True)}\s*(?:fps|frames?\s*(?:per|/|a)\s*s(?:ec(?:ond)?)?|images?\s*(?:per|/|a)\s*s(?:ec(?:ond)?)?"
    rf"|img/s|it/s|hz|inferences?\s*(?:per|/)\s*s(?:ec(?:ond)?)?)\b"
)


_REALTIME = re.compile(r"\breal[- ]?time\b|\bechtzeit\b|\btemps réel\b|\btiempo real\b|\btempo reale\b")


def read_speed(r: Reader) -> None:
    """Latency in ms ("under 10 ms", "within 0.2 s"), throughput ("30 fps", "100 images/s") and "real-time"."""
    realtime = (
        _REALTIME.search(r.text) if r.mentions("real", "echtzeit", "temps", "tiempo", "tempo") else None
    )
    if realtime:
        r.put("realtime", True, *realtime.span(), "realtime", claim=False)
    if not r.has_digit:
        return
    for match in r.finditer(_LATENCY):
        if match.group("n"):
            value = value_of(match)
            unit = match.group("unit")
            if unit in {"µs", "us", "microsecond", "microseconds"}:
                value /= 1000
            r.put("latency_ms", float(value), *match.span(), "latency")
        elif match.group("s"):
            r.put("latency_ms", float(value_of(match, "s")) * 1000, *match.span(), "latency_seconds")
    for match in r.finditer(_FPS):
        r.put("throughput_fps", float(value_of(match)), *match.span(), "throughput")


_DEVICES = [
    (
        re.compile(
            r"\b(?:mobile(?! ?net)|phones?|smartphones?|android|iphone|ipad|ios|on[- ]device|tflite|core ?ml|handy|téléphone|móvil|celular|telefono)\b"
        ),
        "mobile",
    ),
    (
        re.compile(
            r"\b(?:edge|embedded|jetson|orin|xavier|raspberry\s*pi|rpi|coral|microcontrollers?|mcu|npu|drones?|fpga|hailo|openvino|arm board|tpu edge)\b"
        ),
        "edge",
    ),
    (
        re.compile(
            r"\bcpu[- ]only\b|\b(?:on|for|with) (?:a |the |an? \w+ )?cpus?\b|\bcpus?\b|\bno gpu|\bwithout (?:a |any )?gpu|\blaptop\b"
        ),
        "cpu",
    ),
    (re.compile(r"\b(?:gpu )?servers?\b|\bcloud\b|\bdata ?cent(?:er|re)\b|\btriton\b"), "server"),
]


def read_device_target(r: Reader) -> None:
    """Where the model will run: "mobile", "edge", "cpu" or "server", most specific first."""
    for pattern, value in _DEVICES:
        match = pattern.search(r.text)
        if match and not r.is_claimed(*match.span()):
            r.put("device_target", value, *match.span(), value, claim=False)
            return

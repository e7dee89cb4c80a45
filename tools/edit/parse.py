"""Natural requests -> edit specs: "make it use bf16", "add early stopping on val/loss, patience 5", ...

Deterministic rules, tolerant of phrasing: the text is accent-folded, common German and French phrases are
mapped to English, misspelt keywords are corrected by fuzzy matching (rapidfuzz), the request is split into
clauses ("use bf16 and add early stopping"), and each clause gives at most one edit of each kind with its
parameters (numbers, metric names, URIs). Anything it cannot place gives no edit: the caller says so.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pydantic import TypeAdapter, ValidationError
from rapidfuzz import fuzz, process

from tools.edit.models import EditSpec

_ADAPTER: TypeAdapter[EditSpec] = TypeAdapter(EditSpec)

#: Keywords a misspelt word may be corrected to (only words of 4+ letters, at similarity >= 85).
_VOCAB = [
    "early",
    "stopping",
    "stop",
    "precision",
    "mixed",
    "cosine",
    "warmup",
    "schedule",
    "scheduler",
    "annealing",
    "focal",
    "mlflow",
    "logger",
    "logging",
    "freeze",
    "frozen",
    "backbone",
    "gradient",
    "gradients",
    "clipping",
    "optimizer",
    "learning",
    "patience",
    "epochs",
    "epoch",
    "batch",
    "strategy",
    "devices",
    "everything",
    "monitor",
    "bfloat16",
    "float16",
    "reproducible",
    "annealing",
    "decay",
    "weight",
    "encoder",
    "checkpoint",
    "checkpoints",
    "tensorboard",
]
#: Ordinary words that look like keywords and must stay as they are.
_KEEP = set(
    [
        "speed",
        "seeds",
        "model",
        "models",
        "train",
        "training",
        "lower",
        "higher",
        "please",
        "value",
        "values",
        "steps",
        "step",
        "match",
        "patch",
        "sched",
        "stopped",
        "stops",
        "stopping",
        "loss",
        "losses",
        "enable",
        "monitor",
        "with",
        "where",
        "when",
        "warm",
        "make",
        "mode",
        "more",
    ]
)

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "twenty": 20, "eins": 1, "zwei": 2, "drei": 3, "vier": 4, "funf": 5, "sechs": 6, "acht": 8, "zehn": 10,
    "un": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "dix": 10, "single": 1,
}  # fmt: skip

#: German and French phrases (accent-folded) -> the English the rules understand.
_TRANSLATE: list[tuple[str, str]] = [
    (
        r"\bfruh(?:es|zeitiges)? (?:stoppen|beenden|abbrechen)\b|\bvorzeitig(?:es)? (?:stoppen|beenden|abbrechen)",
        "early stopping",
    ),
    (r"\barret (?:precoce|anticipe)\b", "early stopping"),
    (r"\bgeduld\b", "patience"),
    (r"\blernrate\b|\btaux d'apprentissage\b|\blearning-rate\b", "learning rate"),
    (
        r"\bbatch-?gro(?:ss|ß)e\b|\bstapelgro(?:ss|ß)e\b|\btaille (?:de|du|des) (?:lot|batch|lots)\b",
        "batch size",
    ),
    (
        r"\bgradienten[- ]?(?:clipping|begrenzen|begrenzung|abschneiden)\b|\becretage (?:de|des) gradients?\b|\bclipping (?:de|des) gradients?\b",
        "gradient clipping",
    ),
    (r"\bperte focale\b|\bfokale?n? (?:verlust|loss)\b|\bfocal-loss\b", "focal loss"),
    (r"\bfriere\b|\beinfrieren\b|\beingefroren\b|\bgeler\b|\bgele\b|\bgelez\b|\bfige\b|\bfiger\b", "freeze"),
    (r"\bkosinus\b", "cosine"),
    (r"\bweights ?(?:and|&|n) ?biases\b|\bw ?& ?b\b|\bw and b\b", "wandb"),
    (r"\btensor ?board\b|\btensorbord\b", "tensorboard"),
    (
        r"\bmodel ?checkpoint\b|\bcheck ?points?\b|\bsauvegardes?\b|\bcheckpunkte?\b|\bspeicherpunkte?\b",
        "checkpoint",
    ),
    (r"\baufwarm(?:en|phase)\b|\bechauffement\b|\bpechauffement\b", "warmup"),
    (r"\bepochen\b|\bepoques?\b", "epochs"),
    (r"\bprecision mixte\b|\bgemischte(?:r|n)? (?:prazision|genauigkeit)\b", "mixed precision"),
    (r"\bhalbe(?:r|n)? (?:prazision|genauigkeit)\b|\bdemi[- ]precision\b", "half precision"),
    (r"\bgraine\b|\bstartwert\b|\bzufallsstartwert\b", "seed"),
    (
        r"\bbenutze\b|\bnutze\b|\bverwende\b|\butilise[rz]?\b|\bemploie\b|\bpasse (?:a|en|sur)\b|\bwechsle zu\b|\bstelle auf\b",
        "use",
    ),
    (r"\bfuge\b|\bajoute[rz]?\b", "add"),
    (r"\bprotokolliere\b|\blogge\b|\bjournalise[rz]?\b|\benregistre[rz]? (?:dans|sur|avec)\b", "log to"),
    (r"\bmit\b|\bavec\b", "with"),
    (r"\bund\b|\bet\b|\bsowie\b", "and"),
    (r"\bsur\b|\bauf\b", "on"),
    (r"\bgrafikkarten\b|\bcartes graphiques\b", "gpus"),
]

_SPLIT = re.compile(r"\s*(?:;|,|\band\b|\bplus\b|\bthen\b|\balso\b)\s*")
_NUM = r"(\d+(?:\.\d+)?(?:e-?\d+)?|\.\d+)"
_NEGATE = re.compile(r"\b(?:remove|delete|drop|disable|get rid of|turn off|no more|without)\b")


def fold(text: str) -> str:
    """Lower case, accents removed (``Füge`` -> ``fuge``), ``ß`` -> ``ss``, whitespace collapsed."""
    text = text.replace("ß", "ss").replace("\u2019", "'")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"\s+", " ", text).strip()


def _correct(text: str) -> str:
    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        if len(word) < 4 or any(ch.isdigit() for ch in word) or word in _KEEP or word in _VOCAB:
            return word
        best = process.extractOne(word, _VOCAB, scorer=fuzz.ratio, score_cutoff=85)
        return best[0] if best else word

    return re.sub(r"[a-z0-9]+", fix, text)


def normalize(text: str) -> str:
    text = fold(text)
    for pattern, english in _TRANSLATE:
        text = re.sub(pattern, english, text)
    text = _correct(text)
    text = re.sub(r"\b(?:" + "|".join(_NUMBER_WORDS) + r")\b", lambda m: str(_NUMBER_WORDS[m.group(0)]), text)
    return text


def _num(pattern: str, text: str) -> float | None:
    m = re.search(pattern, text)
    return float(m.group(1)) if m else None


def _metric(text: str) -> str | None:
    m = re.search(
        r"(?:monitor(?:ing)?|on|when|watch(?:ing)?|track(?:ing)?|metric|using|of)\s*[=:]?\s*[`'\"]?"
        r"((?:val|valid|validation|train|training|test)(?:[/_.\-][a-z0-9_]+|\s+(?:loss|acc(?:uracy)?|f1|iou|map|dice|auroc|auc)\b))",
        text,
    )
    if not m:
        m = re.search(
            r"[`'\"]?((?:val|valid|validation)(?:[/_.\-][a-z0-9_]+|\s+(?:loss|acc(?:uracy)?|f1|iou|map|dice|auroc|auc)\b))",
            text,
        )
    if not m:
        return None
    key = m.group(1).strip().rstrip(".")
    key = re.sub(r"^validation\b", "val", key)
    key = re.sub(r"\baccuracy$", "acc", key)
    return re.sub(r"\s+", "_", key)


def _precision(c: str) -> dict[str, Any] | None:
    if re.search(r"\b(?:bf ?16|bfloat ?16|brain ?float)\b", c):
        return {"value": "bf16-true" if re.search(r"\b(?:true|pure)\b", c) else "bf16-mixed"}
    if re.search(
        r"\b(?:fp ?32|float ?32|32[- ]?bit|32[- ]true|full precision|single precision)\b", c
    ) or re.search(r"\b(?:no|disable|without|turn off|remove)\b.*\bmixed precision\b", c):
        return {"value": "32-true"}
    if re.search(r"\b(?:fp ?64|float ?64|64[- ]?bit|double precision)\b", c):
        return {"value": "64-true"}
    if re.search(
        r"\b(?:fp ?16|float ?16|16[- ]?bit|16[- ]mixed|half precision|half|amp|mixed precision|autocast)\b", c
    ):
        return {"value": "16-true" if re.search(r"\b(?:true|pure)\b", c) else "16-mixed"}
    return None


def _early_stopping(c: str) -> dict[str, Any] | None:
    if not re.search(
        r"early ?stop|stop(?:s|ping)? (?:\w+ )?early|stops? improving|earlystopping|no longer improv|plateaus",
        c,
    ):
        return None
    params: dict[str, Any] = {}
    metric = _metric(c)
    if metric:
        params["monitor"] = metric
    patience = _num(r"patience\s*(?:of|=|:|to|at)?\s*(\d+)", c) or _num(
        r"(\d+)\s*epochs?(?: of)? (?:patience|without improvement)", c
    )
    if patience is not None:
        params["patience"] = int(patience)
    params.update(_mode(c, metric))
    return params


def _cosine(c: str) -> dict[str, Any] | None:
    if not re.search(r"cosine|warm ?-?up|\bwarmup\b", c):
        return None
    if re.search(r"\b(?:without|no)\s+(?:lr\s+)?warm ?-?up\b", c):
        return {"warmup_steps": 0}
    steps = (
        _num(r"(\d[\d_,]*)\s*(?:warm ?-?up|warmup)\s*steps", c.replace(",", ""))
        or _num(r"warm ?-?up\s*(?:of|for|over|with|=|:|steps\s*=?)?\s*(\d+)\s*(?:steps?|iter)", c)
        or _num(r"(\d+)\s*steps?\s*(?:of\s*)?(?:linear\s*)?warm ?-?up", c)
        or _num(r"warmup_steps\s*=\s*(\d+)", c)
    )
    return {"warmup_steps": int(steps)} if steps is not None else {}


def _focal(c: str) -> dict[str, Any] | None:
    if not re.search(r"\bfocal\b", c):
        return None
    gamma = _num(r"gamma\s*(?:=|of|:|to)?\s*" + _NUM, c)
    return {"gamma": gamma} if gamma is not None else {}


def _mlflow(c: str, raw: str) -> dict[str, Any] | None:
    if not re.search(r"\bml ?flow\b", c):
        return None
    params: dict[str, Any] = {}
    uri = re.search(r"((?:https?|file|databricks|sqlite)://?[^\s,;'\"]+|databricks\b)", raw)
    if uri:
        params["tracking_uri"] = uri.group(1).rstrip(".")
    m = re.search(
        r"experiment(?:[ _]name)?\s*(?:=|:|called|named)?\s*[`'\"]([^`'\"]+)[`'\"]", raw, re.I
    ) or re.search(r"experiment(?:[ _]name)?\s*(?:=|:|called|named)\s*([\w\-./]+)", raw, re.I)
    if m:
        params["experiment_name"] = m.group(1)
    return params


def _freeze(c: str) -> dict[str, Any] | None:
    if not re.search(r"freez|frozen", c):
        return None
    params: dict[str, Any] = {}
    epochs = _num(r"(\d+)\s*(?:first\s*)?(?:epochs?|ep)\b", c)
    if epochs is None and re.search(r"\b(?:first|one|1st) epoch\b", c):
        epochs = 1
    if epochs is not None:
        params["epochs"] = int(epochs)
    m = re.search(
        r"(?:freeze|frozen)\s+(?:the\s+)?(?:pretrained\s+)?(?:self\.)?([a-z_][a-z0-9_]*)", c
    ) or re.search(r"(?:keep|leave)\s+(?:the\s+)?(?:self\.)?([a-z_][a-z0-9_]*)\s+frozen", c)
    generic = {
        "backbone",
        "for",
        "the",
        "it",
        "model",
        "pretrained",
        "weights",
        "first",
        "base",
        "feature",
        "features",
        "during",
        "at",
        "until",
        "in",
        "layers",
    }
    if m and m.group(1) not in generic:
        params["attribute"] = m.group(1)
    return params


def _mode(c: str, metric: str | None) -> dict[str, Any]:
    m = re.search(r"\bmode\s*[=:]?\s*['\"]?(min|max)\b|\b(maximi[sz]e|minimi[sz]e)\b|\((min|max)\)", c)
    if m:
        word = m.group(1) or m.group(3) or ("max" if m.group(2).startswith("max") else "min")
        return {"mode": word}
    if re.search(r"\b(?:highest|largest|max(?:imum)?)\b", c):
        return {"mode": "max"}
    if re.search(r"\b(?:lowest|smallest|min(?:imum)?)\b", c):
        return {"mode": "min"}
    if metric:
        from tools.edit.transforms.callbacks import mode_for

        return {"mode": mode_for(metric)}
    return {}


def _checkpoint(c: str) -> dict[str, Any] | None:
    saves_best = re.search(
        r"\b(?:save|keep|store)\b.{0,20}\b(?:best|top)\b.{0,20}\b(?:model|weights|ckpt|epoch)s?\b", c
    )
    if not (re.search(r"\bcheckpoint(?:s|ing)?\b|\bckpts?\b", c) or saves_best):
        return None
    if re.search(r"\b(?:resume|load|restore|continue)\b|\bfrom (?:the |a |my |last )*checkpoint", c):
        return None  # resuming is a question about the Trainer, not a callback to add
    params: dict[str, Any] = {}
    metric = _metric(c)
    if metric:
        params["monitor"] = metric
    params.update(_mode(c, metric))
    k = _num(r"\b(?:top|best|keep|save)[ -]?(\d+)\b", c) or _num(r"\b(\d+) best\b", c)
    if k is not None:
        params["save_top_k"] = int(k)
    elif re.search(r"\b(?:all|every) (?:the )?checkpoints?\b|\bevery epoch\b", c):
        params["save_top_k"] = -1
    if re.search(r"\b(?:no|without|don'?t (?:save|keep)) (?:the )?last\b", c):
        params["save_last"] = False
    return params


def _logger(c: str, raw: str) -> dict[str, Any] | None:
    name = (
        "tensorboard"
        if re.search(r"\btensorboard\b|\btb logger\b", c)
        else "wandb"
        if re.search(r"\bwandb\b", c)
        else "csv"
        if re.search(
            r"\bcsv ?(?:logger|files?|log)\b|\b(?:log|logs|logging) (?:\w+ )?(?:to|in|into|as) (?:a |plain )?csv\b",
            c,
        )
        else None
    )
    if name is None:
        return None
    params: dict[str, Any] = {"name": name}
    m = re.search(r"save_dir\s*[=:]?\s*[`'\"]?([^\s`'\",;]+)", raw) or re.search(
        r"\b(?:in|under|into|to) (?:the )?(?:folder |directory |dir )?[`'\"]?(\.{0,2}/?[\w.-]+/[\w./-]*)", raw
    )
    if m:
        params["save_dir"] = m.group(1)
    if name == "wandb":
        p = re.search(r"\bproject(?:[ _]name)?\s*(?:=|:|called|named)?\s*[`'\"]?([\w\-.]+)", raw, re.I)
        if p and p.group(1).lower() not in ("the", "a", "my"):
            params["project"] = p.group(1)
    return params


def _clipping(c: str) -> dict[str, Any] | None:
    if not re.search(r"\bclip", c):
        return None
    params: dict[str, Any] = {}
    value = _num(r"(?:at|to|=|of|value|norm|max|with)\s*" + _NUM, c) or _num(_NUM, c)
    if value is not None and value > 0:
        params["value"] = value
    if re.search(r"by value|clip_value|value clipping|\bvalue\b", c) and not re.search(r"\bnorm\b", c):
        params["algorithm"] = "value"
    elif re.search(r"\bnorm\b", c):
        params["algorithm"] = "norm"
    return params


def _seed(c: str) -> dict[str, Any] | None:
    if not re.search(r"\bseed|reproducib|determinis", c):
        return None
    value = _num(r"seed\w*\s*(?:of|=|:|to|with|at)?\s*(\d+)", c) or _num(r"(\d+)", c)
    return {"seed": int(value)} if value is not None else {}


_OPTIMIZERS = {"adamw": "AdamW", "adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop", "adagrad": "Adagrad",
               "adamax": "Adamax", "nadam": "NAdam", "radam": "RAdam"}  # fmt: skip


def _optimizer(c: str) -> dict[str, Any] | None:
    params: dict[str, Any] = {}
    m = re.search(r"\b(" + "|".join(_OPTIMIZERS) + r")\b", c)
    if m:
        params["name"] = _OPTIMIZERS[m.group(1)]
    lr = _num(r"(?:\blr|learning rate)\W*(?:[a-z]+\W+){0,2}?" + _NUM, c)
    if lr is not None:
        params["lr"] = lr
    wd = _num(r"weight[ _]decay\s*(?:of|=|:|to|at)?\s*" + _NUM, c)
    if wd is not None:
        params["weight_decay"] = wd
    return params or None


def _batch(c: str) -> dict[str, Any] | None:
    value = (
        _num(r"batch[ _-]?size\W*(?:[a-z]+\W+){0,2}?(\d+)", c)
        or _num(r"\bbs\s*[=:]?\s*(\d+)", c)
        or _num(r"(\d+)\s*(?:as (?:the )?)?(?:samples? per )?batch", c)
        or _num(r"batch(?:es)? of (\d+)", c)
    )
    return {"value": int(value)} if value is not None else None


def _devices(c: str) -> dict[str, Any] | None:
    params: dict[str, Any] = {}
    n = _num(r"(\d+)\s*(?:x\s*)?(?:gpus?|devices|cards|cuda devices|accelerators)\b", c)
    if n is not None:
        params["devices"] = int(n)
    if re.search(r"\bgpus?\b|\bcuda\b|graphics card", c):
        params["accelerator"] = "gpu"
    elif re.search(r"\bcpus?\b", c):
        params["accelerator"] = "cpu"
    elif re.search(r"\bmps\b|apple silicon|\bm[123]\b", c):
        params["accelerator"] = "mps"
    elif re.search(r"\btpus?\b", c):
        params["accelerator"] = "tpu"
    if re.search(r"ddp[_ ]spawn", c):
        params["strategy"] = "ddp_spawn"
    elif re.search(r"\bddp\b|distributed ?data ?parallel|data[- ]parallel", c):
        params["strategy"] = "ddp"
    elif re.search(r"\bfsdp\b|fully sharded", c):
        params["strategy"] = "fsdp"
    elif re.search(r"deepspeed", c):
        params["strategy"] = "deepspeed"
    if params.keys() == {"accelerator"} and not re.search(r"\b(?:on|use|train|run|switch|move|to)\b", c):
        return None
    return params or None


def _kinds(c: str, raw: str) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    for kind, fn in (
        ("early_stopping", _early_stopping),
        ("cosine_schedule", _cosine),
        ("focal_loss", _focal),
        ("freeze_backbone", _freeze),
        ("gradient_clipping", _clipping),
        ("seed", _seed),
    ):
        params = fn(c)
        if params is not None:
            found.append((kind, params))
    if "early_stopping" not in {k for k, _ in found}:
        ck = _checkpoint(c)
        if ck is not None:
            found.append(("checkpoint", ck))
    ml = _mlflow(c, raw)
    if ml is not None:
        found.append(("mlflow_logger", ml))
    lg = _logger(c, raw)
    if lg is not None:
        found.append(("logger", lg))
    kinds = {k for k, _ in found}
    if "gradient_clipping" not in kinds:
        p = _precision(c)
        if p is not None:
            found.append(("precision", p))
    if not kinds & {"cosine_schedule"}:
        o = _optimizer(c)
        if o is not None:
            found.append(("optimizer", o))
    b = _batch(c)
    if b is not None:
        found.append(("batch_size", b))
    d = _devices(c) if not kinds & {"precision"} else None
    if d is not None:
        found.append(("devices", d))
    return found


def parse_instruction(text: str) -> list[EditSpec] | None:
    """The edits a request asks for, in order; None when it names no edit this tool can make."""
    if not text or not text.strip():
        return None
    norm = normalize(text)
    clauses = [c for c in _SPLIT.split(norm) if c and c.strip()]
    raw_clauses = [text]
    merged: list[tuple[str, list[tuple[str, dict[str, Any]]]]] = []
    for clause in clauses:
        kinds = _kinds(clause, text)
        if not kinds and merged:
            joined = merged[-1][0] + " and " + clause
            merged[-1] = (joined, _kinds(joined, text))
        elif kinds:
            merged.append((clause, kinds))
    del raw_clauses
    wanted: dict[str, dict[str, Any]] = {}
    for clause, kinds in merged:
        if _NEGATE.search(clause) and not any(k in ("precision", "cosine_schedule") for k, _ in kinds):
            continue
        for kind, params in kinds:
            wanted.setdefault(kind, {}).update(params)  # "AdamW with lr 3e-4 and weight decay 0.01": one edit
    specs: list[EditSpec] = []
    for kind, params in wanted.items():
        try:
            specs.append(_ADAPTER.validate_python({"kind": kind, **params}))
        except ValidationError:
            continue
    return specs or None


def describe_supported() -> str:
    return (
        "I can: set the precision (bf16, 16-mixed, 32), add early stopping, keep the best checkpoints (ModelCheckpoint), "
        "switch to a cosine schedule with warm-up, use focal loss, log to MLflow, TensorBoard, CSV or W&B, freeze the backbone for N epochs, clip gradients, seed "
        "everything, change the optimizer or learning rate, set the batch size, and set devices/strategy (DDP)."
    )

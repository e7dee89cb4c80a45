"""Rules for training choices: learning rate, batch size, epochs/steps, warm-up, freezing, patience, and the
named parts a user asks to change in code ("use focal loss", "cosine schedule", "log to MLflow", "early
stopping on val/loss", "freeze the backbone")."""

from __future__ import annotations

import re

from agent.understanding.reader import Reader, num, value_of
from agent.understanding.text import wordset

_SCI = r"(?P<n>\d+(?:\.\d+)?e-?\d+|\d*\.\d+|\d+)"


_LR = re.compile(
    rf"(?:\blr\b|learning[- _]rate|\blearning_rate\b|base[_ ]lr|max[_ ]lr|initial lr)\s*(?:of|=|:|is|to|at|"
    rf"around|about|~|should be|set to|=\s*)?\s*(?:of\s+)?(?:around\s+|about\s+|~\s*)?{_SCI}(?![\w.])"
)


_SCI_ALONE = re.compile(r"(?<![\w.=])(?P<n>\d+(?:\.\d+)?e-\d+)(?![\w.])")


_NOT_LR = wordset("wd weight decay eps epsilon momentum smoothing dropout threshold tolerance min_delta delta clip beta")  # fmt: skip


def read_learning_rate(r: Reader) -> None:
    """Learning rate after "lr"/"learning rate", or a bare "3e-4" that no other hyper-parameter owns."""
    if not r.has_digit or not r.mentions("lr", "learning", "e-"):
        return
    for match in r.finditer(_LR):
        value = float(match.group("n"))
        if 0 < value < 1:
            r.put("learning_rate", value, *match.span("n"), "lr_keyword")
    for match in r.finditer(_SCI_ALONE):
        before = set(r.words_before(match.start(), 3))
        if before & _NOT_LR or "weight_decay" in r.text[max(0, match.start() - 20) : match.start()]:
            r.claim(*match.span())
            continue
        value = float(match.group("n"))
        if 0 < value < 1:
            r.put("learning_rate", value, *match.span("n"), "scientific_notation")


_BATCH = [
    re.compile(
        rf"(?:batch[ _-]?size|\bbs\b|mini-?batch(?: size)?|\bbatch\b)\s*(?:of|=|:|is|to|at|around|about)?\s*{num()}"
        rf"(?!\s*(?:images|samples|steps|epochs|iterations|of the))"
    ),
    re.compile(rf"\bbatch(?:es)? of\s*{num()}"),
    re.compile(rf"{num()}\s*(?:images?\s+|samples?\s+)?per (?:batch|step|iteration)\b"),
    re.compile(rf"{num()}\s+(?:as (?:the )?)?batch[ _-]?size\b"),
]


_DURATION_UNITS = {
    "epochs": "epochs", "epoch": "epochs", "steps": "steps", "step": "steps", "iterations": "steps",
    "iteration": "steps", "iters": "steps", "iter": "steps", "batches": "steps", "updates": "steps",
    "schritte": "steps", "epochen": "epochs", "étapes": "steps", "époques": "epochs", "pasos": "steps",
    "épocas": "epochs", "passi": "steps", "epoche": "epochs", "passos": "steps",
}  # fmt: skip


_DURATION = re.compile(
    rf"{num()}\s*(?:more\s+|training\s+|train\s+|optimi[sz]er\s+|gradient\s+|(?P<warm>warm-?up\s+))?"
    rf"(?P<unit>{'|'.join(sorted(_DURATION_UNITS, key=len, reverse=True))})\b(?P<of_warm>\s+of\s+warm-?up)?"
)


_DURATION_KEY = re.compile(
    rf"(?P<key>max_epochs|num_epochs|n_epochs|epochs|max_steps|num_steps|steps|max_iters|iterations|warmup_steps"
    rf"|warmup_epochs|patience)\s*(?:=|:|of|to)\s*{num()}"
)


_PATIENCE = re.compile(rf"patience\s*(?:of|=|:|is|to)?\s*{num()}")


def read_hyperparameters(r: Reader) -> None:
    """Batch size, epochs/steps and what a duration belongs to (warm-up, freezing, patience, schedule)."""
    if not r.has_digit:
        return
    for pattern in _BATCH:
        for match in r.finditer(pattern):
            size = int(value_of(match))
            if 1 <= size <= 65536:
                r.put("batch_size", size, *match.span(), "batch")
    for match in r.finditer(_PATIENCE):
        r.put("patience", int(value_of(match)), *match.span(), "patience")
    for match in r.finditer(_DURATION_KEY):
        key = match.group("key")
        slot = {"max_epochs": "epochs", "num_epochs": "epochs", "n_epochs": "epochs", "max_steps": "steps",
                "num_steps": "steps", "max_iters": "steps", "iterations": "steps"}.get(key, key)  # fmt: skip
        r.put(slot, int(value_of(match)), *match.span(), "keyword")
    for match in r.finditer(_DURATION):
        count = value_of(match)
        if count != int(count) or count < 1:
            continue
        unit = _DURATION_UNITS[match.group("unit")]
        context = " ".join(r.words_before(match.start(), 6))
        # Only the words since the last "then"/"and" qualify this number ("warm-up 1000 iters then 90k
        # iterations": the 90k are the run, not the warm-up).
        context = re.split(r"\b(?:then|and|plus|total|afterwards)\b", context)[-1]
        following = " ".join(r.words_after(match.end(), 3))
        if unit == "epochs" and re.search(r"^(?:without|with no|of no) improv|^no improv", following):
            r.put("patience", int(count), *match.span(), "epochs_without_improvement")
            continue
        if match.group("warm") or match.group("of_warm") or re.search(r"warm-?\s?up", context):
            slot = f"warmup_{unit}"
        elif re.search(r"freez|frozen|unfreez", context):
            slot = "freeze_epochs" if unit == "epochs" else "steps"
        elif re.search(r"\bpatience\b|\bno improvement\b|\bwithout improv", context) and unit == "epochs":
            slot = "patience"
        elif re.search(r"\bevery\b|\beach\b|\bafter\b", context):
            r.claim(*match.span())
            continue  # "validate every 2 epochs" is a schedule, not the run length
        else:
            slot = unit
        r.put(slot, int(count), *match.span(), "duration")


# (pattern, canonical value) per slot; the first match in the text wins, later different ones are conflicts.
_CHOICES: dict[str, list[tuple[re.Pattern[str], str]]] = {
    "optimizer": [
        (re.compile(r"\badamw\b|\badam w\b|\badam with (?:decoupled )?weight decay\b"), "adamw"),
        (re.compile(r"\badam\b"), "adam"),
        (re.compile(r"\bsgd\b|\bstochastic gradient descent\b|\bnesterov\b"), "sgd"),
        (re.compile(r"\brmsprop\b"), "rmsprop"),
        (re.compile(r"\blion\b"), "lion"),
        (re.compile(r"\blamb(?= optimi[sz]er\b| with\b| lr\b)"), "lamb"),
        (re.compile(r"\badafactor\b"), "adafactor"),
        (re.compile(r"\badagrad\b"), "adagrad"),
    ],
    "scheduler": [
        (re.compile(r"\bcosine(?:[- ]?annealing(?:lr)?|[- ](?:schedule|scheduler|decay|lr))?\b|\bcosineannealing\w*"), "cosine"),
        (re.compile(r"\bone[- ]?cycle(?:lr)?\b|\b1[- ]?cycle\b|\bonecyclelr\b"), "onecycle"),
        (re.compile(r"\breduce[- ]?(?:lr[- ]?)?on[- ]?plateau\b|\breducelronplateau\b|\bplateau\b"), "plateau"),
        (re.compile(r"\bstep[- ]?lr\b|\bstep (?:decay|schedule)\b|\bmulti[- ]?step\w*"), "step"),
        (re.compile(r"\bpoly(?:nomial)?(?: lr)? (?:decay|schedule)\b|\bpolylr\b"), "polynomial"),
        (re.compile(r"\bexponential(?: lr)? (?:decay|schedule)\b|\bexponentiallr\b"), "exponential"),
        (re.compile(r"\blinear (?:decay|schedule)\b"), "linear"),
        (re.compile(r"\bconstant (?:lr|learning rate|schedule)\b"), "constant"),
    ],
    "loss": [
        (re.compile(r"\bfocal(?:[- ]?loss)?\b"), "focal"),
        (re.compile(r"\bdice ?(?:\+|and|plus) ?(?:ce|cross[- ]?entropy)\b|\b(?:ce|cross[- ]?entropy) ?(?:\+|and|plus) ?dice\b"), "dice_ce"),
        (re.compile(r"\bdice(?:[- ]?loss)?\b"), "dice"),
        (re.compile(r"\blov[aá]sz\w*"), "lovasz"),
        (re.compile(r"\btversky\b"), "tversky"),
        (re.compile(r"\blabel[- ]smoothing\b"), "cross_entropy_label_smoothing"),
        (re.compile(r"\b(?:class[- ])?weighted (?:ce|cross[- ]?entropy)\b"), "weighted_cross_entropy"),
        (re.compile(r"\bbce(?:[- ]?with[- ]?logits)?(?:loss)?\b|\bbinary cross[- ]?entropy\b|\bsigmoid cross[- ]?entropy\b"), "bce_with_logits"),
        (re.compile(r"\b(?:categorical |softmax )?cross[- ]?entropy\b|\bce loss\b|\bnll\b"), "cross_entropy"),
        (re.compile(r"\bhuber\b|\bsmooth[- ]?l1\b"), "huber"),
        (re.compile(r"\bmse\b|\bmean squared error\b|\bl2 loss\b"), "mse"),
        (re.compile(r"\bl1 loss\b|\bmae loss\b|\bmean absolute error\b"), "l1"),
        (re.compile(r"\b[gcd]iou loss\b|\bgiou\b|\bciou\b"), "giou_ciou"),
        (re.compile(r"\barcface\b|\btriplet loss\b|\bcontrastive loss\b"), "metric_learning"),
    ],
    "logger": [
        (re.compile(r"\bmlflow\b"), "mlflow"),
        (re.compile(r"\bw(?:and|&)b\b|\bweights (?:and|&) biases\b"), "wandb"),
        (re.compile(r"\btensor ?board\b"), "tensorboard"),
        (re.compile(r"\bcomet(?:\.ml|ml)?\b"), "comet"),
        (re.compile(r"\bneptune\b"), "neptune"),
        (re.compile(r"\bcsv ?logger\b|\blog(?:s|ging)? to (?:a )?csv\b"), "csv"),
    ],
}  # fmt: skip
# Losses that refine plain cross-entropy (or Dice): said together, the refinement is what was meant.
_REFINES_CROSS_ENTROPY = frozenset({"cross_entropy_label_smoothing", "weighted_cross_entropy", "dice_ce"})
_MONITOR = re.compile(
    r"(?<![\w/])(?P<m>(?:val|valid|validation|train|test)[/_.](?!(?:train|val|valid|validation|test|split|set|data|dir|folder|images)\b)(?:[a-z][a-z0-9]*(?:[_@.-][a-z0-9]+)*))(?![\w/])"
    r"|\b(?:monitor(?:ing)?|track(?:ing)?|on|based on|watch(?:ing)?)\s+(?:the\s+)?(?P<w>val(?:idation)? (?:loss|accuracy|acc|map|f1|iou|dice|auc))\b"
)  # fmt: skip
_MODE = re.compile(r"\bmode\s*[=:]?\s*[\"']?(?P<mode>min|max)\b|\b(?P<verb>minimi[sz]e|maximi[sz]e)\b")
_MAX_METRICS = re.compile(r"acc|f1|map|iou|dice|auc|auroc|precision|recall|score|top1|top5|pck|oks|ap\b|ap50")
_EARLY_STOPPING = re.compile(r"\bearly[- ]?stop(?:ping)?\b|\bearlystopping\b")
_FREEZE = re.compile(
    r"\bfreez\w* (?:the )?(?:backbone|encoder|feature extractor|base|pretrained layers|body)\b"
    r"|\bfrozen (?:backbone|encoder|feature extractor)\b|\b(?:backbone|encoder) (?:frozen|freezing)\b|\blinear prob\w*"
)  # fmt: skip
_SCRATCH = re.compile(
    r"\bfrom scratch\b|\brandom(?:ly)? init\w*|\bno pretrain\w*|\bwithout pretrain\w*|\bweights=none\b"
)
_PRETRAINED = re.compile(
    r"\bpre-?trained\b|\bimagenet (?:weights|pretrain\w*|init\w*)\b|\bfine-?tun\w*|\btransfer learning\b"
)
_IMBALANCE = re.compile(
    r"\b(?:im|un)balanced?\b|\bimbalance\b|\blong[- ]tail\w*|\bskewed\b|\brare (?:class|classes|defects?|categor\w+)\b"
    r"|\bminority class\w*|\bonly (?:about |around |~)?\d+(?:\.\d+)? ?% (?:of (?:the )?(?:images|samples) )?(?:are |is )?(?:positive|defect\w*|anomal\w*|class)"
    r"|\b1 ?: ?\d{2,}\b|\bheavily (?:biased|skewed)\b|\bvery few (?:positives|defects|examples of)\b"
)  # fmt: skip


# One scan per slot: the slot's patterns joined as named alternatives (c0, c1, ...) in priority order.
_COMBINED: dict[str, tuple[re.Pattern[str], list[str]]] = {
    slot: (
        re.compile("|".join(f"(?P<c{index}>{pattern.pattern})" for index, (pattern, _) in enumerate(rules))),
        [value for _, value in rules],
    )
    for slot, rules in _CHOICES.items()
}


# Substrings without which a slot's patterns cannot match: a cheap test that skips most scans.
_GUARDS: dict[str, tuple[str, ...]] = {
    "optimizer": ("adam", "sgd", "rmsprop", "lion", "lamb", "adafactor", "adagrad", "nesterov", "stochastic"),
    "scheduler": ("cosine", "cycle", "plateau", "step", "poly", "exponential", "linear", "constant"),
    "loss": ("focal", "dice", "lov", "tversky", "smoothing", "entropy", "bce", "ce", "huber", "l1", "mse",
             "squared", "l2", "absolute", "iou", "arcface", "triplet", "contrastive", "nll"),
    "logger": ("mlflow", "w&b", "wandb", "weights", "tensor", "comet", "neptune", "csv"),
    "early_stopping": ("early",),
    "freeze_backbone": ("freez", "frozen", "linear prob"),
    "pretrained": ("scratch", "random", "pretrain", "pre-train", "weights=none", "imagenet", "fine", "transfer"),
    "class_imbalance": ("balance", "tail", "skew", "rare", "minority", "only", "1:", "1 :", "heavily", "few"),
}  # fmt: skip


def read_training_choices(r: Reader) -> None:
    """Named training choices (optimizer, scheduler, loss, logger), the monitored metric and flags."""
    for slot, (combined, values) in _COMBINED.items():
        if not r.mentions(*_GUARDS[slot]):
            continue
        hits: list[tuple[int, int, str]] = []
        for match in combined.finditer(r.text):
            if not r.is_claimed(*match.span()) and match.lastgroup is not None:
                hits.append((match.start(), match.end(), values[int(match.lastgroup[1:])]))
        refined = {value for _, _, value in hits} & _REFINES_CROSS_ENTROPY
        hits = [hit for hit in hits if not (refined and hit[2] in {"cross_entropy", "dice"})]
        for start, end, value in sorted(hits, key=lambda hit: (hit[0], -hit[1])):
            if not r.is_claimed(start, end):
                r.put(slot, value, start, end, slot)
    if r.mentions("val", "train", "test", "monitor", "track", "watch"):
        monitor = _MONITOR.search(r.text)
        if monitor:
            group = "m" if monitor.group("m") else "w"
            metric = monitor.group(group)
            r.put("monitor", metric, *monitor.span(group), "monitor", claim=False)
            mode = _MODE.search(r.text)
            if mode:
                said = mode.group("mode") or ("min" if mode.group("verb").startswith("minimi") else "max")
                r.put("monitor_mode", said, *mode.span(), "mode", claim=False)
            else:
                inferred = "max" if _MAX_METRICS.search(metric) and "loss" not in metric else "min"
                r.put("monitor_mode", inferred, *monitor.span(group), "inferred_from_metric", claim=False)
    for flag_pattern, flag_slot, flag in (
        (_EARLY_STOPPING, "early_stopping", True),
        (_FREEZE, "freeze_backbone", True),
        (_SCRATCH, "pretrained", False),
        (_PRETRAINED, "pretrained", True),
        (_IMBALANCE, "class_imbalance", True),
    ):
        if not r.mentions(*_GUARDS[flag_slot]):
            continue
        flag_match = flag_pattern.search(r.text)
        if flag_match and getattr(r.slots, flag_slot) is None:
            r.put(flag_slot, flag, *flag_match.span(), flag_slot, claim=False)

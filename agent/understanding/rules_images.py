"""Rules for the images and the data: image size and resolution, object sizes, dataset size, keypoints."""

from __future__ import annotations

import re

from agent.understanding.reader import NOT_BETWEEN, Reader, num, value_of
from agent.understanding.slot_types import Found
from agent.understanding.text import wordset

_OBJECT_WORDS = wordset("""object objects defect defects crack cracks target targets instance instances item items particle
    particles cell cells part parts thing things they them animal animals person people car cars vehicles
    vehicle bird birds insect insects pest pests lesion lesions nodule nodules fruit fruits boxes box
    detection detections ships ship faces face text characters letters""")


_IMAGE_WORDS = wordset("""image images frame frames input inputs resolution photo photos picture pictures scan scans video
    videos tile tiles crop crops patch patches slide slides img imgs canvas""")


_DISPLAY_RESOLUTIONS = {
    (320, 240), (640, 480), (800, 600), (1024, 768), (1280, 720), (1280, 960), (1280, 1024), (1366, 768),
    (1600, 900), (1600, 1200), (1920, 1080), (1920, 1200), (2048, 1080), (2560, 1440), (2560, 1600),
    (3840, 2160), (4096, 2160), (7680, 4320),
}  # fmt: skip


_P_RESOLUTIONS = {"480p": (480, 854), "576p": (576, 1024), "720p": (720, 1280), "1080p": (1080, 1920),
                  "1440p": (1440, 2560), "2160p": (2160, 3840), "4320p": (4320, 7680)}  # fmt: skip


_NXN = re.compile(
    r"(?<![\w.])(?P<a>\d{2,5})(?:\s*[x*]\s*|\s+(?P<by>by)\s+)(?P<b>\d{2,5})(?P<px>\s*(?:px|pixels?))?(?![\w])"
)


_RES_WORD = re.compile(r"(?<![\w.])(?P<k>[48]k|uhd|full[- ]hd|fhd|qhd)(?![\w-])")


_P_RES = re.compile(r"(?<![\w.])(?P<p>480p|576p|720p|1080p|1440p|2160p|4320p)(?![\w])")


_RANGE_PX = re.compile(
    rf"(?:between\s+)?{num('lo')}\s*(?:-|–|to|and|~)\s*{num('hi', glued=True)}\s*(?:px|pixels?|pixel)\b"  # noqa: RUF001
)


_PX = re.compile(rf"{num(glued=True)}\s*(?:px|pixels?)\b")


_SIZE_PHRASES = re.compile(
    rf"(?:image[ _]?size|img[ _]?size|imgsz|\bimg(?=\s*[=:])|input[ _]size|input[ _]resolution|resolution|input(?:s)? (?:of|at)"
    rf"|bildgr(?:ö|oe)(?:ß|ss)e|eingabegr(?:ö|oe)(?:ß|ss)e|aufl(?:ö|oe)sung|taille (?:d'?image|des images|d'entr[ée]e)"
    rf"|r[ée]solution|tama(?:ñ|n)o (?:de (?:la )?)?imagen|resoluci[óo]n|tamanho (?:da )?imagem|resolu[çc][ãa]o"
    rf"|dimensione (?:dell'?)?immagine|risoluzione|(?:imagens|im[áa]genes|immagini|bilder|images|obrazy) (?:de|di|von|of|at|a|em|en)"
    rf"|resize(?:d)?(?: \w+)? to|crops? of|train(?:ing)? at|inference at|at a resolution of|downscale(?:d)? to)"
    rf"\s*(?:of|=|:|is|to|at|around|about)?\s*{num()}(?!\s*(?:x|\*)\s*\d)"
)


# "an image classifier, resnet50, 10 classes, 224": a bare list item that is a usual input size, in a model spec.
_BARE_SIZE = re.compile(r"(?:^|[,;]\s*|\band\s+)(?P<n>\d{2,4})\s*(?=[,;.!]|$|\s+(?:please|pls|thanks)\b)")
_COMMON_INPUT_SIZES = frozenset(
    {
        64,
        96,
        112,
        128,
        160,
        192,
        224,
        240,
        256,
        288,
        299,
        320,
        384,
        416,
        448,
        480,
        512,
        576,
        640,
        768,
        800,
        1024,
    }
)
_MODEL_SPEC = re.compile(
    r"classif|detect|segment|backbone|resnet|efficientnet|convnext|mobilenet|vit\b|unet|model"
)
_SIZE_AFTER = re.compile(rf"{num()}\s*(?:px\s+|pixels?\s+)?(?:input|inputs|resolution|crops?)\b")


_TINY = re.compile(r"\b(?:tiny|very small|extremely small|minuscule|small)\s+(?:\w+\s+)?(?:objects?|defects?|targets?|things|items|particles|cracks|insects|pests|birds|cells|parts|details|features)\b")  # fmt: skip


def _size_subject(r: Reader, start: int, end: int) -> str | None:
    """Whether a pixel size describes the objects or the images: the nearest such noun decides."""
    after = r.words_after(end, 2)
    if len(after) == 2 and after[0] in {"wide", "tall", "across"} and after[1] in _IMAGE_WORDS:
        return "image"  # "1024 pixels wide images"
    if after and (
        after[0] in _OBJECT_WORDS or after[0] in {"wide", "tall", "across", "big", "large", "small"}
    ):
        return "object"
    if after and after[0] in _IMAGE_WORDS:
        return "image"
    for word in reversed(r.words_before(start, 7)):
        if word in _OBJECT_WORDS or word in {"tiny", "small"}:
            return "object"
        if word in _IMAGE_WORDS:
            return "image"
    return None


def _orient(a: int, b: int) -> tuple[int, int]:
    """``(height, width)`` from "AxB".

    Cameras, screens and photos are written width first and landscape ("1920x1080", "4000x3000"), so a large
    (640+ px) size with the first side longer is read as width x height; model inputs are written height first
    ("256x192" for top-down pose), and so is everything else.
    """
    if (a, b) in _DISPLAY_RESOLUTIONS or (a > b and a >= 640):
        return b, a
    return a, b


def read_sizes(r: Reader) -> None:
    """Image size (h, w) and object sizes: "NxM", "512 px", "4k", "1080p", "objects of 8-15 px".

    Runs before the counting rules so that the digits of a size are claimed and never counted as classes."""
    if not r.has_digit and not r.mentions("hd", "tiny", "small", "minuscule"):
        return
    for match in _NXN.finditer(r.text):
        a, b = int(match.group("a")), int(match.group("b"))
        if r.is_claimed(*match.span()) or min(a, b) < 8:
            continue
        if match.group("by") and not match.group("px") and _size_subject(r, *match.span()) != "image":
            continue  # "600 by 400" is a size only when images are being described ("divide 1000 by 32" is not)
        if _size_subject(r, *match.span()) == "object":
            r.put("object_size_px", (min(a, b), max(a, b)), *match.span(), "object_nxn")
        elif min(a, b) >= 16:
            r.put("image_size", _orient(a, b), *match.span(), "nxn")
        r.claim(*match.span())
    for match in _RES_WORD.finditer(r.text):
        word = match.group("k")
        following = r.words_after(match.end(), 2)
        if word[1:] == "k" and following and following[0] in {
            "images", "photos", "pictures", "samples", "examples", "labelled", "labeled", "annotated",
            "labels", "more", "training", "train", "steps", "iterations", "epochs",
        }:  # fmt: skip
            continue  # "4k images" is a count
        named = {"4k": (2160, 3840), "uhd": (2160, 3840), "8k": (4320, 7680), "qhd": (1440, 2560)}.get(
            word, (1080, 1920)
        )
        r.put("image_size", named, *match.span(), "resolution_name")
    for match in _P_RES.finditer(r.text):
        r.put("image_size", _P_RESOLUTIONS[match.group("p")], *match.span(), "resolution_p")
    for match in _RANGE_PX.finditer(r.text):
        if r.is_claimed(*match.span("lo")) or r.is_claimed(*match.span("hi")):
            continue
        lo, hi = int(value_of(match, "lo")), int(value_of(match, "hi"))
        if 0 < lo <= hi and _size_subject(r, *match.span()) != "image":
            r.put("object_size_px", (lo, hi), *match.span(), "px_range")
    for match in r.finditer(_PX):
        size = int(value_of(match))
        subject = _size_subject(r, *match.span())
        if subject == "object" or (subject is None and size < 32):
            r.put("object_size_px", (size, size), *match.span(), "px_object")
        elif size >= 16:
            r.put("image_size", (size, size), *match.span(), "px")
    for pattern, rule in ((_SIZE_PHRASES, "size_phrase"), (_SIZE_AFTER, "size_input")):
        for match in r.finditer(pattern):
            size = int(value_of(match))
            if 16 <= size <= 16384:
                r.put("image_size", (size, size), *match.span("n"), rule)
    if r.slots.image_size is None and _MODEL_SPEC.search(r.text):
        for match in _BARE_SIZE.finditer(r.text):
            size = int(match.group("n"))
            if size in _COMMON_INPUT_SIZES and not r.is_claimed(*match.span("n")):
                r.put("image_size", (size, size), *match.span("n"), "bare_list_size")
                break
    obj = r.slots.object_size_px
    tiny = _TINY.search(r.text)
    if tiny:
        r.put("tiny_objects", True, *tiny.span(), "tiny_words", claim=False)
    elif obj is not None and obj.value[1] <= 32:
        r.slots.tiny_objects = Found(True, obj.span, "object_size_at_most_32px")


_IMAGE_NOUNS = (
    r"(?:images|image|imgs|photos|photographs|pictures|pics|samples|examples|frames|scans|slides|crops|"
    r"videos|clips|tiles|patches|x-rays|xrays|radiographs|screenshots|documents|pages|records|datapoints|"
    r"data points|annotations|bilder|imágenes|immagini|imagens|fotos|foto's|afbeeldingen|zdjęć|zdjęcia|obrazów|"
    r"obrazy|aufnahmen|clichés|radios|radiographies|photographies)"
)


_KEYPOINTS = re.compile(
    rf"{num()}\s+(?:(?!(?:images?|photos?|per|of|and|with|in)\b)[a-z0-9]+\s+){{0,2}}(?:keypoints?|key[- ]points?|landmarks?|joints?|body points|points per)\b"
)


_KEYPOINTS_KEY = re.compile(rf"(?:num_keypoints|num_joints|number of (?:keypoints|landmarks|joints))\s*(?:=|:|is|of)?\s*{num()}")  # fmt: skip


def read_keypoints(r: Reader) -> None:
    """Number of keypoints ("17 COCO keypoints", "68 facial landmarks", "num_keypoints=14")."""
    if not r.has_digit or not r.mentions("key", "landmark", "joint", "point"):
        return
    for pattern in (_KEYPOINTS_KEY, _KEYPOINTS):
        for match in r.finditer(pattern):
            count = int(value_of(match))
            if 1 <= count <= 1000:
                r.put("num_keypoints", count, *match.span(), "keypoints")


_DATASET = re.compile(
    rf"{num()}\s+(?P<mid>(?:[a-z][\w'-]*\s+){{0,3}}?){_IMAGE_NOUNS}\b(?!\s+(?:per|for each|each|a|an)\b)"
)


_PER_CLASS = re.compile(
    rf"{num()}\s+(?:[a-z][\w-]*\s+)?{_IMAGE_NOUNS}\s+(?:per|for each|each|a|an)\s+(?:class|category|label|species|type)\b"
)


_LABELLED = re.compile(
    rf"{num()}\s+(?:hand[- ])?(?:labell?ed|annotated|tagged|labelled ones|examples)\b(?!\s+(?:classes|categories))"
)


_DATASET_KEY = re.compile(
    rf"(?:dataset|data set|training set|train set)(?: size)?\s*(?:of|with|has|size|is|contains|:|=|of about|of around|of roughly)?\s*"
    rf"(?:about|around|roughly|approximately|only|just)?\s*{num()}(?!\s*(?:classes|categories|gb|mb|tb|%))"
)  # fmt: skip


_DATASET_STOP = frozenset(NOT_BETWEEN - {"of", "and", "labelled"}) | {"classes", "class", "categories"}


_OF_THEM = re.compile(rf"{num()}\s+of them\b")
_IMAGE_NOUN_BEFORE = re.compile(rf"\b{_IMAGE_NOUNS}\b")


def read_dataset(r: Reader) -> None:
    """Dataset size ("10k images", "~800 labelled", "1.2M", "dataset of 40k") and images per class."""
    if not r.has_digit:
        return
    for match in r.finditer(_PER_CLASS):
        r.put("images_per_class", int(value_of(match)), *match.span(), "per_class")
    for match in r.finditer(_DATASET):
        middle = match.group("mid").split()
        if any(word in _DATASET_STOP or word in {"of", "per", "with", "for"} for word in middle):
            continue
        count = int(value_of(match))
        if count >= 10:
            r.put("dataset_size", count, *match.span(), "n_images")
    for match in r.finditer(_OF_THEM):
        # "photos are 768x768, about 1.5k of them": the count refers back to images named just before.
        if _IMAGE_NOUN_BEFORE.search(r.text[max(0, match.start() - 60) : match.start()]):
            count = int(value_of(match))
            if count >= 10:
                r.put("dataset_size", count, *match.span("n"), "n_of_them")
    for pattern, rule in ((_LABELLED, "n_labelled"), (_DATASET_KEY, "dataset_keyword")):
        for match in r.finditer(pattern):
            count = int(value_of(match))
            if count >= 10:
                r.put("dataset_size", count, *match.span("n"), rule)

"""Chinese requests read through a small glossary, so that the English rules understand them.

The rules and the slot parser are written for space-separated languages; a Chinese message ("please generate
an image classification project with 10 classes", written in Chinese) has no word boundaries for them to hold on to. The core requests (review, generate,
recommend) and their slots (task, counts of classes and images) use a small, closed vocabulary, so a glossary
that rewrites those phrases into English keywords ("generate", "image classification", "10 classes") is exact
where it applies and leaves everything else untouched. The glossary is data (``_GLOSSARY``), longest phrase
first; :func:`has_cjk` tells the language detector that a message is Chinese.
"""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u4e00-\u9fff]")

# Phrase -> English keywords; longer phrases first so "目标检测" wins over "检测".
_GLOSSARY: tuple[tuple[str, str], ...] = (
    ("实例分割", "instance segmentation"),
    ("语义分割", "semantic segmentation"),
    ("图像分类", "image classification"),
    ("目标检测", "object detection"),
    ("异常检测", "anomaly detection"),
    ("关键点", "keypoints"),
    ("分类器", "classifier"),
    ("检测器", "detector"),
    ("分类", "classification"),
    ("检测", "detection"),
    ("分割", "segmentation"),
    ("推荐什么模型", "which model do you recommend"),
    ("用什么模型", "which model should i use"),
    ("什么模型", "which model"),
    ("什么架构", "which architecture"),
    ("推荐", "recommend"),
    ("建议", "suggest"),
    ("帮我检查", "please review"),
    ("检查一下", "review"),
    ("审查", "review"),
    ("检查", "review"),
    ("修复", "fix"),
    ("导出", "export"),
    ("冒烟测试", "smoke test"),
    ("生成", "generate"),
    ("创建", "create"),
    ("搭建", "build"),
    ("项目", "project"),
    ("代码", "code"),
    ("模型", "model"),
    ("缺陷", "defect"),
    ("零件", "parts"),
    ("工厂", "factory"),
    ("图片", "images"),
    ("图像", "images"),
    ("照片", "photos"),
    ("大概", "about"),
    ("大约", "about"),
    ("帮我", "please"),
    ("一个", "a"),
)
_COUNTS = (
    (re.compile(r"(\d+)\s*(?:个)?\s*(?:类别|类|种类别|个类)"), r" \1 classes "),
    (re.compile(r"(\d+)\s*(?:张|幅|个)?\s*(?:图片|图像|照片|images|photos)"), r" \1 images "),
    (re.compile(r"(\d+)\s*(?:像素|px)"), r" \1 px "),
)
# Full-width punctuation (comma, full stop, question and exclamation marks, colon, semicolon, enumeration comma).
_PUNCTUATION = str.maketrans(
    {
        "\uff0c": ", ",
        "\u3002": ". ",
        "\uff1f": "? ",
        "\uff01": "! ",
        "\uff1a": ": ",
        "\uff1b": "; ",
        "\u3001": ", ",
    }
)


def has_cjk(text: str) -> bool:
    """Whether the message contains Chinese characters."""
    return bool(_CJK.search(text))


def gloss(text: str) -> str:
    """``text`` with known Chinese phrases replaced by English keywords; other text is returned unchanged."""
    if not has_cjk(text):
        return text
    out = text.translate(_PUNCTUATION)
    for pattern, replacement in _COUNTS:
        out = pattern.sub(replacement, out)
    for phrase, english in _GLOSSARY:
        out = out.replace(phrase, f" {english} ")
    out = _COUNTS[1][0].sub(_COUNTS[1][1], out)
    return re.sub(r"[ \t]{2,}", " ", out).strip()

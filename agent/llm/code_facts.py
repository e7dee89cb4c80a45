"""Answers about the thread's own code ("what loss did you put in there?", "what image size is it using?").

The answer is read from the files themselves (the generated project, the edited or pasted code) with the file and
line it comes from; nothing is assumed about code the thread does not hold.
"""

from __future__ import annotations

import re

# topic -> (words in the question, pattern of the line that answers it)
_TOPICS: dict[str, tuple[str, str]] = {
    "loss": (
        r"\bloss(?:es)?\b|\bcriterion\b",
        r"nn\.\w*Loss\(|F\.\w*(?:cross_entropy|loss)\w*\(|focal_loss|\bcriterion\s*=",
    ),
    "image size": (r"image[ _-]?size|resolution|input size|\bpx\b", r"\bimage_size\b\s*[:=]"),
    "backbone": (r"\bbackbone\b|\barchitecture\b", r"\bbackbone\b\s*[:=]|get_model\(|models\.\w+\("),
    "learning rate": (r"\blr\b|learning[ -]rate", r"\blr\b\s*[:=]"),
    "batch size": (r"batch[ _-]?size", r"\bbatch_size\b\s*[:=]"),
    "optimizer": (r"\boptimi[sz]er\b|\badam\w*\b|\bsgd\b", r"optim\.\w+\("),
    "scheduler": (r"\bschedul\w*\b|warm-?up", r"lr_scheduler\.\w+\(|\bscheduler\b\s*="),
    "precision": (r"\bprecision\b|\bbf16\b|\bfp16\b|mixed", r"\bprecision\b\s*[:=]"),
    "epochs": (r"\bepochs?\b", r"\bmax_epochs\b\s*[:=]"),
}
_ABOUT_THE_CODE = re.compile(
    r"\b(?:it|there|in there|the project|the code|my code|your code|you (?:put|use|used|chose|picked)|"
    r"did (?:u|you)|is it|does it|end up)\b",
    re.IGNORECASE,
)


# "what loss would you use if the lines are 1% of the pixels?" asks for advice, not for what the code does.
_ADVICE = re.compile(
    r"^\W*(?:(?:and|so|ok|okay|also)\W+)?how (?:do|can|should|would|to)\b|\b(?:would|should|could) (?:you|u|i|we)\b|\bif (?:the|my|our|it|we|i|there)\b|\b(?:better|recommend\w*|best)\b",
    re.IGNORECASE,
)
_ASKS_WHAT_IS = re.compile(r"\b(?:did|does|do) (?:it|you|u|the code|the project)\b|\bis it\b", re.IGNORECASE)


def code_facts(question: str, files: dict[str, str]) -> str | None:
    """Lines of ``files`` that answer a question about the code, or None when the question is not about it."""
    if not _ABOUT_THE_CODE.search(question):
        return None
    if _ADVICE.search(question) and not _ASKS_WHAT_IS.search(question):
        return None
    topics = [name for name, (asked, _) in _TOPICS.items() if re.search(asked, question, re.IGNORECASE)]
    if not topics:
        return None
    sections = []
    for topic in topics[:3]:
        pattern = re.compile(_TOPICS[topic][1])
        hits = [
            f"- `{path}:{number}`: `{line.strip()[:140]}`"
            for path, text in sorted(files.items())
            if path.endswith(".py")
            for number, line in enumerate(text.splitlines(), start=1)
            if pattern.search(line) and not re.match(r"\s*(?:#|if |elif |raise |assert |return )", line)
        ]
        if hits:
            sections.append(
                f"**{topic.capitalize()}** in the code of this conversation:\n" + "\n".join(hits[:6])
            )
        else:
            sections.append(
                f"**{topic.capitalize()}**: I find no line that sets it in the code of this conversation."
            )
    return "\n\n".join(sections)

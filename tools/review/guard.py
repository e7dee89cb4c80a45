"""Cheap checks that decide whether LibCST may see a text at all.

Why: LibCST's native parser recurses on the C stack. About 1,100-1,300 nested brackets overflow it and the whole
process dies with SIGSEGV, and its time grows faster than linearly with expression depth (``a[0][0]...`` 3,000
deep: 30 s; ``a+a+...`` 4,000 terms: 20 s), holding the GIL all along. CPython's own parser is bounded: its
tokenizer refuses more than 200 nested brackets, and building the tree stops with ``RecursionError`` long before
the C stack is at risk. So CPython parses first, in milliseconds, and the tree's depth decides: real code peaks
at about 30 levels (Lightning, torch.nn and LibCST's own sources), LibCST is fast and safe at 100, and anything
deeper is refused with a clear reason instead of being handed to LibCST.

The tree is returned so the indexer's position pass can reuse it instead of parsing the file twice.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

MAX_AST_DEPTH = 100
"""Deepest syntax tree handed to LibCST (real code: about 30; LibCST at 100: under 0.1 s, far from the stack)."""

_NESTING_SYNTAX_ERRORS = ("too many nested parentheses", "too many levels of indentation")


@dataclass(frozen=True)
class SourceCheck:
    """What CPython's parser says about a text before LibCST sees it.

    ``tree`` is the parsed module when CPython could parse it. ``refusal`` is set when LibCST must not see the
    text at all (it nests too deeply). A text with an ordinary syntax error has neither: LibCST may still parse
    syntax that this interpreter does not know (newer Python), and reports the error itself otherwise.
    """

    tree: ast.Module | None
    refusal: str | None = None


def ast_depth_exceeds(tree: ast.AST, limit: int) -> int | None:
    """The depth first found above ``limit`` (iterative walk, stops at once), or None when the tree fits."""
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return depth
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return None


def check_source(source: str, path: str = "<unknown>", max_depth: int = MAX_AST_DEPTH) -> SourceCheck:
    """Parse with CPython and decide whether the text is safe to hand to LibCST."""
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as error:
        if any(reason in (error.msg or "") for reason in _NESTING_SYNTAX_ERRORS):
            return SourceCheck(None, f"the code nests too deeply to be reviewed safely ({error.msg})")
        return SourceCheck(None)
    except (RecursionError, MemoryError):
        return SourceCheck(
            None, "the code nests too deeply to be reviewed safely (an expression of thousands of levels)"
        )
    except ValueError:  # null bytes and similar: LibCST reports them as parse errors
        return SourceCheck(None)
    if ast_depth_exceeds(tree, max_depth) is not None:
        return SourceCheck(
            None,
            f"the code nests too deeply to be reviewed safely (its syntax tree is more than {max_depth} levels "
            "deep; real code stays under about 30)",
        )
    return SourceCheck(tree)

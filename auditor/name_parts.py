"""Parts of the names Jets creates, as values: a requirement's resource (or a value a request carries)
that holds such a part is a `Named`, literal text and `NamePart`s side by side.

rules/names.toml gives each part its characters: a function's name after `{ns}-` is letters, digits,
`-` and `_`; a bucket's random id lower-case letters and digits. The evaluator decides coverage over
exactly those names (glob_text.requirement_pattern turns a NamePart into automaton tokens of its class).
Nothing is ever marked inside a string: a policy's text, whatever characters it holds, is only text.

`Text` is what a requirement's resource, or a request's value, is: plain text (a str, in the
requirement syntax for a resource: `*` a name without a colon, `**` any string, a lone "*" the
resource "*"), or a Named. A name part never holds a colon, so the colons of a Named are those of its
text, and `split` and `join` take an ARN apart and put it together again part by part.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple


class NamePart(NamedTuple):
    """Any run of these characters, at least `least` (0 or 1) of them."""

    chars: frozenset[str]
    least: int = 0


class Named(NamedTuple):
    """Literal text and name parts, in order (no two texts side by side, no empty text)."""

    pieces: tuple[str | NamePart, ...]


Text = str | Named  # a requirement's resource or a request's value: plain text, or text with name parts


def join(pieces: Iterable[str | NamePart | Named]) -> Text:
    """The pieces one after another: a str when no piece is a name part, else a Named."""
    out: list[str | NamePart] = []
    for piece in pieces:
        for part in piece.pieces if isinstance(piece, Named) else (piece,):
            if isinstance(part, str):
                if not part:
                    continue
                if out and isinstance(out[-1], str):
                    out[-1] += part
                    continue
            out.append(part)
    if not out:
        return ""
    if len(out) == 1 and isinstance(out[0], str):  # (adjacent texts are one: no name part at all)
        return out[0]
    return Named(tuple(out))


def join_by(sep: str, parts: Iterable[Text]) -> Text:
    """`sep.join(parts)` for Texts: `split`'s inverse."""
    return join(piece for i, part in enumerate(parts) for piece in ((sep, part) if i else (part,)))


def split(text: Text, sep: str, maxsplit: int = -1) -> list[Text]:
    """`str.split` for a Text (a name part never holds `sep`, which is a character of the text)."""
    if isinstance(text, str):
        return list(text.split(sep, maxsplit))
    parts: list[list[str | NamePart]] = [[]]
    for piece in text.pieces:
        if isinstance(piece, NamePart):
            parts[-1].append(piece)
            continue
        left = maxsplit - len(parts) + 1 if maxsplit >= 0 else -1
        first, *rest = piece.split(sep, left)
        parts[-1].append(first)
        parts.extend([r] for r in rest)
    return [join(p) for p in parts]


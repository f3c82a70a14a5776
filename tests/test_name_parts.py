"""Name parts as values (auditor/name_parts.py): text and NameParts side by side, taken apart at colons
and put together again; a Named is never a str, so no text is ever read as a name part."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from auditor.catalogue import Naming, load
from auditor.name_parts import NamePart, Named, join, join_by, split

DIGITS = NamePart(frozenset("0123456789"), 1)
LOWER = NamePart(frozenset("abc"), 0)

pieces = st.lists(st.one_of(st.text(alphabet="ab:*/\x1e\x1f", max_size=4), st.sampled_from([DIGITS, LOWER])), max_size=6)


@given(pieces)
def test_join_keeps_the_order_and_merges_text(parts):
    joined = join(parts)
    if all(isinstance(p, str) for p in parts):
        assert joined == "".join(parts)
        return
    assert isinstance(joined, Named)
    assert [p for p in joined.pieces if isinstance(p, NamePart)] == [p for p in parts if isinstance(p, NamePart)]
    assert all(p for p in joined.pieces)  # no empty text
    assert not any(isinstance(a, str) and isinstance(b, str) for a, b in zip(joined.pieces, joined.pieces[1:]))
    assert "".join(p for p in joined.pieces if isinstance(p, str)) == "".join(p for p in parts if isinstance(p, str))


@given(pieces, st.integers(-1, 6))
def test_split_is_str_split_and_join_by_puts_it_back(parts, maxsplit):
    text = join(parts)
    found = split(text, ":", maxsplit)
    assert join_by(":", found) == text
    if maxsplit == -1:
        assert not any(isinstance(p, str) and ":" in p for part in found for p in (part.pieces if isinstance(part, Named) else (part,)))
    if isinstance(text, str):
        assert found == text.split(":", maxsplit)
    else:
        assert len(found) == len(join([p if isinstance(p, str) else "x" for p in text.pieces]).split(":", maxsplit))


def test_the_catalogue_writes_name_parts_as_values():
    cat = load()
    pattern = Naming("demo", "dev", "5").pattern("arn:{partition}:s3:::{ns_lower}-s3bucket-{*random_lower}", cat.names)
    assert pattern == Named(("arn:aws:s3:::demo-dev-s3bucket-", cat.names["random_lower"].part))
    anywhere = Naming("*", "*", "5").pattern("arn:{partition}:lambda:{region}:{account}:function:{ns}-{*function}", cat.names)
    assert isinstance(anywhere, Named) and [p for p in anywhere.pieces if isinstance(p, str)] == [
        "arn:aws:lambda:*:*:function:", "-", "-"]
    assert Naming("demo", "dev", "5").pattern("arn:{partition}:s3:::x\x1e*\x1f", cat.names) == "arn:aws:s3:::x\x1e*\x1f"

"""The ASCII fast paths and caches of normalize give what the general paths give."""

from __future__ import annotations

import string
import unicodedata

import phonenumbers
from anyascii import anyascii
from hypothesis import given, settings
from hypothesis import strategies as st

from graph import normalize as n
from graph.normalize import phone
from graph.normalize import text as text_module

ASCII_TEXT = st.text(alphabet=st.characters(max_codepoint=127), max_size=30)
ANY_TEXT = st.text(max_size=30)
PADDED_PLACEHOLDERS = st.builds(
    lambda pad, p, upper: pad + (p.upper() if upper else p) + pad,
    st.sampled_from(["", " ", "\t", "  \n ", " " * 12]),
    st.sampled_from(sorted(n.BLANK_PLACEHOLDERS)),
    st.booleans(),
)


class _Text(str):
    """A str subclass: clean_text takes its general path for it."""


def _generic_fold_chars(text: str) -> str:
    folded = anyascii(unicodedata.normalize("NFC", text).casefold()).lower()
    kept = "".join(
        c for c in folded.translate(text_module._FOLD_TABLE) if c.isalnum() or c.isspace()
    )
    return " ".join(kept.split())


@settings(max_examples=500)
@given(st.one_of(ASCII_TEXT, ANY_TEXT, PADDED_PLACEHOLDERS))
def test_ascii_clean_text_matches_the_general_path(text: str) -> None:
    assert n.clean_text(text) == n.clean_text(_Text(text))


@settings(max_examples=500)
@given(st.one_of(ASCII_TEXT, ANY_TEXT))
def test_fold_chars_matches_the_general_folding(text: str) -> None:
    assert text_module.fold_chars(text) == _generic_fold_chars(text)


@settings(max_examples=500)
@given(st.one_of(ASCII_TEXT, ANY_TEXT))
def test_phone_digits_match_phonenumbers(text: str) -> None:
    assert phone._digits(text) == phonenumbers.normalize_digits_only(text)


def test_fold_ascii_table_keeps_letters_digits_and_spaces_only() -> None:
    for c in map(chr, range(128)):
        expected = _generic_fold_chars("a" + c + "b")
        assert text_module.fold_chars("a" + c + "b") == expected, repr(c)
    assert text_module.fold_chars(string.punctuation) == ""


def test_cached_verdicts_keep_each_calls_raw_text() -> None:
    first, second = n.normalize_email("Ann@Example.org "), n.normalize_email(" ann@example.org")
    assert (first.raw, second.raw) == ("Ann@Example.org ", " ann@example.org")
    assert first.value == second.value
    one, other = n.normalize_phone("+44 7700 900123"), n.normalize_phone(" +44 7700 900123")
    assert (one.raw, other.raw) == ("+44 7700 900123", " +44 7700 900123")
    assert one.key == other.key == "+447700900123"


def test_address_words_fold_the_same_twice() -> None:
    for line in ("C/ del Olmo 7", "c c c", "Hauptstraße 5", "4 Mill Lane", "ul. Długa 5/3"):
        assert n.fold_address(line) == n.fold_address(line)
    assert n.fold_address("c c street") == "calle c st"

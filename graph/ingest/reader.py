"""Streaming readers for CSV and JSON Lines files, yielding ``(line number, row)``."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from graph.errors import FieldError, ValidationError

__all__ = ["FORMATS", "RowError", "detect_format", "iter_rows"]

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


class RowError(Exception):
    """A line that could not be read as a row at all (bad JSON, not an object)."""

    def __init__(self, line: int, reason: str):
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}")


def detect_format(path: Path) -> str:
    """``"csv"`` or ``"jsonl"`` from the file extension; raises :class:`ValidationError`."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValidationError(
            FieldError("file", f"{path.name}: unknown format; use .csv or .jsonl (JSON Lines)")
        )
    return fmt


def iter_rows(path: Path) -> Iterator[tuple[int, dict[str, object] | RowError]]:
    """See :func:`_rows`. A line that is not UTF-8 (a latin-1 byte in a UTF-8 file) yields a
    :class:`RowError` naming its line and byte; every other line is read."""
    yield from _rows(path)


def _undecodable(text: str) -> str | None:
    """Why ``text`` (decoded with ``surrogateescape``) is not UTF-8, or None when it is."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        byte = ord(text[exc.start]) - 0xDC00
        return (
            f"not UTF-8 text (byte 0x{byte:02x} at character {exc.start + 1}); the line was "
            "skipped: convert the file, e.g. iconv -f latin1 -t utf-8"
        )
    return None


def _rows(path: Path) -> Iterator[tuple[int, dict[str, object] | RowError]]:
    """Yield ``(line, row)`` for each data row of ``path``; a bad line yields a RowError.

    CSV: the first line is the header; values are strings, empty cells are "". ``line`` is the
    1-based physical line where the row starts. JSON Lines: one object per line; blank lines
    are skipped.
    """
    if detect_format(path) == "csv":
        yield from _csv_rows(path)
    else:
        yield from _jsonl_rows(path)


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, object] | RowError]]:
    # csv.reader rather than DictReader: DictReader skips blank lines without saying so, and
    # line_num counts them, so the line a row starts on is only known when skipping here.
    # undecodable bytes become lone surrogates (surrogateescape), found per row, so one bad
    # line is rejected alone instead of failing the whole file
    with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:  # an empty file has no rows
            return
        bad = _undecodable("".join(header))
        if bad is not None:  # no row can be named: the whole file is refused
            raise ValidationError(FieldError("file", f"{path.name} line 1 (the header): {bad}"))
        names = [name.strip() for name in header]
        while True:
            line = reader.line_num + 1
            cells = next(reader, None)
            if cells is None:
                return
            if not cells:  # a blank line
                continue
            bad = _undecodable("".join(cells))
            if bad is not None:
                yield line, RowError(line, bad)
            elif len(cells) > len(names):
                yield line, RowError(line, "more cells than header columns")
            else:
                row: dict[str, object] = dict(zip(names, cells, strict=False))
                row.update(dict.fromkeys(names[len(cells) :]))  # short row: missing cells None
                yield line, row


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, object] | RowError]]:
    with path.open(encoding="utf-8-sig", errors="surrogateescape") as fh:
        for number, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            bad = _undecodable(text)
            if bad is not None:
                yield number, RowError(number, bad)
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as exc:
                yield number, RowError(number, f"not valid JSON ({exc.msg} at column {exc.colno})")
                continue
            if not isinstance(row, dict):
                yield number, RowError(number, "a JSON Lines row must be an object")
                continue
            yield number, row

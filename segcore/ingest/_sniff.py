"""Look at a file before importing it: format, text encoding, CSV dialect and header.

Only the first megabyte is read here (in Python, to name the exact line of a
problem); DuckDB reads the whole file later, with the options found here passed
explicitly so that its own sniffer cannot guess differently on a ragged file.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError

__all__ = ["FileInfo", "detect_format", "detect_encoding", "inspect_file", "max_import_bytes", "FORMATS"]

FORMATS = ("csv", "parquet", "jsonl")
_EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet",
               ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
ENCODINGS = ("utf-8", "utf-16", "latin-1")  # what DuckDB reads without an extension download
_DELIMITERS = (",", ";", "\t", "|")
_HEAD_BYTES = 1 << 20
_DEFAULT_MAX_MB = 5120


def max_import_bytes() -> int:
    """The largest file an import accepts: ``SEGCORE_MAX_IMPORT_MB`` megabytes (default 5 GB)."""
    raw = os.environ.get("SEGCORE_MAX_IMPORT_MB", "")
    try:
        mb = float(raw) if raw.strip() else _DEFAULT_MAX_MB
    except ValueError:
        raise InputError(f"SEGCORE_MAX_IMPORT_MB={raw!r} should be a number of megabytes") from None
    return int(mb * (1 << 20))


def _mb(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:,} bytes"


def detect_format(path: str | Path, *, max_bytes: int | None = None) -> str:
    """``csv``, ``parquet`` or ``jsonl``, from the extension or else the file's first bytes.

    Raises InputError for a missing, empty, oversized or binary file.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"file {str(path)!r} does not exist")
    if path.is_dir():
        raise InputError(f"{str(path)!r} is a folder, not a file")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"file {path.name!r} is empty: export it again with its rows")
    limit = max_import_bytes() if max_bytes is None else int(max_bytes)
    if size > limit:
        raise InputError(f"file {path.name!r} is {_mb(size)}, over the import limit of {_mb(limit)}: split it, "
                         "or raise the limit with SEGCORE_MAX_IMPORT_MB")
    with path.open("rb") as fh:
        head = fh.read(8192)
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if head[:4] == b"PAR1":
        return "parquet"
    if fmt == "parquet":
        raise InputError(f"{path.name!r} is named like Parquet but is not a Parquet file")
    if _looks_binary(head):
        raise InputError(f"{path.name!r} looks like binary data, not text: import a CSV, Parquet or "
                         "JSON Lines file")
    if fmt:
        return fmt
    return "jsonl" if head.lstrip(codecs.BOM_UTF8).lstrip()[:1] == b"{" else "csv"


def _looks_binary(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 9 or 13 < b < 32)
    return control > 0.05 * max(len(head), 1)


def detect_encoding(head: bytes, complete: bool) -> str:
    """``utf-16`` (by byte-order mark), ``utf-8`` when the bytes decode, else ``latin-1``.

    ``complete`` says whether ``head`` is the whole file (else a cut character at its end is fine).
    """
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
        return "utf-8"
    except UnicodeDecodeError:
        return "latin-1"


@dataclass
class FileInfo:
    """What an import will read: the format and, for CSV, the options to read it with."""

    path: Path
    fmt: str
    csv_options: dict = field(default_factory=dict)

    def describe(self) -> str:
        if self.fmt != "csv":
            return {"parquet": "Parquet", "jsonl": "JSON Lines"}[self.fmt]
        o = self.csv_options
        delim = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(o["delimiter"], repr(o["delimiter"]))
        return (f"CSV, {delim}-separated, {o['encoding']}, "
                + ("decimal comma, " if o.get("decimal") == "," else "")
                + ("with a header row" if o["header"] else "no header row (columns numbered)"))


def _decode_head(path: Path, encoding: str) -> tuple[str, bool]:
    with path.open("rb") as fh:
        raw = fh.read(_HEAD_BYTES)
    complete = len(raw) < _HEAD_BYTES
    codec = "utf-16" if encoding == "utf-16" else encoding
    try:
        text = codecs.getincrementaldecoder(codec)().decode(raw, final=complete)
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError(f"{path.name!r} is not valid {encoding} (byte {raw[exc.start]:#04x} on line {line}): "
                         "give its encoding, latin-1 for example", cli="--encoding latin-1",
                         app="How the file is read, Encoding") from None
    text = text.lstrip("\ufeff")
    if not complete:  # the last line may be cut: drop it
        text = text[: text.rfind("\n") + 1]
    return text, complete


def _rows(text: str, delimiter: str, quote: str) -> list[tuple[int, list[str]]]:
    """Non-blank records with the line each ends on (quoted fields may span lines)."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar=quote or None,
                        quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE, strict=False)
    try:
        return [(reader.line_num, row) for row in reader if row]
    except csv.Error as exc:
        raise InputError(f"cannot split the file into fields: {exc}") from None


def _guess_delimiter(text: str) -> str:
    """The candidate that splits the first lines into the same number (>1) of fields most often."""
    lines = text.splitlines()[:200]
    best, best_score = ",", -1.0
    for d in _DELIMITERS:
        counts = [len(r) for _, r in _rows("\n".join(lines), d, '"')]
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        if mode < 2:
            continue
        score = counts.count(mode) / len(counts) + (0.001 if d == "," else 0)
        if score > best_score:
            best, best_score = d, score
    return best


_COMMA_DECIMAL = re.compile(r"^-?\d{1,3}(\.\d{3})*,\d+$|^-?\d+,\d+$")
_POINT_DECIMAL = re.compile(r"^-?\d+\.\d+$")


def _guess_decimal(rows: list[tuple[int, list[str]]], delimiter: str) -> str:
    """',' when a non-comma-separated file writes numbers like 3,5 and never like 3.5."""
    if delimiter == ",":
        return "."
    cells = [c.strip() for _, row in rows[:500] for c in row]
    comma = sum(bool(_COMMA_DECIMAL.match(c)) for c in cells)
    point = sum(bool(_POINT_DECIMAL.match(c)) for c in cells)
    return "," if comma > 0 and point == 0 else "."


def _is_number(s: str) -> bool:
    try:
        float(s.replace(",", "."))
        return True
    except ValueError:
        return False


def inspect_file(path: str | Path, overrides: dict | None = None, *, max_bytes: int | None = None) -> FileInfo:
    """Find a file's format and, for CSV, its encoding, delimiter, quote and header.

    Parameters
    ----------
    path : str or Path
    overrides : dict, optional
        CSV options the user gave (``delimiter``, ``quote``, ``header``,
        ``encoding``); the rest are detected.
    max_bytes : int, optional
        Refuse larger files (default :func:`max_import_bytes`).

    Raises
    ------
    InputError
        Naming the file and line for empty, header-only, ragged, wrongly
        encoded and binary files, and for blank or repeated column names.
    """
    path = Path(path)
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None and v != ""}
    fmt = detect_format(path, max_bytes=max_bytes)
    if fmt != "csv":
        if overrides:
            raise InputError(f"{', '.join(overrides)} only apply to CSV files; {path.name!r} is "
                             f"{'Parquet' if fmt == 'parquet' else 'JSON Lines'}")
        return FileInfo(path, fmt)
    enc = overrides.get("encoding")
    if enc is not None and enc not in ENCODINGS:
        raise InputError(f"encoding {enc!r} is not supported: use one of {', '.join(ENCODINGS)}")
    if enc is None:
        with path.open("rb") as fh:
            raw = fh.read(_HEAD_BYTES)
        enc = detect_encoding(raw, complete=len(raw) < _HEAD_BYTES)
    text, _ = _decode_head(path, enc)
    if not text.strip():
        raise InputError(f"file {path.name!r} has no text in it")
    delimiter = overrides.get("delimiter")
    if delimiter is None:
        delimiter = _guess_delimiter(text)
    if delimiter == "\\t":
        delimiter = "\t"
    if len(delimiter) != 1:
        raise InputError(f"delimiter {delimiter!r} should be one character")
    quote = overrides.get("quote", '"')
    rows = _rows(text, delimiter, quote)
    first = rows[0][1] if rows else []
    header = overrides.get("header")
    if header is None:
        # a first line made only of numbers is data, not names
        header = not all(_is_number(v.strip()) for v in first if v.strip()) or not any(first)
    header = bool(header)
    width = len(first)
    if header:
        names = [v.strip() for v in first]
        blank = [i + 1 for i, n in enumerate(names) if not n]
        if blank:
            raise InputError(f"column {blank[0]} of {path.name!r} has no name in the header: name it "
                             "(a blank first name is often a saved row index: export without it)")
        seen: dict[str, int] = {}
        for i, n in enumerate(names):
            if n in seen:
                raise InputError(f"column {n!r} appears twice in the header of {path.name!r} "
                                 f"(columns {seen[n] + 1} and {i + 1}): rename one")
            seen[n] = i
        data_rows = rows[1:]
        if not data_rows:
            raise InputError(f"{path.name!r} has a header but no rows")
    else:
        data_rows = rows
    if width < 2:
        fix = "check the delimiter" if "delimiter" in overrides else "give the delimiter, ';' for example"
        raise InputError(f"{path.name!r} splits into a single column with {delimiter!r}: {fix}",
                         cli="--delimiter ';'", app="How the file is read, Delimiter")
    for line, row in data_rows:
        if len(row) != width:
            raise InputError(f"line {line} of {path.name!r} has {_fields(len(row))} where the "
                             f"{'header has' if header else 'first line has'} {width}: fix or remove the row")
    decimal = overrides.get("decimal")
    if decimal is None:
        decimal = _guess_decimal(data_rows, delimiter)
    options = {"delimiter": delimiter, "quote": quote, "header": header, "encoding": enc, "decimal": decimal}
    return FileInfo(path, "csv", options)


def reader_error(exc: Exception, path: str | Path, fmt: str) -> InputError:
    """A DuckDB reader error as one line for a person: the line, the problem and the fix."""
    name = Path(path).name
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    first = re.sub(r"^[A-Za-z ]*Error: ", "", first)
    line = re.search(r"CSV Error on Line: (\d+)", text) or re.search(r"in line (\d+)", text)
    where = f"line {line.group(1)} of {name!r}" if line else repr(name)
    columns = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if columns:
        return InputError(f"{where} has {_fields(int(columns.group(2)))} where the header has "
                          f"{columns.group(1)}: fix or remove the row")
    if "unicode" in text.lower() or ("encoding" in text.lower() and "utf" in text.lower()):
        return InputError(f"{where} is not valid UTF-8: give the file's encoding, latin-1 for example",
                          cli="--encoding latin-1", app="How the file is read, Encoding")
    if fmt == "jsonl" and "json" in text.lower():
        detail = re.search(r"line \d+: ([^.\n]+)", text)
        return InputError(f"{where} is not valid JSON{f' ({detail.group(1).strip()})' if detail else ''}: "
                          "the file must hold one JSON object per line")
    first = first.replace(str(path), name)
    return InputError(f"cannot read {where} as {fmt.upper()}: {first[:200]}")


def _fields(n: int) -> str:
    return f"{n} field" + ("" if n == 1 else "s")

"""Export persona-labelled segments to CSV, Parquet or JSON.

Segments smaller than ``min_segment_size`` users are withheld: a tiny segment
can single people out, so it never leaves the tool (the report says which).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .disclosure import MIN_SEGMENT_SIZE
from .errors import InputError

__all__ = ["FORMATS", "HEADERS", "MIN_SEGMENT_SIZE", "ExportReport", "format_from_path", "neutralise_formulas",
           "readable_headers", "round_values", "withhold_small", "to_bytes", "write"]

FORMATS = ("csv", "parquet", "json")
HEADERS = ("raw", "labels")  # column names as stored, or as the app names them
_FIXED_HEADERS = {"user_id": "User id", "cluster": "Segment", "persona": "Persona", "description": "Description"}
# decimals kept per kind of value; money follows the currency setting
_DECIMALS = {"share": 4, "": 2}
MIME = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet", "json": "application/json"}


@dataclass
class ExportReport:
    path: str | None
    rows: int
    withheld: pd.DataFrame  # cluster, persona, size of each withheld segment
    min_segment_size: int = MIN_SEGMENT_SIZE
    anonymised: list = field(default_factory=list)  # what making the attributes k-anonymous did
    personas: int = 0  # personas in the file

    def lines(self) -> list[str]:
        out = [f"wrote {self.rows:,} users to {self.path}"] if self.path else [f"{self.rows:,} users"]
        if self.min_segment_size < MIN_SEGMENT_SIZE:
            out.append(f"minimum segment size {self.min_segment_size}, set below the default {MIN_SEGMENT_SIZE}")
        for r in self.withheld.itertuples():
            out.append(f"withheld segment {r.cluster} ({r.persona}): {r.size} users, below the minimum size")
        out += [f"k-anonymous (k = {self.min_segment_size}): {line}" for line in self.anonymised]
        return out


def format_from_path(path: str | Path) -> str:
    ext = Path(path).suffix.lower().lstrip(".")
    fmt = {"pq": "parquet", "jsonl": "json"}.get(ext, ext)
    if fmt not in FORMATS:
        raise InputError(f"cannot export to {Path(path).name!r}: use a .csv, .parquet or .json file name")
    return fmt


def withhold_small(segments: pd.DataFrame,
                   min_segment_size: int = MIN_SEGMENT_SIZE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``segments`` (user_id, cluster, persona, ...) into what may leave and what is withheld."""
    if int(min_segment_size) < 1:
        raise InputError(f"min_segment_size={min_segment_size} should be >= 1")
    sizes = segments.groupby(["cluster", "persona"], dropna=False).size().rename("size").reset_index()
    small = sizes[sizes["size"] < int(min_segment_size)]
    kept = segments[~segments["cluster"].isin(small["cluster"])].reset_index(drop=True)
    return kept, small.reset_index(drop=True)


def round_values(frame: pd.DataFrame, money_decimals: int = 2) -> pd.DataFrame:
    """Fractional columns rounded to what the figures can support: money to ``money_decimals``, shares
    (proportions) to 4 decimals, other measures to 2; whole numbers, ids and labels untouched."""
    from .features import describe_feature

    out = frame.copy()
    for col in out.columns:
        if col in _FIXED_HEADERS or out[col].dtype.kind != "f":
            continue
        unit = describe_feature(str(col)).unit
        out[col] = out[col].round(money_decimals if unit == "money" else _DECIMALS.get(unit, 2))
    return out


def readable_headers(frame: pd.DataFrame, hashed=(), currency_symbol: str = "") -> pd.DataFrame:
    """Columns named as the app names them ("Revenue (€)", "Email (SHA-256)"), not as stored; a name
    two columns would share keeps the stored name in brackets."""
    from .features import describe_feature

    names = {}
    for col in frame.columns:
        info = describe_feature(str(col))
        name = _FIXED_HEADERS.get(col) or info.label
        if info.unit == "money" and currency_symbol:
            name += f" ({currency_symbol})"
        if col in hashed:
            name += " (SHA-256)"
        names[col] = name
    seen = pd.Series(list(names.values())).value_counts()
    return frame.rename(columns={c: (n if seen[n] == 1 else f"{n} [{c}]") for c, n in names.items()})


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV injection").
_FORMULA_START = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _risky(v) -> bool:
    return isinstance(v, str) and bool(_FORMULA_START.match(v)) and not _NUMBER.match(v)


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would run as a formula (``=HYPERLINK(...)``, ``+cmd|...``, ``@SUM(1)``,
    a leading tab or carriage return), prefixed with ``'`` so that they show as text; column names
    too, as they come from the data. Numbers, and text that is a plain number (``-5``), are left as
    they are."""
    if any(_risky(c) for c in df.columns):
        df = df.rename(columns={c: "'" + c for c in df.columns if _risky(c)})
    out = df
    for col in df.columns:
        if df[col].dtype.kind in "biufcmM":
            continue
        values = df[col]
        risky = values.map(_risky)
        if risky.any():
            out = out.copy() if out is df else out
            out[col] = values.where(~risky, "'" + values.astype(str))
    return out


def to_bytes(df: pd.DataFrame, fmt: str) -> bytes:
    """Serialise for a download: CSV (UTF-8, formula cells neutralised), Parquet, or JSON (an array of
    records)."""
    if fmt == "csv":
        # RFC 4180's line ends: a cell holding a carriage return is then quoted, not cut in two
        return neutralise_formulas(df).to_csv(index=False, lineterminator="\r\n").encode("utf-8")
    if fmt == "parquet":
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        return buf.getvalue()
    if fmt == "json":
        return df.to_json(orient="records", force_ascii=False).encode("utf-8")
    raise InputError(f"format {fmt!r} should be one of {', '.join(FORMATS)}")


def write(df: pd.DataFrame, path: str | Path) -> str:
    """Write to ``path`` in the format its extension names; a partial file never replaces a good one."""
    path = Path(path)
    fmt = format_from_path(path)
    if not path.parent.exists():
        raise InputError(f"folder {str(path.parent)!r} does not exist")
    if path.is_dir():
        raise InputError(f"{str(path)!r} is a folder: give a file name ending in .{fmt}")
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_bytes(to_bytes(df, fmt))
        tmp.replace(path)
    except OSError as exc:
        raise InputError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)  # a failed export leaves nothing behind
    return str(path)

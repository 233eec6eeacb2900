"""Where the bundled sample lies: inside the package when installed from a wheel (segcore/sample_data), the
project's sample_data folder in the source tree."""

from __future__ import annotations

from pathlib import Path

__all__ = ["SAMPLE_DIR"]

_HERE = Path(__file__).resolve().parent
SAMPLE_DIR = next((d for d in (_HERE / "sample_data", _HERE.parent / "sample_data") if (d / "users.parquet").exists()),
                  _HERE.parent / "sample_data")

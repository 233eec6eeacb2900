"""Shared fixtures: a seeded sample store and a fitted run, built once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

import segcore

# AppTest runs the app in this process: no UMAP worker (it would compile UMAP for a minute of CPU
# beside the tests). The browser tests start real servers with the worker on.
os.environ.setdefault("PERSONA_LAB_UMAP_WORKER", "0")

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory) -> segcore.Store:
    """A store seeded with the bundled sample (read-only by convention: tests that write make their own)."""
    return segcore.open_store(tmp_path_factory.mktemp("store") / "sample.duckdb")


@pytest.fixture(scope="session")
def sample_run(sample_store) -> str:
    """k-means with the planted number of personas on the default features."""
    return segcore.create_run(sample_store, "sample", 6, seed=0)


@pytest.fixture(scope="session")
def ground_truth() -> pd.DataFrame:
    return pd.read_csv(ROOT / "sample_data" / "ground_truth.csv", dtype=str)


@pytest.fixture
def empty_store(tmp_path) -> segcore.Store:
    return segcore.open_store(tmp_path / "empty.duckdb", seed_sample=False)


@pytest.fixture
def store_copy(tmp_path, sample_store) -> segcore.Store:
    """A private copy of the sample store, for tests that write."""
    import shutil

    dst = tmp_path / "copy.duckdb"
    shutil.copy(sample_store.path, dst)
    return segcore.Store(dst)


def pytest_configure(config):
    os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache"))

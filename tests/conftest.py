"""Shared fixtures: a copy of the tiny hand-countable project in a temporary folder."""

import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A project folder holding the tiny survey (surveys/tiny/w1), safe to modify."""
    shutil.copytree(DATA / "tiny" / "surveys", tmp_path / "surveys")
    return tmp_path

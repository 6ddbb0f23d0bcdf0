"""Shared fixtures: the bundled synthetic wave's clean data and the risk-pulse codebooks."""

from pathlib import Path

import pandas as pd
import pytest

from pipeline.ingest.clean import ingest
from pipeline.ingest.read import read_export
from pipeline.instrument import load
from pipeline.text.codebook import load_all

REPO = Path(__file__).resolve().parents[2]
SURVEY = REPO / "surveys" / "risk-pulse"
DATA = REPO / "tests" / "data" / "text"


@pytest.fixture(scope="session")
def instrument():
    return load(SURVEY / "instrument.yaml")


@pytest.fixture(scope="session")
def clean(instrument) -> pd.DataFrame:
    """The kept respondents of the bundled synthetic wave, as the ingest screens them."""
    return ingest(read_export(SURVEY / "2024-05" / "responses.csv"), instrument).clean


@pytest.fixture(scope="session")
def codebooks(instrument):
    return load_all(SURVEY / "codebooks", instrument)


@pytest.fixture(scope="session")
def groups(codebooks):
    return codebooks["groups_of_concern"]


def read_answers() -> pd.DataFrame:
    """tests/data/text/answers.csv as clean data: `row` and the text question `comment` (None when blank;
    "n/a" kept as written)."""
    frame = pd.read_csv(DATA / "answers.csv", dtype={"comment": object}, keep_default_na=False)
    frame["comment"] = frame["comment"].astype(object).where(frame["comment"] != "", None)
    return frame

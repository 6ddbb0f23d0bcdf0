"""One run of `pulse run` on a copy of the bundled surveys, shared by the end-to-end tests."""

import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.cli import main

REPO = Path(__file__).parent.parent.parent


class Run:
    """The project folder of a finished run, with readers for its outputs."""

    def __init__(self, root: Path, survey: str, wave: str):
        self.root, self.out = root, root / "outputs" / survey / wave

    def table(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.out / "tables" / f"{name}.csv", keep_default_na=False, na_values=[""])

    def clean(self) -> pd.DataFrame:
        return pd.read_parquet(self.out / "clean.parquet")

    def ledger(self) -> pd.DataFrame:
        return pd.read_csv(self.out / "ledger.csv", keep_default_na=False)


@pytest.fixture(scope="session")
def bundled(tmp_path_factory) -> Run:
    """`pulse run` over every bundled Risk Pulse wave, in a temporary copy of the project folder (the
    Opportunity Scan has its own end-to-end test)."""
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(REPO / "surveys" / "risk-pulse", root / "surveys" / "risk-pulse")
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    assert main(["--root", str(root), "run"]) == 0
    return Run(root, "risk-pulse", "2024-05")

"""Planted personal data in the free text of an export never reaches any file under outputs/."""

import shutil
from pathlib import Path

import pandas as pd

from pipeline.cli import main

REPO = Path(__file__).parent.parent.parent
PLANTED = {
    "Q6": "Write to jane.doe@example-institute.org or call +44 20 7946 0958 about this",
    "Q7": "Ask Ada Quillfeather (@ada_q) or see https://personal.example.net/~ada for the children at risk",
    "Q8": "My colleague Chidi Okonkwo-Testa, chidi@uni-example.ac.ke, 0712 345678, agrees",
}
SECRETS = ["jane.doe", "example-institute.org", "7946 0958", "Quillfeather", "@ada_q", "personal.example.net",
           "Okonkwo-Testa", "chidi@", "uni-example.ac.ke", "0712 345678"]


def test_planted_personal_data_is_nowhere_under_outputs(tmp_path):
    shutil.copytree(REPO / "surveys" / "risk-pulse", tmp_path / "surveys" / "risk-pulse")
    export = tmp_path / "surveys" / "risk-pulse" / "2024-05" / "responses.csv"
    frame = pd.read_csv(export, dtype=str, keep_default_na=False)
    kept = frame[(frame["Status"] == "IP Address") & (frame["Consent"] == "I agree")].index[:12]
    residence = {"Q6": "United Kingdom", "Q7": "France", "Q8": "Kenya"}
    for i, (column, text) in zip(kept, [(c, t) for c, t in PLANTED.items() for _ in range(4)]):
        frame.loc[i, column] = text
        frame.loc[i, "D4"] = residence[column]
    frame.to_csv(export, index=False, lineterminator="\n")
    wave = tmp_path / "surveys" / "risk-pulse" / "2024-05"
    for stage in ("ingest", "analyze"):
        assert main(["--root", str(tmp_path), stage, str(wave)]) == 0
    out = tmp_path / "outputs"
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.name == "clean.parquet" for p in files)
    for path in files:
        if path.suffix == ".parquet":
            clean = pd.read_parquet(path)
            text = "\n".join(clean[c].astype(str).str.cat(sep="\n") for c in clean.columns if clean[c].dtype == object)
        else:
            text = path.read_text(encoding="utf-8", errors="replace")
        for secret in SECRETS:
            assert secret.lower() not in text.lower(), (path.name, secret)
    recodes = pd.read_csv(out / "risk-pulse" / "2024-05" / "recodes.csv", keep_default_na=False)
    redacted = recodes[recodes.rule.str.startswith("redacted_")].set_index(["question", "rule"])["count"]
    assert redacted[("trends", "redacted_email")] == 4 and redacted[("trends", "redacted_phone")] == 4
    assert redacted[("groups_of_concern", "redacted_name")] == 4 and redacted[("elaboration", "redacted_name")] == 4
    assert (recodes.loc[recodes.rule.str.startswith("redacted_"), "value_exported"] == "").all()

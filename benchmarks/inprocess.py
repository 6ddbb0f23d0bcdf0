"""In-process timings of the analysis functions, run in a child process of its own:

    python -m benchmarks.inprocess ROOT WAVE_DIR

Prints one JSON object: seconds per step (imports, read_export, screen, recode, derive, ingest, the writes,
read_parquet, outcome_variables, all_splits, the per-variable tables, the models, paired_rows, analyze, the
table writes) and the process's peak memory. The steps are the functions the ingest and analyze stages call;
`ingest` and `analyze` are also timed whole (they repeat the steps inside them). Free-text redaction and
codebook tagging are timed where the code being measured has them (pipeline.text).
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    root, wave_dir = Path(argv[0]), argv[1]
    timings: dict[str, float] = {}

    def timed(name, function, *args, **kwargs):
        started = time.perf_counter()
        value = function(*args, **kwargs)
        timings[name] = time.perf_counter() - started
        return value

    started = time.perf_counter()
    import numpy as np  # noqa: F401
    import pandas as pd

    from pipeline import analyze as analysis
    from pipeline.breakdowns import all_splits
    from pipeline.ingest.clean import ingest
    from pipeline.ingest.derive import derive
    from pipeline.ingest.read import read_export
    from pipeline.ingest.recode import recode
    from pipeline.ingest.screen import screen
    from pipeline.instrument import load
    from pipeline.outputs import write_csv, write_parquet
    from pipeline.params import load_params
    from pipeline.project import wave_from_dir
    timings["imports"] = time.perf_counter() - started

    wave = wave_from_dir(wave_dir, root)
    params = load_params(root)["analyze"]
    instrument = timed("load instrument", load, wave.instrument_path)
    try:  # free text (redaction at ingest, codebook tags in analyze), where the code has it
        from pipeline import text
        from pipeline.ingest.clean import count_non_answers, redact_text
    except ImportError:
        text = None
    redaction = codebooks = None
    if text is not None:
        redaction = timed("load redaction list", text.load_redaction_list, wave.survey_dir / "redaction.yaml")
        codebooks = timed("load codebooks", text.load_codebooks, wave.survey_dir / "codebooks", instrument)
    export = timed("ingest: read_export", read_export, wave.export_path)
    ledger = timed("ingest: screen", screen, export.frame, instrument, export.first_line)
    kept = ledger["outcome"].to_numpy() == "kept"
    frame = export.frame.loc[kept].reset_index(drop=True)
    recoded = timed("ingest: recode", recode, frame, instrument)
    timed("ingest: derive", derive, instrument, recoded)
    del frame, recoded, ledger
    result = timed("ingest: ingest() whole", ingest, export, instrument, *((redaction, codebooks) if text else ()))
    del export
    if text is not None:
        copy = result.clean.copy()
        timed("ingest: redact_text (free-text personal data)", redact_text, copy, instrument, redaction, [], {})
        if codebooks:
            timed("ingest: count_non_answers", count_non_answers, copy, codebooks, [])
        del copy
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        timed("ingest: write_parquet clean", write_parquet, result.clean, scratch / "clean.parquet")
        timed("ingest: write_csv ledger", write_csv, result.ledger, scratch / "ledger.csv")
        del result
        clean = timed("analyze: read_parquet", pd.read_parquet, scratch / "clean.parquet")
    coded = {}
    if text is not None:
        coding_path = wave.wave_dir / "coding.csv"
        coded = timed("analyze: code_all (free-text tags)", text.code_all, clean, codebooks or {},
                      text.read_coding(coding_path), coding_path)
    variables = timed("analyze: outcome_variables", analysis.outcome_variables, clean, instrument)
    if coded:
        variables += timed("analyze: tag_variables", analysis.tag_variables, clean, instrument, coded)
    splits = timed("analyze: all_splits", all_splits, clean, instrument)
    analysis._WORK = analysis._Work(clean, instrument, params, variables, splits)
    each = {}
    try:
        timed("analyze: variable_tables (all variables)", lambda: [analysis.variable_tables(i) for i in range(len(variables))])
        has_terms = any(t in clean.columns for t in params["model_terms"])
        questions = [q.id for q in instrument.questions_of("ordinal") if has_terms and q.id not in params["model_terms"]]
        for question in questions:
            t = time.perf_counter()
            analysis.model_table(question)
            each[question] = time.perf_counter() - t
        timings["analyze: model_table (all models)"] = sum(each.values())
        if each:
            timings["analyze: slowest model"] = max(each.values())
            timings["models fitted"] = len(each)
    finally:
        analysis._WORK = None
    timed("analyze: paired_rows", analysis.paired_rows, {v.id: v for v in variables}, instrument, params)
    tables = timed("analyze: analyze() whole", analysis.analyze, clean, instrument, params, *((coded,) if coded else ()))
    with tempfile.TemporaryDirectory() as scratch:
        timed("analyze: write_csv tables", lambda: [write_csv(t, Path(scratch) / f"{k}.csv") for k, t in tables.items()])
    timings["respondents kept"] = len(clean)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    json.dump({"timings": timings, "maxrss_kb": usage.ru_maxrss, "workers": params.get("workers"),
               "slowest_model": max(each, key=each.get) if each else None}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

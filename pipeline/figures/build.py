"""Building every figure of a wave: load inputs, describe, draw, write, index."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from pipeline import format as fmt

from pipeline.figures import bars, choices, crosstab, dots, keywords, models, notes, pairs, ranking, stacked, style, trend
from pipeline.figures.headlines import claim as make_claim
from pipeline.figures.names import Names, lower_first
from pipeline.figures.spec import ALL, FigureSpec, ReportSpec
from pipeline.figures.spec import load as load_spec
from pipeline.figures.tables import Tables, load_tables
from pipeline.instrument import load as load_instrument
from pipeline.outputs import atomic_path, write_csv, write_text
from pipeline.parallel import later, workers

KINDS = {"stacked": stacked, "dots": dots, "bars": bars, "crosstab": crosstab, "keywords": keywords,
         "keyword-bars": ranking, "choices": choices, "models": models, "pairs": pairs, "trend": trend}


def report_yaml(wave) -> Path:
    return wave.survey_dir / "report.yaml"


def title(spec: FigureSpec, names: Names) -> str:
    """The figure's title: report.yaml's, else its question(s) and breakdown(s) in words."""
    if spec.title:
        return spec.title
    asked = {q.id: q for q in names.instrument.questions}
    groups = {asked[q].group if q in asked else None for q in spec.questions}
    if len(spec.questions) > 2 and len(groups) == 1 and None not in groups:
        what = names.instrument.question_groups.get(next(iter(groups)), names.question_short(spec.questions[0]))
    else:
        what = fmt.join([names.question_short(q) for q in spec.questions])
    by = [lower_first(names.breakdown_label(b)) for b in spec.breakdowns if b != ALL]
    return f"{what}, by {fmt.join(by)}" if by else what


def subtitle(spec: FigureSpec, names: Names) -> str:
    """The question wording: the single question's text, each question's for two or three, or the
    question group's name and the answer scale for more."""
    questions = spec.questions
    derived = any(names.sources(q) != [q] for q in questions)
    if derived or spec.kind == "crosstab":
        variables = [*questions, *(v for b in spec.breakdowns for v in names.breakdown_variables(b))]
        asked = list(dict.fromkeys(q for v in variables for q in names.sources(v)))
        return f"From the answers to {fmt.join([f'“{names.question_text(q)}”' for q in asked])}"
    if len(questions) == 1:
        return names.question_text(questions[0])
    if len(questions) <= 3:
        return "\n".join(f"{names.question_short(q)}: {names.question_text(q)}" for q in questions)
    levels = names.levels(questions[0])
    return (f"Each of {fmt.count(len(questions))} items rated from “{levels[0]}” (1) to “{levels[-1]}” "
            f"({fmt.count(len(levels))}).")


def _call(function, *args, **context):
    """`function(*args)` with those of the keyword arguments in `context` that it accepts."""
    accepted = inspect.signature(function).parameters
    return function(*args, **{k: v for k, v in context.items() if k in accepted})


def write_vector(figure, frame: pd.DataFrame, folder: Path, figure_id: str) -> dict[str, str]:
    """Save the SVG (text kept as text in the figures' font: the HTML report embeds that font, WeasyPrint finds
    it for the PDF) and the CSV of what is drawn; returns the file names by kind ("svg", "png", "csv"), the PNG's
    included though `write_png` writes it. No dates or software tags are written, so reruns are byte-identical."""
    with atomic_path(folder / f"{figure_id}.svg") as temporary:
        figure.savefig(temporary, format="svg", metadata={"Date": None})
    write_csv(frame, folder / f"{figure_id}.csv")
    return {kind: f"{figure_id}.{kind}" for kind in ("svg", "png", "csv")}


PNG_OPTIONS = {"compress_level": 1}


def write_png(figure, path: Path, dpi: int) -> None:
    """Save the PNG of `figure` at `dpi`, without a software tag (byte-identical reruns). zlib's fastest level:
    on these flat-coloured charts its files are no larger than at the default level 6, in half the time."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=dpi, metadata={"Software": None}, pil_kwargs=PNG_OPTIONS)


def build_one(spec: FigureSpec, number: int, tables: Tables, names: Names, wave,
              params: dict) -> tuple[dict, Any, pd.DataFrame]:
    """(index entry, matplotlib figure, frame) for one figure spec."""
    from pipeline.figures import report_params

    settings = report_params(params)
    minimum = int(params["analyze"]["min_group_size"])
    module = KINDS[spec.kind]
    frame = module.describe(spec, tables, names)
    found = make_claim(spec, tables, names, settings["alpha"], params["analyze"]["multiplicity"])
    figure_title = spec.title or (module.title(spec, names) if hasattr(module, "title") else title(spec, names))
    context = {"tables": tables, "confidence": float(params["analyze"].get("confidence", 0.95))}
    subject = module.eligibility_subject(frame, spec, names) if hasattr(module, "eligibility_subject") else None
    asked = notes.eligibility(spec.questions, names, tables.distributions, subject)
    footnotes = [n for n in [asked, *_call(module.footnotes, frame, spec, names, minimum, settings["alpha"], **context)]
                 if n]
    words = (module.subtitle(frame, spec, names) if hasattr(module, "subtitle") else None) or subtitle(spec, names)
    texts = style.Texts(title=figure_title, subtitle=words, footnotes=tuple(footnotes),
                        source=notes.source(names.instrument, wave), synthetic=wave.synthetic)
    figure = module.draw(frame, texts, module.look(frame, spec, names, minimum, settings["alpha"]))
    entry = {
        "id": spec.id,
        "number": number,
        "section": spec.section,
        "kind": spec.kind,
        "title": figure_title,
        "headline": found.text if found else figure_title,
        "claim": found is not None,
        "basis": found.basis if found else "",
        "caption": spec.caption or module.CAPTION,
        "alt": module.alt(frame, figure_title),
        "questions": list(spec.questions),
        "breakdowns": list(spec.breakdowns),
        "facts": found.facts if found else [],
    }
    return entry, figure, frame


_JOB: dict[str, Any] = {}  # what render_all draws (count, draw, folder, dpi); forked workers inherit it


def _png(figure, entry: dict) -> None:
    write_png(figure, _JOB["folder"] / entry["files"]["png"], _JOB["dpi"])


def _portable(error: BaseException) -> BaseException:
    """`error` if it survives pickling, else a RuntimeError carrying its traceback."""
    import pickle
    import traceback

    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        return RuntimeError("".join(traceback.format_exception(error)))


def _worker(connection, counter) -> None:
    """A forked process: takes figure numbers in turn from the shared `counter`, sends each figure's index entry
    once its SVG and CSV are written, then None; then, at a lower priority, writes the PNGs of the figures it
    drew and sends None again. On an error it sends the exception instead and stops."""
    drawn = []
    try:
        while True:
            with counter.get_lock():
                counter.value += 1
                number = counter.value
            if number > _JOB["count"]:
                break
            entry, figure = _JOB["draw"](number)
            connection.send(entry)
            drawn.append((figure, entry))
        connection.send(None)
        _yield_cpu()
        for figure, entry in drawn:
            _png(figure, entry)
        connection.send(None)
    except BaseException as error:
        connection.send(_portable(error))
    finally:
        connection.close()


def _yield_cpu() -> None:
    """Lower this process's scheduling priority (where the system allows), so that the PNGs, which nothing but
    the manifest waits for, take only the CPU time the stages running meanwhile leave."""
    import os

    if hasattr(os, "nice"):
        try:
            os.nice(10)
        except OSError:
            pass


def _receive(connection, process) -> Any:
    """The next message of a figure worker; an error it sent is raised, and so is its end without a message."""
    try:
        message = connection.recv()
    except EOFError:
        process.join()
        raise RuntimeError(f"a figure worker stopped (exit code {process.exitcode}) before finishing") from None
    if isinstance(message, BaseException):
        raise message
    return message


def _pngs_written(workers: list[tuple[Any, Any]]) -> None:
    """Wait until every figure worker has written its PNGs and exited; raises the first error one sent."""
    try:
        for connection, process in workers:
            _receive(connection, process)
    finally:
        for connection, process in workers:
            connection.close()
            process.join()


def render_all(count: int, draw: Callable[[int], tuple[dict, Any]], folder: Path, dpi: int) -> list[dict]:
    """Index entries of figures 1..count in order. `draw(number)` builds figure `number`, writes its SVG and CSV
    into `folder` and returns (index entry with its "files", matplotlib figure); it runs in forked worker
    processes (each figure's files depend on its number and the inputs only, so the outputs do not depend on
    the number of workers). Returns once every SVG and CSV is written; the workers then write the PNGs at `dpi`,
    which nothing but the manifest reads, and `pipeline.parallel.later` waits for them (at once, unless the
    stages run in an `overlapping` block)."""
    _JOB.update(count=count, draw=draw, folder=folder, dpi=dpi)
    try:
        return _render(count)
    finally:
        _JOB.clear()


def _render(count: int) -> list[dict]:
    processes = workers(count)
    if processes == 1:
        entries = []
        for number in range(1, count + 1):
            entry, figure = _JOB["draw"](number)
            _png(figure, entry)
            entries.append(entry)
        return entries
    import multiprocessing
    from multiprocessing.connection import wait

    context = multiprocessing.get_context("fork")
    counter = context.Value("i", 0)
    running = []
    for _ in range(processes):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_worker, args=(send, counter))
        process.start()
        send.close()
        running.append((receive, process))
    entries: dict[int, dict] = {}
    try:
        drawing = dict(running)
        while drawing:
            for connection in wait(list(drawing)):
                entry = _receive(connection, drawing[connection])
                if entry is None:
                    del drawing[connection]
                else:
                    entries[entry["number"]] = entry
    except BaseException:
        for connection, process in running:
            process.terminate()
            process.join()
            connection.close()
        raise
    later(lambda: _pngs_written(running))
    return [entries[number] for number in range(1, count + 1)]


def build_all(wave, params: dict) -> tuple[list[dict], list[str]]:
    """Every figure of the wave written under outputs/<survey>/<wave>/figures; (index entries, warnings)."""
    from pipeline.figures import report_params

    instrument = load_instrument(wave.instrument_path)
    spec: ReportSpec = load_spec(report_yaml(wave), instrument)
    tables = load_tables(wave.out_dir / "tables")
    names = Names(instrument, spec.nouns)
    folder = wave.out_dir / "figures"
    folder.mkdir(parents=True, exist_ok=True)

    def draw(number: int) -> tuple[dict, Any]:
        figure_spec = spec.figures[number - 1]
        entry, figure, frame = build_one(figure_spec, number, tables, names, wave, params)
        entry["files"] = write_vector(figure, frame, folder, figure_spec.id)
        return entry, figure

    with style.rc_context():
        entries = render_all(len(spec.figures), draw, folder, int(report_params(params)["dpi"]))
    warnings = []
    for figure_spec, entry in zip(spec.figures, entries):
        if figure_spec.headline and not entry["claim"]:
            where = spec.path.relative_to(wave.root) if spec.path.is_relative_to(wave.root) else spec.path
            warnings.append(f"warning: {where}: {figure_spec.where}: the data support no "
                            f"{figure_spec.headline.rule} headline; the title is used instead")
    keep = {name for entry in entries for name in entry["files"].values()}
    for stale in sorted(folder.iterdir()):
        if stale.suffix in (".svg", ".png", ".csv") and stale.name not in keep:
            stale.unlink()
    index = {"survey": wave.survey, "wave": wave.wave, "synthetic": wave.synthetic,
             "report_yaml": str(report_yaml(wave).relative_to(wave.root)) if report_yaml(wave).exists() else None,
             "sections": [{"id": s.id, "title": s.title} for s in spec.sections], "figures": entries}
    write_text(json.dumps(index, indent=1, ensure_ascii=False, allow_nan=False) + "\n", folder / "index.json")
    return entries, warnings

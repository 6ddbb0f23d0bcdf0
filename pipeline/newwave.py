"""Adding a wave: check a new export against the survey's instrument, and create the wave's folder.

`check_export` is pure apart from reading the export: it returns one line per problem, each naming the file, the
column and the value, with what to change. `create_wave` makes `surveys/<survey>/<wave>/` (wave.yaml and a copy of
the export) and lists the wave under `waves:` in params.yaml by editing the file's text, so its comments stay.
"""

from __future__ import annotations

import calendar
import difflib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from pipeline.errors import PulseError
from pipeline.ingest.clean import required_columns
from pipeline.ingest.read import Export, read_export
from pipeline.ingest.screen import header_rows
from pipeline.instrument import Instrument, Question, load

WAVE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_COLUMNS_NAMED = 6
ANSWERS_PER_LEVEL = 5


@dataclass(frozen=True)
class _Unknown:
    """An exported value that is no answer option of a scale, over the columns where it occurs."""

    value: str
    columns: tuple[str, ...]
    rows: int
    first_line: int


def _roles(instrument: Instrument) -> dict[str, str]:
    """What each column the instrument reads is, for messages: `question <id>` or `export.consent`."""
    export = instrument.export
    roles = {export.get(key): f"export.{key}" for key in ("respondent_id", "submitted_at", "duplicate_key")}
    for key in ("preview", "consent"):
        if export.get(key, {}).get("column"):
            roles[export[key]["column"]] = f"export.{key}"
    roles.update({q.column: f"question {q.id}" for q in instrument.questions})
    return {column: role for column, role in roles.items() if column}


def _folded(name: str) -> str:
    return "".join(name.split()).casefold()


def _label_share(values: pd.Series, question: Question) -> float:
    """Share of a column's non-blank cells that are answer options of the question's scale."""
    filled = values[values != ""]
    if filled.empty or question.scale is None:
        return 0.0
    known = set(question.scale.labels) | {a for level in question.scale.levels for a in level.aliases} \
        | {m.label for m in question.scale.missing}
    return float(filled.isin(known).mean())


def _renamed(export: Export, instrument: Instrument) -> tuple[dict[str, str | None], list[str]]:
    """For each column the instrument reads that the export lacks: the export column it was probably renamed to
    (same name up to case and spaces, else a close name, else a column holding the question's answer options),
    or None; and the lines describing them."""
    present = list(export.frame.columns)
    needed = required_columns(instrument)
    spare = [c for c in present if c not in needed]
    roles = _roles(instrument)
    by_column = {q.column: q for q in instrument.questions}
    found: dict[str, str | None] = {}
    for column in (c for c in needed if c not in present):
        same = [c for c in spare if _folded(c) == _folded(column)]
        close = same or difflib.get_close_matches(column, spare, n=1, cutoff=0.6)
        if not close and column in by_column and by_column[column].type in ("ordinal", "nominal", "multi"):
            shares = {c: _label_share(export.frame[c], by_column[column]) for c in spare}
            close = [c for c, share in sorted(shares.items(), key=lambda kv: -kv[1]) if share >= 0.9][:1]
        found[column] = close[0] if close else None
        if close:
            spare.remove(close[0])
    lines = []
    for column, new in found.items():
        role = roles.get(column, "")
        key = (f"questions[{role.split()[1]}].column" if role.startswith("question")
               else f"{role}{'.column' if role in ('export.preview', 'export.consent') else ''}")
        if new:
            lines.append(f"{export.path}: column {column!r} ({role}) is missing; the export has {new!r}, which the "
                         f"instrument does not read: renamed? Rename it back to {column!r} in the export, or set "
                         f"{key} to {new!r} in {instrument.path}")
        else:
            lines.append(f"{export.path}: column {column!r} ({role}) is missing and no other column looks like it; "
                         f"add it to the export, or change {key} in {instrument.path} (a question dropped from the "
                         f"survey is removed from the instrument with an entry in its changelog)")
    return found, lines


def _unknown_values(frame: pd.DataFrame, columns: dict[str, Question],
                    first_line: int) -> tuple[list[_Unknown], dict[str, set[str]], dict[str, int]]:
    """Values of these columns (all on one scale) that are not its answer options; per column, the labels that
    occur and the number of answers that are levels."""
    scale = next(iter(columns.values())).scale
    known = {level.label: level.label for level in scale.levels}
    known.update({alias: level.label for level in scale.levels for alias in level.aliases})
    missing = {m.label for m in scale.missing} | {a for m in scale.missing for a in m.aliases}
    found: dict[str, dict] = {}
    used: dict[str, set[str]] = {}
    answers: dict[str, int] = {}
    for column, question in columns.items():
        used[column], answers[column] = set(), 0
        values = frame[column]
        if question.type == "multi":
            parts = values[values != ""].str.split(re.escape(question.separator), regex=True).explode().str.strip()
            parts = parts[parts != ""]
        else:
            parts = values[values != ""]
        counts = parts.value_counts(sort=False)
        for value, count in counts.items():
            if value in known:
                used[column].add(known[value])
                answers[column] += int(count)
            elif value not in missing:
                entry = found.setdefault(value, {"columns": [], "rows": 0, "first": None})
                entry["columns"].append(column)
                entry["rows"] += int(count)
                first = int(parts.index[(parts == value).to_numpy()].min())
                entry["first"] = first if entry["first"] is None else min(entry["first"], first)
    unknown = [_Unknown(v, tuple(e["columns"]), e["rows"], e["first"] + first_line) for v, e in found.items()]
    return sorted(unknown, key=lambda u: (u.first_line, u.value)), used, answers


def _columns_text(columns: tuple[str, ...]) -> str:
    named = ", ".join(repr(c) for c in columns[:MAX_COLUMNS_NAMED])
    more = f" and {len(columns) - MAX_COLUMNS_NAMED} more" if len(columns) > MAX_COLUMNS_NAMED else ""
    return f"column {named}" if len(columns) == 1 else f"columns {named}{more}"


def _value_lines(export: Export, frame: pd.DataFrame, instrument: Instrument,
                 renamed: dict[str, str | None]) -> list[str]:
    """Lines for answer values that are no option of their scale: a new option, or a label that changed (the
    value replaces a label no row uses, among enough answers for that to mean something)."""
    by_scale: dict[str, dict[str, Question]] = {}
    for question in instrument.questions:
        if question.type not in ("ordinal", "nominal", "multi"):
            continue
        column = question.column if question.column in frame.columns else renamed.get(question.column)
        if column:
            by_scale.setdefault(question.scale.id, {})[column] = question
    lines = []
    for scale_id, columns in by_scale.items():
        scale = instrument.scales[scale_id]
        unknown, used, answers = _unknown_values(frame, columns, export.first_line)
        taken: set[str] = set()
        for item in unknown:
            unused = [label for label in scale.labels
                      if label not in taken and not any(label in used[c] for c in item.columns)]
            informative = sum(answers[c] for c in item.columns) >= ANSWERS_PER_LEVEL * len(scale.levels)
            where = (f"{export.path}: {_columns_text(item.columns)} (scale {scale_id!r}), value {item.value!r} "
                     f"({item.rows} {'answer' if item.rows == 1 else 'answers'}, first on line {item.first_line})")
            replaced = difflib.get_close_matches(item.value, unused, n=1, cutoff=0.0) if informative and unused else []
            if replaced:
                taken.add(replaced[0])
                lines.append(f"{where} replaces the label {replaced[0]!r}, which no row uses: the scale's labels "
                             f"changed? If the meaning is the same, add {item.value!r} to the aliases of "
                             f"{replaced[0]!r} under scales.{scale_id} in {instrument.path}; if not, give the "
                             f"questions a new id and scale (with a comparable_with link and a note if earlier waves "
                             f"can still be compared)")
                continue
            close = difflib.get_close_matches(item.value, list(scale.labels), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            lines.append(f"{where} is not an answer option{hint}: a new option? Add it to scales.{scale_id}.levels "
                         f"in {instrument.path} (a new level changes the scale: give the questions a new id), or add "
                         f"it to the aliases of the level it means, or to the scale's missing codes")
    return lines


def _consent_lines(export: Export, frame: pd.DataFrame, instrument: Instrument) -> list[str]:
    consent = instrument.export.get("consent")
    if not consent or consent["column"] not in frame.columns or frame.empty:
        return []
    values = frame[consent["column"]]
    if values.isin(consent["accept"]).any():
        return []
    seen = ", ".join(repr(v) for v in values[values != ""].value_counts().index[:3])
    return [f"{export.path}: column {consent['column']!r} (export.consent): no row has an accepted value "
            f"({', '.join(map(repr, consent['accept']))}), so every row would be excluded; the export has "
            f"{seen or 'only blanks'}: add the new wording to export.consent.accept in {instrument.path}"]


def check_export(export_path: str | Path, instrument: Instrument) -> list[str]:
    """Problems of an export against an instrument, one line each (empty for a clean export).

    Reported: an unreadable or empty file; a column the instrument reads that is missing (with the column it was
    probably renamed to: same name up to case and spaces, a close name, or a column holding the question's answer
    options); per scale, each value that is not an answer option (a level label, an alias or a missing code),
    over every column on that scale, as a changed label when it stands where a label no row uses should be, else
    as a new option; a consent column with no accepted value. Extra header rows (question texts under the
    column names) are skipped; columns the instrument does not read are not problems.
    """
    try:
        export = read_export(export_path)
    except PulseError as error:
        return list(error.messages)
    if export.frame.empty:
        return [f"{export.path}: the export has column names but no response rows; export the responses again"]
    renamed, lines = _renamed(export, instrument)
    frame = export.frame
    if instrument.export.get("respondent_id") in frame.columns and all(
            q.column in frame.columns for q in instrument.questions if q.type in ("ordinal", "nominal")):
        frame = frame.loc[~header_rows(frame, instrument)]
    return lines + _value_lines(export, frame, instrument, renamed) + _consent_lines(export, frame, instrument)


def _scalar(text: str) -> str:
    """`text` as a YAML scalar: plain when YAML reads it back as the same string, else double-quoted."""
    try:
        plain = yaml.safe_load(f"key: {text}")["key"] == text and not re.search(r"[{}\[\],#&*!|>'\"%@`]", text)
    except yaml.YAMLError:
        plain = False
    return text if plain else json.dumps(text, ensure_ascii=False)


def add_to_params(text: str, survey: str, wave: str, previous: str | None = None) -> str:
    """params.yaml text with `<survey>-<wave>: {survey, wave[, previous]}` added at the end of its `waves:` block
    (created if absent), everything else byte for byte as it was. Raises PulseError if the result would not read
    back as the same parameters plus that entry."""
    key = f"{survey}-{wave}"
    entry = {"survey": survey, "wave": wave, **({"previous": previous} if previous else {})}
    fields = ", ".join(f"{name}: {_scalar(value)}" for name, value in entry.items())
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    start = next((i for i, line in enumerate(lines) if re.match(r"^waves\s*:", line)), None)
    if start is None:
        first_key = next((i for i, line in enumerate(lines) if re.match(r"^[^\s#]", line)), len(lines))
        lines[first_key:first_key] = ["waves:\n", f"  {_scalar(key)}: {{{fields}}}\n"]
    elif re.match(r"^waves\s*:\s*(\{\s*\})?\s*(#.*)?$", lines[start]):
        inline = re.match(r"^waves\s*:\s*\{\s*\}\s*(#.*)?$", lines[start])
        if inline:
            lines[start] = "waves:" + (f"  {inline.group(1)}" if inline.group(1) else "") + "\n"
        end, indents = start + 1, []
        for i in range(start + 1, len(lines)):
            if not lines[i].strip():
                continue
            if not lines[i][0].isspace():
                break
            if not lines[i].lstrip().startswith("#"):
                indents.append(re.match(r"^(\s+)", lines[i]).group(1))
            end = i + 1
        indent = indents[0] if indents else "  "
        lines[end:end] = [f"{indent}{_scalar(key)}: {{{fields}}}\n"]
    else:
        raise PulseError(f"params.yaml: `waves:` is not a block of entries; list the wave by hand as "
                         f"{key}: {{{fields}}}")
    new = "".join(lines)
    before, after = yaml.safe_load(text) or {}, yaml.safe_load(new) or {}
    expected = {**before, "waves": {**(before.get("waves") or {}), key: entry}}
    if after != expected:
        raise PulseError(f"params.yaml: could not add {key} under waves: without changing other parameters; add "
                         f"{key}: {{{fields}}} by hand")
    return new


def _label(wave: str) -> str:
    month = re.fullmatch(r"(\d{4})-(\d{2})", wave)
    if month and 1 <= int(month.group(2)) <= 12:
        return f"{calendar.month_name[int(month.group(2))]} {month.group(1)}"
    quarter = re.fullmatch(r"(\d{4})-?[Qq]([1-4])", wave)
    return f"Q{quarter.group(2)} {quarter.group(1)}" if quarter else wave


def _fielded(export_path: Path, instrument: Instrument) -> tuple[str | None, str | None]:
    """First and last submission dates (YYYY-MM-DD) in the export's `submitted_at` column, if readable."""
    try:
        frame = read_export(export_path).frame
    except PulseError:
        return None, None
    column = instrument.export.get("submitted_at")
    if column not in frame.columns:
        return None, None
    times = pd.to_datetime(frame[column], errors="coerce", format="mixed", dayfirst=False).dropna()
    if times.empty:
        return None, None
    return times.min().date().isoformat(), times.max().date().isoformat()


def wave_yaml(wave: str, export_name: str, start: str | None, end: str | None, source: str) -> str:
    """The text of a new wave's wave.yaml."""
    fielded = (f"fielded:\n  start: {start}\n  end: {end}\n" if start and end else
               "fielded:          # fill in: the submission dates could not be read from the export\n"
               "  start: null\n  end: null\n")
    return (f"wave: {_scalar(wave)}\nlabel: {_scalar(_label(wave))}\n{fielded}export: {_scalar(export_name)}\n"
            f"synthetic: false\nnote: {_scalar(f'Export {source} added with pulse new-wave.')}\n")


def _regenerate_dvc_yaml(root: Path) -> None:
    """Write the project's dvc.yaml again, if it has one, so its survey stages depend on the new wave too."""
    from pipeline.stages import dvc_yaml

    path = root / "dvc.yaml"
    if path.exists():
        path.write_text(dvc_yaml(root), encoding="utf-8")


def create_wave(root: str | Path, survey: str, wave: str, export_path: str | Path, *, replace: bool = False,
                previous: bool = False) -> list[str]:
    """Create `surveys/<survey>/<wave>/` under `root` and return the export's problems (`check_export`, one line
    each; empty when the export matches the instrument).

    Writes wave.yaml (label from the wave name, fielding dates from the export's submission times) and copies the
    export in as `responses<suffix>`; lists `<survey>-<wave>: {survey, wave}` under `waves:` in params.yaml (created
    if absent; comments and other entries kept; nothing added if the key is there). With `previous`, the entry also
    names the survey's last wave listed before it (itself for the first), for a per-wave trends stage. A dvc.yaml
    in `root` is generated again (`pipeline.stages.dvc_yaml`), so the survey stages depend on the new wave. The folder
    and files are created even when the export has problems, so they can be fixed in place. A survey without an
    instrument, a bad wave name, a missing export or an existing wave folder (unless `replace`: then the export
    and wave.yaml are written again) is a PulseError.
    """
    root, export_path = Path(root), Path(export_path)
    if not WAVE_NAME.match(wave):
        raise PulseError(f"{wave!r}: a wave name is letters, digits, '.', '_' and '-' (e.g. 2024-08)")
    survey_dir = root / "surveys" / survey
    if not (survey_dir / "instrument.yaml").exists():
        raise PulseError(f"{survey_dir / 'instrument.yaml'}: no such survey; create the survey folder with its "
                         f"instrument first (docs/instrument.md)")
    if not export_path.is_file():
        raise PulseError(f"{export_path}: export not found; give the path of the survey tool's export file")
    instrument = load(survey_dir / "instrument.yaml")
    wave_dir = survey_dir / wave
    if (wave_dir / "wave.yaml").exists() and not replace:
        raise PulseError(f"{wave_dir}: the wave already exists; choose another name, or replace its export")
    wave_dir.mkdir(parents=True, exist_ok=True)
    target = wave_dir / f"responses{export_path.suffix.lower()}"
    if export_path.resolve() != target.resolve():
        shutil.copyfile(export_path, target)
    start, end = _fielded(target, instrument)
    (wave_dir / "wave.yaml").write_text(wave_yaml(wave, target.name, start, end, export_path.name), encoding="utf-8")
    params_path = root / "params.yaml"
    text = params_path.read_text(encoding="utf-8") if params_path.exists() else ""
    listed = (yaml.safe_load(text) or {}).get("waves") or {}
    if f"{survey}-{wave}" not in listed:
        before = [str(v.get("wave")) for v in listed.values() if isinstance(v, dict) and v.get("survey") == survey]
        link = (before[-1] if before else wave) if previous else None
        params_path.write_text(add_to_params(text, survey, wave, link), encoding="utf-8")
        _regenerate_dvc_yaml(root)
    return check_export(target, instrument.for_wave(wave))

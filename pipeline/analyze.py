"""The analyze stage as pure functions: clean data + instrument + params → the tidy tables.

Every estimate is computed from group × level count tables (one `np.bincount` per variable and split),
so the cost is linear in respondents and independent of them afterwards. Answers that are not valid
(don't know, refused, blank, not asked) are excluded from every n and counted in the descriptive tables.
Groups smaller than `min_group_size` are published as suppressed rows and left out of every test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipeline.breakdowns import Split, all_splits
from pipeline.ingest.recode import STATUSES
from pipeline.instrument import Instrument
from pipeline.parallel import forked_map
from pipeline.stats.codes import level_codes
from pipeline.stats.independence import independence_test
from pipeline.stats.multiplicity import adjust
from pipeline.stats.ordinal_model import proportional_odds
from pipeline.stats.posthoc import dunn_columns
from pipeline.stats.proportions import two_proportions
from pipeline.stats.ranks import kruskal_wallis_from_counts, mann_whitney_from_counts, wilcoxon_signed_rank
from pipeline.stats.shares import bootstrap_mean_ci, mean_ci, proportion_ci

EXCLUDED = [s for s in STATUSES if s != "valid"]
DISTRIBUTION_COLUMNS = ["question", "breakdown", "group", "level", "n", "count", "pct", "ci_low", "ci_high",
                        "ci_method", "suppressed", *EXCLUDED]
TOPBOX_COLUMNS = ["question", "breakdown", "group", "n", "count", "pct", "ci_low", "ci_high", "ci_method",
                  "suppressed", "topbox"]
MEAN_COLUMNS = ["question", "breakdown", "group", "n", "mean", "sd", "ci_low", "ci_high", "ci_method", "suppressed"]
TEST_COLUMNS = ["question", "breakdown", "test", "statistic", "df", "p_value", "q_value", "family", "effect_size",
                "effect_measure", "ci_low", "ci_high", "n", "groups", "group_a", "group_b", "note"]
MODEL_COLUMNS = ["question", "term", "level", "reference", "odds_ratio", "ci_low", "ci_high", "p_value", "estimate",
                 "std_error", "n", "n_excluded", "converged", "po_statistic", "po_df", "po_p_value", "po_violated", "note"]
PAIRED_COLUMNS = ["pair", "question_a", "question_b", "label", "group", "n_pairs", "n_zero", "mean_a", "mean_b",
                  "mean_diff", "ci_low", "ci_high", "test", "statistic", "p_value", "q_value", "family",
                  "effect_size", "effect_measure", "note"]
POSTHOC_COLUMNS = ["question", "breakdown", "group_a", "group_b", "z", "p_value", "p_adjusted", "p_adjust_method"]


@dataclass(frozen=True)
class Variable:
    """An outcome to describe: level labels, each respondent's level index (-1 if not valid) and status code.

    For a multi-select question `selected` is a respondents × choices boolean matrix instead of `codes`.
    """

    id: str
    group: str
    ordinal: bool
    labels: tuple[str, ...]
    codes: np.ndarray
    status: np.ndarray
    topbox: tuple[int, ...] = ()
    topbox_label: str = ""
    selected: np.ndarray | None = None
    choices: tuple[str, ...] = ()


def _status_codes(clean: pd.DataFrame, column: str) -> np.ndarray:
    return level_codes(clean[column], STATUSES)


def outcome_variables(clean: pd.DataFrame, instrument: Instrument) -> list[Variable]:
    """Every single-choice and multi-select question, then every categorical derived variable."""
    variables = []
    for q in instrument.questions:
        if q.type in ("ordinal", "nominal"):
            labels = q.scale.labels
            codes = level_codes(clean[q.id], labels)
            topbox = tuple(q.scale.codes.index(c) for c in q.topbox_codes)
            variables.append(Variable(q.id, q.group or "", q.type == "ordinal", labels, codes,
                                      _status_codes(clean, f"{q.id}__status"), topbox, q.topbox_label or ""))
        elif q.type == "multi":
            selected = np.column_stack([clean[f"{q.id}__{level.code}"].fillna(False).to_numpy(dtype=bool)
                                        for level in q.scale.levels])
            status = _status_codes(clean, f"{q.id}__status")
            variables.append(Variable(q.id, q.group or "", False, q.scale.labels, np.where(status == 0, 0, -1),
                                      status, selected=selected, choices=tuple(str(c) for c in q.scale.codes)))
    for d in instrument.derived:
        if not d.values():
            continue
        codes = level_codes(clean[d.id], list(d.values()))
        status = np.where(codes >= 0, 0, STATUSES.index("blank"))
        variables.append(Variable(d.id, "derived", False, tuple(d.values()), codes, status))
    return variables


def tag_variables(clean: pd.DataFrame, instrument: Instrument, coded: dict) -> list[Variable]:
    """The tags of each coded free-text question as a multi-select outcome `<question>_tags`: choices are
    the codebook's tags, valid answers the meaningful ones (pipeline.text)."""
    from pipeline.text import as_multiselect

    variables = []
    for question, result in coded.items():
        prefix = f"{question}_tags"
        tags = clean[["row"]].merge(as_multiselect(result, prefix), on="row", how="left")
        ids = list(result.tags.columns)
        selected = tags[[f"{prefix}__{t}" for t in ids]].fillna(False).to_numpy(dtype=bool)
        valid = tags[f"{prefix}__status"].eq("valid").to_numpy()
        status = np.where(valid, 0, STATUSES.index("blank"))
        labels = tuple(result.keywords.set_index("tag").loc[ids, "label"])
        group = instrument.question(question).group or ""
        variables.append(Variable(prefix, group, False, labels, np.where(valid, 0, -1), status,
                                  selected=selected, choices=tuple(ids)))
    return variables


@dataclass(frozen=True)
class Answers:
    """A variable's answers prepared once for counting them in every split.

    `key` is each respondent's (level + 1) × (statuses + 1) + (status + 1), so one bincount per split gives
    levels and statuses at once. For a multi-select variable, `key` is status + 1 and each selection made in
    a valid answer is a (`rows`, `choices`) pair: the respondent and the choice's index.
    """

    key: np.ndarray
    rows: np.ndarray | None = None
    choices: np.ndarray | None = None


@dataclass(frozen=True)
class Counts:
    """One variable within one split: `table` groups × levels (for multi-select, selections of each choice),
    `n` valid answers per group, `status` groups × STATUSES (respondents in the group with each status)."""

    table: np.ndarray
    n: np.ndarray
    status: np.ndarray


def prepare(variable: Variable) -> Answers:
    """The variable's `Answers` (one pass over the respondents)."""
    statuses = len(STATUSES) + 1
    if variable.selected is None:
        return Answers((variable.codes + 1) * statuses + (variable.status + 1))
    rows, choices = np.nonzero(np.asarray(variable.selected, dtype=bool) & (variable.status == 0)[:, None])
    return Answers(variable.status + 1, rows, choices)


def split_counts(variable: Variable, split: Split, answers: Answers | None = None) -> Counts:
    """The `Counts` of a variable in a split: one bincount over the respondents (plus one over the selections
    of a multi-select variable). Respondents in no group (code -1) and levels or statuses coded -1 are left
    out."""
    answers = answers if answers is not None else prepare(variable)
    groups, statuses = len(split.labels), len(STATUSES) + 1
    if variable.selected is None:
        cells = (len(variable.labels) + 1) * statuses
        cube = np.bincount((split.codes + 1) * cells + answers.key, minlength=(groups + 1) * cells)
        cube = cube.reshape(groups + 1, len(variable.labels) + 1, statuses)[1:]
        table = cube[:, 1:, :].sum(axis=2)
        return Counts(table, table.sum(axis=1), cube[:, :, 1:].sum(axis=1))
    flat = np.bincount((split.codes + 1) * statuses + answers.key, minlength=(groups + 1) * statuses)
    status = flat.reshape(groups + 1, statuses)[1:, 1:]
    choices = len(variable.labels)
    table = np.bincount((split.codes[answers.rows] + 1) * choices + answers.choices, minlength=(groups + 1) * choices)
    table = table.reshape(groups + 1, choices)[1:]
    return Counts(table, status[:, STATUSES.index("valid")].copy(), status)


def level_table(variable: Variable, split: Split) -> tuple[np.ndarray, np.ndarray]:
    """(counts per group × level, valid n per group). For multi-select, counts are selections."""
    counts = split_counts(variable, split)
    return counts.table, counts.n


def skipped(variable: Variable, split: Split, instrument: Instrument) -> bool:
    """True when a split is made from the variable itself (describing gender by gender)."""
    breakdown = next((b for b in instrument.breakdowns if b.id == split.parent), None)
    return breakdown is not None and variable.id in breakdown.variables


def _shares(count: np.ndarray, n: np.ndarray, params: dict) -> dict[str, np.ndarray]:
    """pct, ci_low, ci_high (percent) and suppressed for counts out of n; NaN where suppressed or n = 0."""
    low, high = proportion_ci(count, n, method=params["ci_method"], alpha=1 - params["confidence"])
    suppressed = n < params["min_group_size"]
    hide = suppressed | (n == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = 100.0 * count / np.maximum(n, 1)
    return {
        "count": np.where(suppressed, np.nan, count.astype(float)),
        "pct": np.where(hide, np.nan, pct),
        "ci_low": np.where(hide, np.nan, 100.0 * low),
        "ci_high": np.where(hide, np.nan, 100.0 * high),
        "suppressed": suppressed,
    }


def distribution_rows(variable: Variable, split: Split, params: dict,
                      counts: Counts | None = None) -> dict[str, np.ndarray]:
    """Columns of distributions.csv for one variable and split (see docs/tables.md); `counts` are the
    variable's `split_counts` in the split, counted here when not given."""
    counts = counts if counts is not None else split_counts(variable, split)
    table, n, status = counts.table, counts.n, counts.status
    shown = np.array(split.described)
    table, n, status = table[shown], n[shown], status[shown]
    groups, levels = table.shape
    n_rep = np.repeat(n, levels)
    columns = {
        "question": np.full(groups * levels, variable.id, dtype=object),
        "breakdown": np.full(groups * levels, split.breakdown, dtype=object),
        "group": np.repeat(np.asarray(split.labels, dtype=object)[shown], levels),
        "level": np.tile(np.asarray(variable.labels, dtype=object), groups),
        "n": n_rep,
        **_shares(table.ravel(), n_rep, params),
        "ci_method": np.full(groups * levels, params["ci_method"], dtype=object),
    }
    for j, name in enumerate(STATUSES[1:], start=1):
        columns[name] = np.repeat(status[:, j], levels)
    return columns


def topbox_rows(variable: Variable, split: Split, params: dict, counts: Counts | None = None) -> dict[str, np.ndarray]:
    """Columns of topbox.csv: the share in the question's top box per group (`counts` as in
    `distribution_rows`)."""
    counts = counts if counts is not None else split_counts(variable, split)
    table, n = counts.table, counts.n
    shown = np.array(split.described)
    count = table[shown][:, list(variable.topbox)].sum(axis=1)
    n = n[shown]
    return {
        "question": np.full(len(n), variable.id, dtype=object),
        "breakdown": np.full(len(n), split.breakdown, dtype=object),
        "group": np.asarray(split.labels, dtype=object)[shown],
        "n": n,
        **_shares(count, n, params),
        "ci_method": np.full(len(n), params["ci_method"], dtype=object),
        "topbox": np.full(len(n), variable.topbox_label, dtype=object),
    }


def mean_rows(variable: Variable, split: Split, params: dict, seed: int, counts: Counts | None = None) -> list[dict]:
    """Rows of means.csv: mean score (1 = first level … L = last) per group with its interval (`counts` as
    in `distribution_rows`)."""
    table = (counts if counts is not None else split_counts(variable, split)).table
    scores = np.arange(1, len(variable.labels) + 1, dtype=float)
    rows = []
    for g in split.described:
        if params["mean_ci"] == "bootstrap":
            result = bootstrap_mean_ci(scores, table[g], n_boot=params["bootstrap_replicates"], seed=seed + g,
                                       alpha=1 - params["confidence"])
        else:
            result = mean_ci(scores, table[g], alpha=1 - params["confidence"])
        suppressed = result.n < params["min_group_size"]
        estimates = {key: np.nan if suppressed else getattr(result, key) for key in ("mean", "sd", "ci_low", "ci_high")}
        rows.append({"question": variable.id, "breakdown": split.breakdown, "group": split.labels[g],
                     "n": result.n, **estimates, "ci_method": result.ci_method, "suppressed": suppressed})
    return rows


def _group_note(split: Split, n: np.ndarray, keep: np.ndarray, minimum: int) -> str:
    small = [f"{split.labels[g]} (n={int(n[g])})" for g in np.flatnonzero(~keep) if n[g] > 0]
    return f"left out, fewer than {minimum} answers: {', '.join(small)}" if small else ""


def test_rows(variable: Variable, split: Split, params: dict, seed: int, counts: Counts | None = None) -> list[dict]:
    """Rows of tests.csv for one variable and split: a rank test (ordinal), a test of independence of the
    whole distribution (nominal; ordinal too with `ordinal_distribution_tests`), and for two groups with a
    top box the difference in top-box shares (`counts` as in `distribution_rows`)."""
    counts = counts if counts is not None else split_counts(variable, split)
    if variable.selected is not None:
        return choice_test_rows(variable, split, params, seed, counts)
    table, n = counts.table, counts.n
    keep = n >= params["min_group_size"]
    if keep.sum() < 2:
        return []
    kept = table[keep]
    labels = [split.labels[g] for g in np.flatnonzero(keep)]
    note = _group_note(split, n, keep, params["min_group_size"])
    base = {"question": variable.id, "breakdown": split.breakdown, "n": int(kept.sum()),
            "groups": " | ".join(labels), "group_a": labels[0] if len(labels) == 2 else "",
            "group_b": labels[1] if len(labels) == 2 else "", "ci_low": np.nan, "ci_high": np.nan}
    family = f"{variable.group}/{split.parent}"
    rows = []
    if variable.ordinal:
        result = (mann_whitney_from_counts(kept[0], kept[1]) if len(labels) == 2
                  else kruskal_wallis_from_counts(kept))
        rows.append({**base, "test": "mann-whitney" if len(labels) == 2 else "kruskal-wallis",
                     "statistic": result.statistic, "df": result.df, "p_value": result.p_value,
                     "family": f"{family}/rank", "effect_size": result.effect_size,
                     "effect_measure": result.effect_measure, "note": "; ".join(filter(None, [note, result.note]))})
    if not variable.ordinal or params["ordinal_distribution_tests"]:
        result = independence_test(kept, seed=seed, n_sim=params["monte_carlo_tables"], odds_ratio=False)
        rows.append({**base, "test": result.method, "statistic": result.statistic, "df": result.df,
                     "p_value": result.p_value, "family": f"{family}/distribution", "effect_size": result.effect_size,
                     "effect_measure": result.effect_measure, "note": "; ".join(filter(None, [note, result.note]))})
    if variable.topbox and len(labels) == 2:
        counts = kept[:, list(variable.topbox)].sum(axis=1)
        n_kept = kept.sum(axis=1)
        diff = two_proportions(int(counts[0]), int(n_kept[0]), int(counts[1]), int(n_kept[1]),
                               alpha=1 - params["confidence"])
        rows.append({**base, "test": "two-proportion-z", "statistic": diff.statistic, "df": diff.df,
                     "p_value": diff.p_value, "family": f"{family}/topbox", "effect_size": diff.difference,
                     "effect_measure": "difference in top-box share (percentage points)",
                     "ci_low": diff.ci_low, "ci_high": diff.ci_high,
                     "note": "; ".join(filter(None, [note, diff.note, f"{diff.ci_method} interval"]))})
    return rows


def choice_test_rows(variable: Variable, split: Split, params: dict, seed: int,
                     counts: Counts | None = None) -> list[dict]:
    """Rows of tests.csv for a multi-select outcome: for each choice, whether the share selecting it differs
    between groups (test of independence of group × selected/not among valid answers; `question` is
    `<variable>:<choice>`; `counts` as in `distribution_rows`)."""
    counts = counts if counts is not None else split_counts(variable, split)
    table, n = counts.table, counts.n
    keep = n >= params["min_group_size"]
    if keep.sum() < 2:
        return []
    labels = [split.labels[g] for g in np.flatnonzero(keep)]
    note = _group_note(split, n, keep, params["min_group_size"])
    rows = []
    for j, choice in enumerate(variable.choices):
        selected = table[keep, j]
        if selected.sum() == 0:
            continue
        pair = np.column_stack([selected, n[keep] - selected])
        result = independence_test(pair, seed=seed, n_sim=params["monte_carlo_tables"], odds_ratio=False)
        rows.append({"question": f"{variable.id}:{choice}", "breakdown": split.breakdown, "test": result.method,
                     "statistic": result.statistic, "df": result.df, "p_value": result.p_value,
                     "family": f"{variable.group}/{split.parent}/choice", "effect_size": result.effect_size,
                     "effect_measure": result.effect_measure, "ci_low": np.nan, "ci_high": np.nan,
                     "n": int(n[keep].sum()), "groups": " | ".join(labels),
                     "group_a": labels[0] if len(labels) == 2 else "", "group_b": labels[1] if len(labels) == 2 else "",
                     "note": "; ".join(filter(None, [note, result.note]))})
    return rows


def posthoc_rows(variable: Variable, split: Split, params: dict,
                 counts: Counts | None = None) -> dict[str, np.ndarray] | None:
    """Columns of posthoc.csv: Dunn's pairwise tests (Holm-adjusted) for ordinal outcomes and splits with more
    than two groups large enough to test, else None (`counts` as in `distribution_rows`)."""
    counts = counts if counts is not None else split_counts(variable, split)
    table, n = counts.table, counts.n
    keep = n >= params["min_group_size"]
    if not variable.ordinal or keep.sum() < 3:
        return None
    labels = [split.labels[g] for g in np.flatnonzero(keep)]
    pairs = dunn_columns(table[keep], labels, p_adjust="holm")
    size = len(pairs["z"])
    pairs.update(question=np.full(size, variable.id, dtype=object),
                 breakdown=np.full(size, split.breakdown, dtype=object))
    return {column: pairs[column] for column in POSTHOC_COLUMNS}


def model_frame(clean: pd.DataFrame, question: str, terms: list[str], minimum: int) -> tuple[pd.DataFrame, list[str]]:
    """The outcome and term columns for a model, with term levels held by fewer than `minimum` respondents
    set to missing (so no odds ratio rests on a handful of people), and a note for each level dropped."""
    frame = clean[[question, *terms]].copy()
    notes = []
    for term in terms:
        counts = frame.loc[frame[question].notna(), term].value_counts()
        small = [level for level, count in counts.items() if 0 < count < minimum]
        if small:
            frame[term] = frame[term].cat.remove_categories(small) if isinstance(frame[term].dtype, pd.CategoricalDtype) \
                else frame[term].where(~frame[term].isin(small))
            notes.append(f"{term} level(s) with fewer than {minimum} respondents left out: {', '.join(map(str, small))}")
    return frame, notes


def model_rows(clean: pd.DataFrame, question: str, params: dict) -> pd.DataFrame:
    """Rows of models.csv: adjusted odds ratios of a proportional-odds model of one ordinal question on the
    terms in `model_terms` (references from `model_reference`), with the likelihood-ratio test of the
    proportional-odds assumption per term (`po_violated` when its p < 0.05)."""
    terms = [t for t in params["model_terms"] if t != question and t in clean.columns]
    absent = [t for t in params["model_terms"] if t not in clean.columns]
    frame, notes = model_frame(clean, question, terms, params["min_group_size"])
    if absent:
        notes.insert(0, f"term(s) not in this survey's data: {', '.join(absent)}")
    references = {t: r for t, r in (params.get("model_reference") or {}).items() if t in terms}
    try:
        result = proportional_odds(frame, question, terms, reference=references, alpha=1 - params["confidence"])
    except ValueError as reason:
        row = {c: np.nan for c in MODEL_COLUMNS}
        row.update(question=question, term="", level="", reference="", converged=False, po_violated=False,
                   note="; ".join([*notes, f"model not fitted: {reason}"]))
        return pd.DataFrame([row], columns=MODEL_COLUMNS)
    rows = result.coefficients.merge(result.po_tests[["term", "statistic", "df", "p_value"]].rename(
        columns={"statistic": "po_statistic", "df": "po_df", "p_value": "po_p_value"}), on="term", how="left")
    rows.insert(0, "question", question)
    rows["n"], rows["n_excluded"], rows["converged"] = result.n, result.n_excluded, result.converged
    rows["po_violated"] = rows["po_p_value"] < 0.05
    rows["note"] = "; ".join(filter(None, [*notes, result.note]))
    return rows[MODEL_COLUMNS]


def paired_rows(variables: dict[str, Variable], instrument: Instrument, params: dict) -> pd.DataFrame:
    """Rows of paired.csv: for each declared pair of ordinal questions, the respondents who gave a valid
    answer to both, their mean scores, the mean paired difference (a − b) with its t interval, and the
    Wilcoxon signed-rank test (zero differences dropped; normal approximation with tie and continuity
    correction, as R `wilcox.test(paired = TRUE, exact = FALSE)`). q-values within each pair group."""
    rows = []
    for pair in instrument.pairs:
        a, b = variables[pair.a], variables[pair.b]
        both = (a.codes >= 0) & (b.codes >= 0)
        score_a, score_b = a.codes[both] + 1.0, b.codes[both] + 1.0
        result = wilcoxon_signed_rank(score_a, score_b, alpha=1 - params["confidence"])
        small = both.sum() < params["min_group_size"]
        note = f"fewer than {params['min_group_size']} complete pairs: not tested" if small else result.note
        rows.append({"pair": pair.id, "question_a": pair.a, "question_b": pair.b, "label": pair.label,
                     "group": pair.group or "", "n_pairs": int(both.sum()), "n_zero": result.n_zero,
                     "mean_a": score_a.mean() if both.any() else np.nan,
                     "mean_b": score_b.mean() if both.any() else np.nan,
                     "mean_diff": result.mean_diff, "ci_low": result.ci_low, "ci_high": result.ci_high,
                     "test": "wilcoxon-signed-rank", "statistic": np.nan if small else result.statistic,
                     "p_value": np.nan if small else result.p_value, "family": f"paired/{pair.group or ''}",
                     "effect_size": np.nan if small else result.effect_size,
                     "effect_measure": result.effect_measure, "note": note})
    frame = pd.DataFrame(rows, columns=PAIRED_COLUMNS)
    if len(frame):
        frame["q_value"] = frame.groupby("family", sort=False)["p_value"].transform(
            lambda p: adjust(p.to_numpy(), method=params["multiplicity"]))
    return frame


def _concat(parts: list[dict[str, np.ndarray]], columns: list[str]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame({c: np.concatenate([part[c] for part in parts]) for c in columns})


@dataclass
class _Work:
    """What the per-variable and per-model jobs read; set before the worker processes fork."""

    clean: pd.DataFrame
    instrument: Instrument
    params: dict
    variables: list[Variable]
    splits: list[Split]
    weights: np.ndarray | None = None
    calibration: list | None = None


_WORK: _Work | None = None


def variable_tables(index: int) -> tuple[list, list, list, list, list]:
    """Every row one outcome variable contributes: distributions, topbox, means, tests, posthoc."""
    work = _WORK
    variable, params, seed = work.variables[index], work.params, int(work.params["seed"])
    distributions, topbox, means, tests, posthoc = [], [], [], [], []
    answers = prepare(variable) if work.weights is None else None
    for split in work.splits:
        if skipped(variable, split, work.instrument):
            continue
        if work.weights is not None:
            weighted_rows(variable, split, work, (distributions, topbox, means, tests))
            continue
        counts = split_counts(variable, split, answers)
        distributions.append(distribution_rows(variable, split, params, counts))
        if variable.topbox:
            topbox.append(topbox_rows(variable, split, params, counts))
        if variable.ordinal:
            means.extend(mean_rows(variable, split, params, seed, counts))
        if split.tested:
            tests.extend(test_rows(variable, split, params, seed, counts))
            pairs = posthoc_rows(variable, split, params, counts)
            if pairs is not None:
                posthoc.append(pairs)
    return distributions, topbox, means, tests, posthoc


def weighted_rows(variable: Variable, split: Split, work: _Work, out: tuple[list, list, list, list]) -> None:
    """The design-based rows of one variable and split (pipeline.weighted); Dunn post-hoc tests have no
    design-based version here and are left out when weights are on."""
    from pipeline import weighted

    distributions, topbox, means, tests = out
    args = (variable, split, work.params, work.weights, work.calibration)
    distributions.append(weighted.distribution_rows(*args))
    if variable.topbox:
        topbox.append(weighted.topbox_rows(*args))
    if variable.ordinal:
        means.extend(weighted.mean_rows(*args))
    if split.tested:
        tests.extend(weighted.test_rows(*args))


def model_table(question: str) -> pd.DataFrame:
    return model_rows(_WORK.clean, question, _WORK.params)


def analyze(clean: pd.DataFrame, instrument: Instrument, params: dict,
            coded: dict | None = None) -> dict[str, pd.DataFrame]:
    """All tables of the analyze stage, keyed by file stem (distributions, topbox, means, tests, posthoc, models,
    paired, weights).

    `params` is the `analyze` group of params.yaml; `coded` the coded free-text questions
    (pipeline.text.code_all), whose tags are described and tested like multi-select choices. q-values are Benjamini–Hochberg (or Holm, per
    `multiplicity`) within each family: one question group × one breakdown × one kind of test. The work is
    spread over `workers` forked processes (0: one per CPU, pipeline.parallel.workers).
    """
    from pipeline import weighted

    global _WORK
    variables = outcome_variables(clean, instrument) + tag_variables(clean, instrument, coded or {})
    _WORK = _Work(clean, instrument, params, variables, all_splits(clean, instrument))
    weights_table = pd.DataFrame(columns=weighted.WEIGHTS_COLUMNS)
    if params.get("weights"):
        _WORK.weights, weights_table, _WORK.calibration = weighted.weights_for(clean, params["weights"])
    has_terms = any(t in clean.columns for t in params["model_terms"])
    questions = [q.id for q in instrument.questions_of("ordinal") if has_terms and q.id not in params["model_terms"]]
    try:
        done = forked_map([(model_table, q) for q in questions] + [(variable_tables, i) for i in range(len(variables))],
                          int(params.get("workers") or 0) or None)
        models, parts = done[:len(questions)], done[len(questions):]
    finally:
        _WORK = None
    distributions, topbox, means, tests, posthoc = ([row for part in parts for row in part[k]] for k in range(5))
    tests_frame = pd.DataFrame(tests, columns=TEST_COLUMNS)
    if len(tests_frame):
        tests_frame["q_value"] = tests_frame.groupby("family", sort=False)["p_value"].transform(
            lambda p: adjust(p.to_numpy(), method=params["multiplicity"]))
    return {
        "distributions": _concat(distributions, DISTRIBUTION_COLUMNS),
        "topbox": _concat(topbox, TOPBOX_COLUMNS),
        "means": pd.DataFrame(means, columns=MEAN_COLUMNS),
        "tests": tests_frame,
        "posthoc": _concat(posthoc, POSTHOC_COLUMNS),
        "models": pd.concat(models, ignore_index=True) if models else pd.DataFrame(columns=MODEL_COLUMNS),
        "paired": paired_rows({v.id: v for v in variables}, instrument, params),
        "weights": weights_table,
    }

"""Wave-over-wave trends of one survey as pure functions: the clean data of its waves + the instrument → two tidy
tables, `trends` (the headline estimates of every wave) and `trend_tests` (the change between consecutive waves,
tested for independent samples and, for respondents who took part in both waves, as paired data).

What is assumed of the inputs
- Each frame is one wave's `clean.parquet` as ingest writes it: for an ordinal question `q` an ordered categorical
  column `q` (categories = the scale's level labels at the time) and a status column `q__status`; the breakdown
  variables (e.g. `weog`, `gender`); and, for linking respondents across waves, an optional column `panel_id`: the
  same text for one invitee in every wave (a salted hash of the instrument's `export.duplicate_key`, see
  `panel_ids`), missing when the key is blank. A wave without `panel_id` gives no paired rows.
- Waves are given in fielding order; "consecutive" means consecutive among the waves that asked the question.
- A question is the same across waves when it has the same id and the same level labels. A question with a new id
  may be linked to the id it replaced (`Link`, from the instrument's `comparable_with`): the earlier waves' column of
  that id is read and its levels are matched to the current scale by position. This needs each wave's clean data
  to hold the questions as asked in that wave (ingest with the instrument version the wave was fielded with).

Every estimate is computed from group × level count tables (`np.bincount`), and linked respondents are matched with
one merge on `panel_id`, so the cost is linear in respondents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from pipeline.ingest.panel import PANEL_ID
from pipeline.breakdowns import ALL, ALL_GROUP, splits_for
from pipeline.instrument import Instrument, Question
from pipeline.stats.multiplicity import adjust
from pipeline.stats.proportions import two_proportions
from pipeline.stats.ranks import mann_whitney_from_counts, wilcoxon_signed_rank
from pipeline.stats.shares import proportion_ci

OVERLAP = ("all", "fresh")

DEFAULTS: dict[str, Any] = {
    "breakdowns": ["weog", "gender"],
    "overlap": "all",
    "mcnemar_correct": True,
    "questions": None,
    "min_group_size": 10,
    "confidence": 0.95,
    "ci_method": "wilson",
    "multiplicity": "fdr_bh",
}

TREND_COLUMNS = ["question", "source", "wave", "measure", "breakdown", "group", "n", "count", "estimate", "sd",
                 "ci_low", "ci_high", "ci_method", "suppressed", "topbox", "note"]
TREND_TEST_COLUMNS = ["question", "source_a", "source_b", "measure", "breakdown", "group", "wave_a", "wave_b",
                      "design", "test", "n_a", "n_b", "n_linked", "estimate_a", "estimate_b", "difference", "ci_low",
                      "ci_high", "ci_method", "statistic", "df", "p_value", "q_value", "family", "effect_size",
                      "effect_measure", "suppressed", "note"]

TREND_QUESTION_COLUMNS = ["question", "wave_a", "wave_b", "source_a", "source_b", "compared", "reason"]


@dataclass(frozen=True)
class Link:
    """`question` (an id of the current instrument) replaced `previous` (an id read from earlier waves' data) and is
    declared comparable with it; `note` says why (printed on every row that uses the link)."""

    question: str
    previous: str
    note: str = ""


@dataclass(frozen=True)
class Answers:
    """One question in one wave: the column read (`source`), each respondent's level index on the current scale
    (-1 when the answer is not valid) and a note on how levels were matched."""

    source: str
    codes: np.ndarray
    note: str = ""


@dataclass(frozen=True)
class Grouping:
    """One breakdown of one wave: group labels, each respondent's group index (-1: in no group), shown groups."""

    breakdown: str
    labels: tuple[str, ...]
    codes: np.ndarray
    shown: tuple[int, ...]


def instrument_links(instrument: Instrument) -> dict[str, Link]:
    """Links declared in the instrument: {question id: Link} for questions with `comparable_with: {id, note}`."""
    return {q.id: Link(q.id, q.comparable_with["id"], q.comparable_with.get("note", ""))
            for q in instrument.questions if q.comparable_with}


def trend_questions(instrument: Instrument, chosen: Sequence[str] | None = None,
                    links: Mapping[str, Link] | None = None) -> list[Question]:
    """The ordinal questions followed over waves: `chosen` ids, or every ordinal question that does not define a
    breakdown (a breakdown variable such as age describes the sample, not an opinion) and is not the earlier id of
    a linked question (its waves are reported under the question that replaced it)."""
    if chosen:
        return [instrument.question(q) for q in chosen]
    skipped = not_followed(instrument, links or {})
    return [q for q in instrument.questions_of("ordinal") if q.id not in skipped]


def not_followed(instrument: Instrument, links: Mapping[str, Link]) -> dict[str, str]:
    """{question id: why} for the ordinal questions not followed by default: earlier ids of linked questions and
    breakdown variables."""
    splitting = {v for b in instrument.breakdowns for v in b.variables}
    replaced = {link.previous: link.question for link in links.values()}
    reasons = {}
    for question in instrument.questions_of("ordinal"):
        if question.id in replaced:
            reasons[question.id] = f"replaced by {replaced[question.id]!r} (comparable_with): reported under that id"
        elif question.id in splitting:
            reasons[question.id] = "defines a breakdown: it describes the sample, not an opinion followed over time"
    return reasons


def _source(frame: pd.DataFrame, question: Question, link: Link | None, wave: str | None) -> str | None:
    """The column holding `question` in one wave: its own id when the wave is in its since/until range and the
    frame has it, else the linked earlier id when the frame has that; None when the wave did not ask it."""
    if question.id in frame.columns and (wave is None or question.asked_in(wave)):
        return question.id
    if link is not None and link.previous in frame.columns:
        return link.previous
    return None


def answers(frame: pd.DataFrame, question: Question, link: Link | None = None,
            wave: str | None = None) -> tuple[Answers | None, str]:
    """The valid answers of `question` in one wave on the current scale, or (None, why not).

    The current id is read if present (and `wave`, when given, is within the question's since/until), else the
    linked earlier id. Levels are matched by label when the wave's categories are the scale's labels; a linked
    column with other labels but as many levels is matched by position; anything else is not comparable.
    """
    source = _source(frame, question, link, wave)
    if source is None:
        return None, "not asked"
    labels = list(question.scale.labels)
    values = frame[source]
    status = frame.get(f"{source}__status")
    valid = (status.astype(object) == "valid").to_numpy() if status is not None else values.notna().to_numpy()
    categorical = isinstance(values.dtype, pd.CategoricalDtype)
    notes = [f"read from {source!r} ({link.note})" if source != question.id and link and link.note
             else f"read from {source!r}" if source != question.id else ""]
    if categorical and list(values.cat.categories) == labels:
        codes = values.cat.codes.to_numpy(dtype=np.int64)
    elif source != question.id and categorical and len(values.cat.categories) == len(labels):
        codes = values.cat.codes.to_numpy(dtype=np.int64)
        notes.append("levels matched by position")
    else:
        codes = pd.Index(labels).get_indexer(values.astype(object)).astype(np.int64)
        unknown = valid & (codes < 0)
        if unknown.any():
            return None, (f"{int(unknown.sum())} answers in {source!r} are not labels of scale {question.scale.id!r}: "
                          f"not comparable (a changed scale needs a new id or a comparable_with link)")
    return Answers(source, np.where(valid & (codes >= 0), codes, -1), "; ".join(filter(None, notes))), ""


def groupings(frame: pd.DataFrame, instrument: Instrument, breakdowns: Sequence[str]) -> list[Grouping]:
    """The whole sample, then each requested breakdown the instrument declares and the frame can split by."""
    out = [Grouping(ALL, (ALL_GROUP,), np.zeros(len(frame), dtype=np.int64), (0,))]
    for breakdown in instrument.breakdowns:
        if breakdown.id not in breakdowns or not all(v in frame.columns or f"{v}__status" in frame.columns
                                                     for v in breakdown.variables):
            continue
        for split in splits_for(breakdown, frame, instrument):
            out.append(Grouping(split.breakdown, split.labels, split.codes, split.described))
    return out


def count_table(group_codes: np.ndarray, n_groups: int, codes: np.ndarray, n_levels: int) -> np.ndarray:
    """Groups × levels counts of respondents in a group (index >= 0) with a valid level (code >= 0)."""
    keep = (group_codes >= 0) & (codes >= 0)
    flat = np.bincount(group_codes[keep] * n_levels + codes[keep], minlength=n_groups * n_levels)
    return flat.reshape(n_groups, n_levels)


def _align(grouping: Grouping, labels: Sequence[str]) -> np.ndarray:
    """Group indices of `grouping`'s respondents re-expressed in `labels` (-1 for groups not in it)."""
    lookup = np.array([labels.index(g) if g in labels else -1 for g in grouping.labels] + [-1], dtype=np.int64)
    return lookup[grouping.codes]


def _union_labels(a: Grouping | None, b: Grouping | None) -> list[str]:
    shown = [g.labels[i] for g in (a, b) if g is not None for i in g.shown]
    return list(dict.fromkeys(shown))


def _wave_estimates(table: np.ndarray, topbox: Sequence[int], params: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Per group (rows of a groups × levels table): n, top-box count, pct with its interval, mean score (1 … L),
    sd and Student-t interval. NaN where n is too small to estimate."""
    alpha = 1 - params["confidence"]
    n = table.sum(axis=1)
    count = table[:, list(topbox)].sum(axis=1) if topbox else np.zeros(len(n), dtype=np.int64)
    low, high = proportion_ci(count, n, method=params["ci_method"], alpha=alpha)
    scores = np.arange(1, table.shape[1] + 1, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = 100.0 * count / n
        mean = table @ scores / n
        var = (table * (scores[None, :] - mean[:, None]) ** 2).sum(axis=1) / (n - 1)
        sd = np.sqrt(np.where(n > 1, var, np.nan))
        half = stats.t.ppf(1 - alpha / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    return {"n": n, "count": count, "pct": pct, "pct_low": 100.0 * low, "pct_high": 100.0 * high,
            "mean": mean, "sd": sd, "mean_low": mean - half, "mean_high": mean + half}


def _welch(table_b: np.ndarray, table_a: np.ndarray, alpha: float) -> tuple[float, float, float]:
    """Difference of mean scores b − a with the Welch t interval (R `t.test(x_b, x_a)`), from level counts."""
    scores = np.arange(1, len(table_a) + 1, dtype=float)
    moments = []
    for table in (table_b, table_a):
        n = table.sum()
        mean = table @ scores / n
        moments.append((n, mean, (table @ (scores - mean) ** 2) / (n - 1)))
    (n_b, mean_b, var_b), (n_a, mean_a, var_a) = moments
    se2 = var_b / n_b + var_a / n_a
    diff = mean_b - mean_a
    if not se2 > 0:
        return diff, np.nan, np.nan
    df = se2 ** 2 / ((var_b / n_b) ** 2 / (n_b - 1) + (var_a / n_a) ** 2 / (n_a - 1))
    half = stats.t.ppf(1 - alpha / 2, df) * np.sqrt(se2)
    return diff, diff - half, diff + half


def paired_proportions(n11: np.ndarray, n10: np.ndarray, n01: np.ndarray, n00: np.ndarray, correct: bool = True,
                       alpha: float = 0.05) -> dict[str, np.ndarray]:
    """McNemar's test and Newcombe's interval for the difference of two paired proportions, vectorised over tables.

    Each table counts pairs (x, y): n11 both in the category, n10 x only, n01 y only, n00 neither. Returns arrays
    `difference` = (n10 − n01)/n (x − y, a proportion), `ci_low`, `ci_high` (Newcombe 1998, method 10, the square-
    and-add interval from the Wilson intervals of both margins with the corrected phi, as Fagerland, Lydersen and
    Laake 2017, §8.5), `statistic` = (|n10 − n01| − c)² / (n10 + n01) with c = 1 if `correct` and n10 ≠ n01 else
    0, `p_value` (chi-square, 1 df) — R `mcnemar.test(x, correct = correct)` — and `n`. No discordant pairs give a
    NaN statistic and p-value (R too).
    """
    n11, n10, n01, n00 = (np.asarray(v, dtype=float) for v in (n11, n10, n01, n00))
    n = n11 + n10 + n01 + n00
    discordant = n10 + n01
    with np.errstate(invalid="ignore", divide="ignore"):
        statistic = (np.abs(n10 - n01) - (1.0 if correct else 0.0) * (n10 != n01)) ** 2 / discordant
        statistic = np.where(discordant > 0, statistic, np.nan)
        p1, p2 = (n11 + n10) / n, (n11 + n01) / n
        l1, u1 = proportion_ci(n11 + n10, n, method="wilson", alpha=alpha)
        l2, u2 = proportion_ci(n11 + n01, n, method="wilson", alpha=alpha)
        margins = (n11 + n10) * (n01 + n00) * (n11 + n01) * (n10 + n00)
        a = n11 * n00 - n10 * n01
        phi = np.where(a > n / 2, a - n / 2, np.where(a < 0, a, 0.0)) / np.sqrt(margins)
        phi = np.where(margins > 0, phi, 0.0)
        difference = p1 - p2
        low = difference - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2))
        high = difference + np.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1))
    return {"difference": difference, "ci_low": low, "ci_high": high, "statistic": statistic,
            "p_value": stats.chi2.sf(statistic, 1), "n": n}


def linked_pairs(frame_a: pd.DataFrame, frame_b: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, str]:
    """Row positions (in a, in b) of respondents with the same `panel_id` in both waves, and a note. Missing ids are
    never linked; an id repeated within a wave is left unlinked (the note says how many)."""
    if PANEL_ID not in frame_a.columns or PANEL_ID not in frame_b.columns:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), "no panel_id: respondents not linked"
    sides, repeated = [], 0
    for frame, name in ((frame_a, "a"), (frame_b, "b")):
        ids = pd.DataFrame({"id": frame[PANEL_ID].astype(object).to_numpy(), name: np.arange(len(frame))})
        ids = ids[ids["id"].notna() & (ids["id"] != "")]
        twice = ids["id"].duplicated(keep=False)
        repeated += int(twice.sum())
        sides.append(ids[~twice])
    pairs = sides[0].merge(sides[1], on="id", how="inner", sort=False).sort_values("b", kind="stable")
    note = f"{repeated} rows with a panel_id repeated within a wave left unlinked" if repeated else ""
    return pairs["a"].to_numpy(dtype=np.int64), pairs["b"].to_numpy(dtype=np.int64), note


def _trend_rows(question: Question, wave: str, answers_: Answers, grouping: Grouping,
                params: Mapping[str, Any]) -> list[dict]:
    """Rows of `trends` for one question, wave and breakdown: top box (if declared) and mean, per shown group."""
    levels = len(question.scale.levels)
    topbox = [question.scale.codes.index(c) for c in question.topbox_codes]
    table = count_table(grouping.codes, len(grouping.labels), answers_.codes, levels)
    est = _wave_estimates(table, topbox, params)
    rows = []
    for g in grouping.shown:
        n = int(est["n"][g])
        small = n < params["min_group_size"]
        base = {"question": question.id, "source": answers_.source, "wave": wave, "breakdown": grouping.breakdown,
                "group": grouping.labels[g], "n": n, "suppressed": small, "note": answers_.note}
        hide = small or n == 0
        if topbox:
            rows.append({**base, "measure": "topbox", "count": np.nan if small else int(est["count"][g]),
                         "estimate": np.nan if hide else est["pct"][g], "sd": np.nan,
                         "ci_low": np.nan if hide else est["pct_low"][g],
                         "ci_high": np.nan if hide else est["pct_high"][g], "ci_method": params["ci_method"],
                         "topbox": question.topbox_label or ""})
        rows.append({**base, "measure": "mean", "count": np.nan, "estimate": np.nan if hide else est["mean"][g],
                     "sd": np.nan if hide else est["sd"][g], "ci_low": np.nan if hide else est["mean_low"][g],
                     "ci_high": np.nan if hide else est["mean_high"][g], "ci_method": "t", "topbox": ""})
    return rows


def _independent_rows(question: Question, waves: tuple[str, str], ans: tuple[Answers, Answers],
                      groups: tuple[Grouping | None, Grouping | None], pairs: tuple[np.ndarray, np.ndarray],
                      params: Mapping[str, Any], note: str) -> list[dict]:
    """Rows of `trend_tests` comparing two waves as independent samples, per group of one breakdown."""
    (wave_a, wave_b), (ans_a, ans_b), (grp_a, grp_b) = waves, ans, groups
    labels = _union_labels(grp_a, grp_b)
    levels = len(question.scale.levels)
    topbox = [question.scale.codes.index(c) for c in question.topbox_codes]
    alpha = 1 - params["confidence"]
    codes_a, codes_b = ans_a.codes, ans_b.codes
    pa, pb = pairs
    both = (codes_a[pa] >= 0) & (codes_b[pb] >= 0)
    later = _align(grp_b, labels)[pb] if grp_b is not None else np.full(len(pb), -1)
    linked_groups = np.bincount(np.where(both, later, -1) + 1, minlength=len(labels) + 1)[1:]
    if params["overlap"] == "fresh":
        codes_a, codes_b = codes_a.copy(), codes_b.copy()
        codes_a[pa[both]], codes_b[pb[both]] = -1, -1
    table_a, table_b = (count_table(_align(grp, labels), len(labels), codes, levels) if grp is not None
                        else np.zeros((len(labels), levels), dtype=np.int64)
                        for grp, codes in ((grp_a, codes_a), (grp_b, codes_b)))
    breakdown = (grp_b or grp_a).breakdown
    family = f"{wave_a}..{wave_b}/{breakdown}"
    rows = []
    for g, group in enumerate(labels):
        ta, tb = table_a[g], table_b[g]
        n_a, n_b = int(ta.sum()), int(tb.sum())
        small = [f"{w} (n={n})" for w, n in ((wave_a, n_a), (wave_b, n_b)) if n < params["min_group_size"]]
        linked = int(linked_groups[g])
        overlap = (f"{linked} respondents answered in both waves and were left out of both samples"
                   if params["overlap"] == "fresh" else
                   f"{linked} respondents answered in both waves and are in both samples: the test assumes "
                   f"independent samples (conservative when their answers agree; see the paired row)") if linked else ""
        notes = [ans_a.note, ans_b.note, note, overlap]
        base = {"question": question.id, "source_a": ans_a.source, "source_b": ans_b.source, "breakdown": breakdown,
                "group": group, "wave_a": wave_a, "wave_b": wave_b, "design": "independent", "n_a": n_a, "n_b": n_b,
                "n_linked": linked, "suppressed": bool(small)}
        if small:
            skip = {"estimate_a": np.nan, "estimate_b": np.nan, "difference": np.nan, "ci_low": np.nan,
                    "ci_high": np.nan, "statistic": np.nan, "df": np.nan, "p_value": np.nan, "effect_size": np.nan,
                    "note": "; ".join(filter(None, [f"fewer than {params['min_group_size']} valid answers in "
                                                    f"{', '.join(small)}: not tested", *notes]))}
            if topbox:
                rows.append({**base, **skip, "measure": "topbox", "test": "two-proportion-z",
                             "ci_method": "newcombe-hybrid-score", "family": f"{family}/topbox/independent",
                             "effect_measure": "difference in top-box share (percentage points)"})
            rows.append({**base, **skip, "measure": "mean", "test": "mann-whitney", "ci_method": "welch-t",
                         "family": f"{family}/mean/independent", "effect_measure": "rank-biserial"})
            continue
        if topbox:
            diff = two_proportions(int(tb[topbox].sum()), n_b, int(ta[topbox].sum()), n_a, alpha=alpha)
            rows.append({**base, "measure": "topbox", "test": "two-proportion-z", "estimate_a": diff.pct_b,
                         "estimate_b": diff.pct_a, "difference": diff.difference, "ci_low": diff.ci_low,
                         "ci_high": diff.ci_high, "ci_method": diff.ci_method, "statistic": diff.statistic,
                         "df": diff.df, "p_value": diff.p_value, "family": f"{family}/topbox/independent",
                         "effect_size": diff.difference,
                         "effect_measure": "difference in top-box share (percentage points)",
                         "note": "; ".join(filter(None, [diff.note, *notes]))})
        rank = mann_whitney_from_counts(tb, ta)
        mean_diff, low, high = _welch(tb, ta, alpha)
        scores = np.arange(1, levels + 1)
        rows.append({**base, "measure": "mean", "test": "mann-whitney", "estimate_a": ta @ scores / n_a,
                     "estimate_b": tb @ scores / n_b, "difference": mean_diff, "ci_low": low, "ci_high": high,
                     "ci_method": "welch-t", "statistic": rank.statistic, "df": np.nan, "p_value": rank.p_value,
                     "family": f"{family}/mean/independent", "effect_size": rank.effect_size,
                     "effect_measure": rank.effect_measure, "note": "; ".join(filter(None, [rank.note, *notes]))})
    return rows


def _paired_rows(question: Question, waves: tuple[str, str], ans: tuple[Answers, Answers],
                 grp_b: Grouping | None, labels: list[str], pairs: tuple[np.ndarray, np.ndarray],
                 params: Mapping[str, Any], note: str) -> list[dict]:
    """Rows of `trend_tests` for respondents linked across the two waves with a valid answer in both, per group of
    one breakdown (the group a respondent is in at the later wave)."""
    (wave_a, wave_b), (ans_a, ans_b) = waves, ans
    pa, pb = pairs
    x_a, x_b = ans_a.codes[pa], ans_b.codes[pb]
    both = (x_a >= 0) & (x_b >= 0)
    group = _align(grp_b, labels)[pb] if grp_b is not None else np.full(len(pb), -1)
    alpha = 1 - params["confidence"]
    topbox = np.zeros(len(question.scale.levels), dtype=bool)
    topbox[[question.scale.codes.index(c) for c in question.topbox_codes]] = True
    cell = np.where(both & (group >= 0), group * 4 + topbox[x_b] * 2 + topbox[x_a], -1)
    counts = np.bincount(cell + 1, minlength=4 * len(labels) + 1)[1:].reshape(len(labels), 4)
    mcnemar = paired_proportions(counts[:, 3], counts[:, 2], counts[:, 1], counts[:, 0],
                                 correct=bool(params["mcnemar_correct"]), alpha=alpha)
    family = f"{wave_a}..{wave_b}/{grp_b.breakdown if grp_b is not None else ALL}"
    rows = []
    for g, label in enumerate(labels):
        chosen = both & (group == g)
        n = int(chosen.sum())
        small = n < params["min_group_size"]
        notes = [ans_a.note, ans_b.note, note,
                 f"fewer than {params['min_group_size']} linked respondents with a valid answer in both waves: "
                 f"not tested" if small else ""]
        base = {"question": question.id, "source_a": ans_a.source, "source_b": ans_b.source,
                "breakdown": grp_b.breakdown if grp_b is not None else ALL, "group": label, "wave_a": wave_a,
                "wave_b": wave_b, "design": "paired", "n_a": n, "n_b": n, "n_linked": n, "suppressed": small}
        if question.topbox_codes:
            hide = small or n == 0
            rows.append({**base, "measure": "topbox", "test": "mcnemar",
                         "estimate_a": np.nan if hide else 100.0 * (counts[g, 3] + counts[g, 1]) / n,
                         "estimate_b": np.nan if hide else 100.0 * (counts[g, 3] + counts[g, 2]) / n,
                         "difference": np.nan if hide else 100.0 * mcnemar["difference"][g],
                         "ci_low": np.nan if hide else 100.0 * mcnemar["ci_low"][g],
                         "ci_high": np.nan if hide else 100.0 * mcnemar["ci_high"][g],
                         "ci_method": "newcombe-paired-score", "statistic": np.nan if hide else mcnemar["statistic"][g],
                         "df": 1.0, "p_value": np.nan if hide else mcnemar["p_value"][g],
                         "family": f"{family}/topbox/paired",
                         "effect_size": np.nan if hide else 100.0 * mcnemar["difference"][g],
                         "effect_measure": "difference in top-box share (percentage points)",
                         "note": "; ".join(filter(None, [*notes, f"{int(counts[g, 2])} entered and {int(counts[g, 1])} "
                                                         f"left the top box" if not hide else ""]))})
        score_a, score_b = x_a[chosen] + 1.0, x_b[chosen] + 1.0
        result = wilcoxon_signed_rank(score_b, score_a, alpha=alpha) if n else None
        hide = small or result is None
        rows.append({**base, "measure": "mean", "test": "wilcoxon-signed-rank",
                     "estimate_a": np.nan if hide else score_a.mean(), "estimate_b": np.nan if hide else score_b.mean(),
                     "difference": np.nan if hide else result.mean_diff,
                     "ci_low": np.nan if hide else result.ci_low, "ci_high": np.nan if hide else result.ci_high,
                     "ci_method": "paired-t", "statistic": np.nan if hide else result.statistic, "df": np.nan,
                     "p_value": np.nan if hide else result.p_value, "family": f"{family}/mean/paired",
                     "effect_size": np.nan if hide else result.effect_size,
                     "effect_measure": "matched-pairs rank-biserial",
                     "note": "; ".join(filter(None, [*notes, "" if hide else result.note]))})
    return rows


def trends(waves: Mapping[str, pd.DataFrame], instrument: Instrument, params: Mapping[str, Any] | None = None,
           links: Mapping[str, Link] | None = None) -> dict[str, pd.DataFrame]:
    """The trend tables of one survey: {"trends": …, "trend_tests": …, "trend_questions": …} (docs/tables.md).

    `waves` maps wave ids to clean frames, in fielding order. `params` overrides `DEFAULTS` (the `analyze` group of
    params.yaml overlaid with the `trends` group): `breakdowns` (instrument breakdown ids, besides the whole sample;
    ids the instrument lacks are skipped), `overlap` (`all`: the independent test uses every respondent of both
    waves, linked ones included; `fresh`: it leaves out respondents who answered in both waves, so that no one is in
    both samples), `mcnemar_correct`, `questions`, `min_group_size`, `confidence`, `ci_method`, `multiplicity`.
    `links` defaults to the instrument's `comparable_with` declarations.

    `trends` has one row per question × wave × breakdown group × measure (`topbox`, `mean`); a wave whose answers
    cannot be matched to the current scale has one row per measure for the whole sample, with no estimate and the
    reason in `note`, and takes no part in comparisons. `trend_tests` has, for
    each pair of consecutive waves that asked a question, one row per breakdown group × measure × design:
    `independent` (two-proportion z with Newcombe's interval; Mann–Whitney with the Welch interval of the mean
    difference) and, when the frames carry `panel_id`, `paired` (McNemar with Newcombe's paired interval; Wilcoxon
    signed-rank with the paired t interval). Differences are later − earlier. q-values adjust p within each family
    `<wave_a>..<wave_b>/<breakdown>/<measure>/<design>` (all questions together). `trend_questions` has, per
    ordinal question and pair of consecutive given waves, whether they were compared and why (not).

    A question is read in a wave when the wave is within its `since`/`until` (wave ids compare as text) and the
    frame has its column, else through its `comparable_with` link.
    """
    params = {**DEFAULTS, **(params or {})}
    if params["overlap"] not in OVERLAP:
        raise ValueError(f"overlap must be one of {', '.join(OVERLAP)}, got {params['overlap']!r}")
    links = instrument_links(instrument) if links is None else links
    names = list(waves)
    frames = [waves[w] for w in names]
    groups = [{g.breakdown: g for g in groupings(f, instrument, params["breakdowns"])} for f in frames]
    breakdowns = list(dict.fromkeys(b for wave_groups in groups for b in wave_groups))
    pair_cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, str]] = {}
    trend_rows: list[dict] = []
    test_rows: list[dict] = []
    followed = trend_questions(instrument, params["questions"], links)
    compared_rows = _left_out(instrument, followed, links, names)
    for question in followed:
        asked: list[tuple[int, Answers]] = []
        found_in: list[tuple[Answers | None, str]] = []
        for i, frame in enumerate(frames):
            found, why = answers(frame, question, links.get(question.id), names[i])
            found_in.append((found, why))
            if found is None:
                if why != "not asked":
                    trend_rows.extend({"question": question.id, "wave": names[i], "measure": measure,
                                       "breakdown": ALL, "group": ALL_GROUP, "suppressed": True, "note": why}
                                      for measure in (["topbox"] if question.topbox_codes else []) + ["mean"])
                continue
            asked.append((i, found))
            for grouping in groups[i].values():
                trend_rows.extend(_trend_rows(question, names[i], found, grouping, params))
        compared_rows.extend(_compared(question, names, found_in))
        for (i, ans_a), (j, ans_b) in zip(asked, asked[1:]):
            if (i, j) not in pair_cache:
                pair_cache[i, j] = linked_pairs(frames[i], frames[j])
            pa, pb, link_note = pair_cache[i, j]
            skipped = [names[k] for k in range(i + 1, j)]
            note = "; ".join(filter(None, [f"not asked in {', '.join(skipped)}" if skipped else "", link_note]))
            for breakdown in breakdowns:
                grp_a, grp_b = groups[i].get(breakdown), groups[j].get(breakdown)
                test_rows.extend(_independent_rows(question, (names[i], names[j]), (ans_a, ans_b), (grp_a, grp_b),
                                                   (pa, pb), params, note))
                if PANEL_ID in frames[i].columns and PANEL_ID in frames[j].columns and grp_b is not None:
                    test_rows.extend(_paired_rows(question, (names[i], names[j]), (ans_a, ans_b), grp_b,
                                                  _union_labels(grp_a, grp_b), (pa, pb), params, note))
    tests_frame = pd.DataFrame(test_rows, columns=TREND_TEST_COLUMNS)
    if len(tests_frame):
        tests_frame["q_value"] = tests_frame.groupby("family", sort=False)["p_value"].transform(
            lambda p: adjust(p.to_numpy(dtype=float), method=params["multiplicity"]))
    return {"trends": pd.DataFrame(trend_rows, columns=TREND_COLUMNS), "trend_tests": tests_frame,
            "trend_questions": pd.DataFrame(compared_rows, columns=TREND_QUESTION_COLUMNS)}


def _compared(question: Question, names: Sequence[str], found: Sequence[tuple[Answers | None, str]]) -> list[dict]:
    """Rows of `trend_questions` for a followed question: one per pair of consecutive waves, compared or why not."""
    rows = []
    for k in range(len(names) - 1):
        (a, why_a), (b, why_b) = found[k], found[k + 1]
        reasons = [f"{why} in {names[k + side]}" if why == "not asked" else why
                   for side, (answer, why) in enumerate(((a, why_a), (b, why_b))) if answer is None]
        rows.append({"question": question.id, "wave_a": names[k], "wave_b": names[k + 1],
                     "source_a": a.source if a else "", "source_b": b.source if b else "",
                     "compared": a is not None and b is not None,
                     "reason": "; ".join(reasons) or next((x.note for x in (a, b) if x.note), "same id and scale")})
    return rows


def _left_out(instrument: Instrument, followed: Sequence[Question], links: Mapping[str, Link],
              names: Sequence[str]) -> list[dict]:
    """Rows of `trend_questions` for the ordinal questions that are not followed, with the reason."""
    chosen = {q.id for q in followed}
    reasons = not_followed(instrument, links)
    rows = []
    for question in instrument.questions_of("ordinal"):
        if question.id in chosen:
            continue
        reason = reasons.get(question.id, "not in the trends.questions parameter")
        rows.extend({"question": question.id, "wave_a": a, "wave_b": b, "source_a": "", "source_b": "",
                     "compared": False, "reason": reason} for a, b in zip(names, names[1:]))
    return rows

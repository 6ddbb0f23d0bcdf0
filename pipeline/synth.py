"""Seeded generator of SYNTHETIC survey exports calibrated to published figures.

The real microdata of a survey is often not public. This module turns an instrument (the
mapping read from `instrument.yaml`) and a calibration spec (`synth.yaml`, see
the bundled surveys' `synth.yaml` for the documented format) into a raw export that looks like
a Qualtrics CSV export: one row per submission, text labels, administrative columns, and the
rows the ingest must screen out (a preview, declined consent, duplicate submissions, an empty
row). Nothing here is specific to one survey: every label, share, country and phrase comes
from the instrument or the spec.

How the calibration is exact by construction:

- respondent attributes are drawn with exact quotas (largest remainder, then shuffled);
- each ordinal item gets exact counts of don't know, blanks and each level, the levels being
  assigned by ranking respondents on `loading * latent + item effects + noise`, so marginals
  are exact while group differences follow the spec's `effects`;
- free text is composed from phrase banks per category and checked against the categories'
  keywords, so category counts are exact;
- a multi-select item gets an exact count of respondents ticking each choice (everybody who
  answers ticks at least one);
- a question with an `eligible` condition in the instrument (skip logic) is left blank for the
  respondents it was not shown to, and its quotas are exact among those it was shown to.

Spec features beyond the Risk Pulse's (see the bundled surveys' specs): an attribute's
`quota_by` may name a country attribute (nationality_group, residence_group, nationality,
residence), the attribute is then drawn after the countries; an item's `latent` may be a mapping
`{latent: loading, ...}` (several latents, e.g. a general and a domain factor shared by paired
items, which correlates them); multi-select items take `selected: {choice: share}`.

Several waves of one survey (`waves:` in the spec, keyed by wave name): each entry overrides parts of the
spec (`seed`, `n`, `export`, `attributes`, `items`, `texts`; mappings are merged key by key, an item's
settings with the base item's), shifts named ordinal items (`drift: {item: d}`: the item's valid-answer
shares moved by d standard deviations on a normal scale, positive towards the top level), and may bring
back respondents of an earlier wave (`panel: {from: WAVE, share: s}`: a share s of this wave's kept
respondents are kept respondents of WAVE, drawn at random, with the same invitation token, demographic
answers and latent scores, so their ratings correlate across waves). `sampling: true` replaces each
ordinal item's shares by those of a random sample of n answers drawn from them, so that a later wave's
unchanged items differ from the spec by sampling noise rather than reproduce it exactly. A wave not
listed, or `wave=None`, is the spec itself.

Everything is vectorised (a 1,000,000-respondent wave takes seconds) and deterministic across
runs and platforms: a single `numpy.random.Generator` (PCG64) consumed in a fixed order, no
set or hash ordering, no transcendental functions on the random stream.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import yaml

from pipeline.errors import PulseError

__all__ = ["generate", "load_spec", "wave_spec", "write_export"]

_ALPHANUM = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype="S1")
_TOKEN_CHARS = np.frombuffer(b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", dtype="S1")
_BLANK = "blank"
_NON_ANSWER = "non_answer"
_SLOT = re.compile(r"\{([A-Za-z_]+?)(2?)\}")


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def load_spec(path: str | Path) -> dict:
    """Read a calibration spec (YAML) into a plain mapping."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8") as handle:
            spec = yaml.safe_load(handle)
    except OSError as error:
        raise PulseError(f"{path}: cannot read the synth spec ({error.strerror}).") from error
    except yaml.YAMLError as error:
        raise PulseError(f"{path}: not valid YAML ({error}).") from error
    if not isinstance(spec, dict) or "n" not in spec or "seed" not in spec:
        raise PulseError(f"{path}: a synth spec is a mapping with at least `seed` and `n`.")
    return spec


def generate(instrument: Mapping[str, Any], spec: Mapping[str, Any], n: int | None = None,
             seed: int | None = None, wave: str | None = None) -> pd.DataFrame:
    """The synthetic export: a frame of strings (None for blank cells), one row per submission.

    `n` is the number of respondents the ingest keeps (default: the spec's `n`); `seed`
    overrides the spec's seed. `wave` selects an entry of the spec's `waves` (module docstring);
    the earlier wave a panel comes from is generated with its own `n` and seed.
    """
    return _generate(instrument, spec, n, seed, wave)[0]


class _Kept:
    """The kept respondents of a generated wave, in generation order: what a returning respondent
    carries into a later wave (attributes, latent scores, exported demographic answers, token)."""

    def __init__(self, attrs: dict, latents: dict, columns: dict, tokens: np.ndarray):
        self.attrs, self.latents, self.columns, self.tokens = attrs, latents, columns, tokens


def _waves(spec: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(name): entry or {} for name, entry in (spec.get("waves") or {}).items()}


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict:
    merged = dict(base)
    for key, value in override.items():
        nested = isinstance(value, Mapping) and isinstance(merged.get(key), Mapping)
        merged[key] = _merge(merged[key], value) if nested else value
    return merged


def _drifted(shares: Mapping[Any, float], codes: list[str], shift: float) -> dict[str, float]:
    """Valid-answer shares moved by `shift` standard deviations on a normal latent scale (positive: towards
    the last level), rounded to 4 decimals so that the counts do not depend on the platform's last bits."""
    from scipy.special import ndtr, ndtri

    given = {_key(k): float(v) for k, v in shares.items()}
    p = np.array([given.get(c, 0.0) for c in codes])
    cumulative = np.clip(np.cumsum(p / p.sum())[:-1], 0.0, 1.0)
    moved = ndtr(ndtri(cumulative) - shift)
    new = np.diff(np.concatenate([[0.0], moved, [1.0]]))
    return {c: float(round(s, 4)) for c, s in zip(codes, new)}


def wave_spec(instrument: Mapping[str, Any], spec: Mapping[str, Any], wave: str | None) -> dict:
    """The spec of one wave: the base spec with the wave's overrides merged in and its drift applied
    (without `waves`; a wave's `panel` is kept)."""
    entries = _waves(spec)
    base = {key: value for key, value in spec.items() if key != "waves"}
    if wave is None or str(wave) not in entries:
        return base
    entry = dict(entries[str(wave)])
    drift = entry.pop("drift", None) or {}
    panel = entry.pop("panel", None)
    merged = _merge(base, entry)
    inst = _Instrument(instrument)
    items = dict(merged.get("items", {}))
    for qid, shift in drift.items():
        if qid not in items or "shares" not in items[qid]:
            raise PulseError(f"synth spec: waves.{wave}.drift: {qid!r} is not an item with shares.")
        items[qid] = {**items[qid], "shares": _drifted(items[qid]["shares"], inst.level_codes(qid), float(shift))}
    merged["items"] = items
    if panel:
        merged["panel"] = panel
    return merged


def _generate(instrument: Mapping[str, Any], spec: Mapping[str, Any], n: int | None, seed: int | None,
              wave: str | None) -> tuple[pd.DataFrame, _Kept]:
    previous = None
    if wave is not None and str(wave) in _waves(spec):
        panel = _waves(spec)[str(wave)].get("panel")
        if panel:
            source = str(panel.get("from"))
            if source not in _waves(spec) or source == str(wave):
                raise PulseError(f"synth spec: waves.{wave}.panel.from: {source!r} is not another wave of `waves`.")
            previous = (_generate(instrument, spec, None, None, source)[1], float(panel.get("share", 0)))
        spec = wave_spec(instrument, spec, wave)
    n = int(spec["n"] if n is None else n)
    if n < 1:
        raise PulseError("synth: n must be at least 1.")
    rng = np.random.Generator(np.random.PCG64(int(spec["seed"] if seed is None else seed)))
    inst = _Instrument(instrument)
    if spec.get("sampling"):
        spec = {**spec, "items": _sampled_items(rng, n, inst, spec.get("items", {}))}

    attrs: dict[str, _Attr] = {}
    columns: dict[str, np.ndarray] = {}
    attr_specs = dict(spec.get("attributes", {}))
    # An attribute whose quota depends on a country attribute (or on such an attribute) is drawn
    # after the countries; the others keep their order before them.
    deferred: set[str] = set()
    for name, attr_spec in attr_specs.items():
        by = attr_spec.get("quota_by")
        if by and (by in deferred or (by in _COUNTRY_ATTRS and by not in attr_specs)):
            deferred.add(name)
    question_attr: dict[str, str] = {}

    def draw_attributes(names):
        for name in names:
            attr_spec = attr_specs[name]
            attr, exported = _draw_attribute(rng, n, inst, name, attr_spec, attrs)
            attrs[name] = attr
            question_attr[attr_spec["question"]] = name
            columns[inst.column(attr_spec["question"])] = exported

    draw_attributes([name for name in attr_specs if name not in deferred])
    if "countries" in spec:
        country_attrs, country_columns = _draw_countries(rng, n, inst, spec["countries"])
        attrs.update(country_attrs)
        columns.update(country_columns)
    elif deferred:
        raise PulseError(f"synth spec: {', '.join(sorted(deferred))}: quota_by names a country attribute but the "
                         f"spec has no `countries`.")
    draw_attributes([name for name in attr_specs if name in deferred])
    demographic = list(columns)
    returning = _returning(rng, n, previous, attrs, columns) if previous else None

    latents = _draw_latents(rng, n, spec.get("latents", {}), attrs)
    if returning is not None:
        rows, persons = returning
        for name, values in latents.items():
            if name in previous[0].latents:
                values[rows] = previous[0].latents[name][persons]
    items = dict(spec.get("items", {}))
    defaults = items.pop("defaults", {})
    for qid, item_spec in items.items():
        rows = _eligible_rows(inst, qid, attrs, question_attr, n)
        draw = _draw_multi if inst.question(qid).get("type") == "multi" else _draw_item
        if rows is None:
            columns[inst.column(qid)] = draw(rng, n, inst, qid, {**defaults, **item_spec}, latents, attrs)
        else:
            sub_latents = {name: values[rows] for name, values in latents.items()}
            sub_attrs = {name: attr.subset(rows) for name, attr in attrs.items()}
            columns[inst.column(qid)] = _scatter(
                n, rows, draw(rng, rows.size, inst, qid, {**defaults, **item_spec}, sub_latents, sub_attrs))
    for qid, text_spec in spec.get("texts", {}).items():
        rows = _eligible_rows(inst, qid, attrs, question_attr, n)
        if rows is None:
            columns[inst.column(qid)] = _draw_texts(rng, n, text_spec)
        else:
            columns[inst.column(qid)] = _scatter(n, rows, _draw_texts(rng, rows.size, text_spec))

    carried = (returning[0], previous[0].tokens[returning[1]]) if returning is not None else None
    frame, tokens = _assemble(rng, n, inst, spec.get("export", {}), columns, carried)
    kept = _Kept(attrs, latents, {c: np.asarray(columns[c], dtype=object).copy() for c in demographic}, tokens)
    return frame, kept


def _sampled_items(rng, n: int, inst: "_Instrument", items: Mapping[str, Any]) -> dict:
    """Items whose `shares` are replaced by the shares of n answers drawn from them (uniforms compared with the
    cumulative shares: no transcendental function on the random stream)."""
    out = dict(items)
    for qid, item in items.items():
        if qid == "defaults" or "shares" not in item:
            continue
        codes = inst.level_codes(qid)
        given = {_key(k): float(v) for k, v in item["shares"].items()}
        p = np.array([given.get(c, 0.0) for c in codes])
        drawn = np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right")
        counts = np.bincount(np.minimum(drawn, len(codes) - 1), minlength=len(codes))
        out[qid] = {**item, "shares": {c: int(k) / n for c, k in zip(codes, counts)}}
    return out


def _returning(rng, n: int, previous: tuple[_Kept, float], attrs: dict[str, "_Attr"],
               columns: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Make a share of this wave's respondents returning respondents of an earlier wave: (rows here, their
    positions there). Their attributes and exported demographic answers are replaced by the earlier ones."""
    kept, share = previous
    m = int(_round_half_up(share * n))
    if not 0 <= m <= min(n, kept.tokens.size):
        raise PulseError(f"synth spec: a panel share of {share} needs {m} earlier respondents; there are "
                         f"{kept.tokens.size}.")
    persons = np.sort(rng.choice(kept.tokens.size, m, replace=False))
    rows = np.sort(rng.choice(n, m, replace=False))
    for name, attr in attrs.items():
        if name in kept.attrs:
            attr.take(rows, kept.attrs[name], persons)
    for column, values in kept.columns.items():
        if column in columns:
            columns[column] = np.asarray(columns[column], dtype=object).copy()
            columns[column][rows] = values[persons]
    return rows, persons


def write_export(frame: pd.DataFrame, path: str | Path) -> None:
    """Write an export as UTF-8 CSV with "\\n" line ends (byte-identical across platforms)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Same bytes as frame.to_csv(index=False, lineterminator="\n", na_rep="") (minimal quoting),
    # several times faster on large waves: each column's distinct values are formatted once.
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(_csv_field(str(c)) for c in frame.columns) + "\n")
        for start in range(0, len(frame), _CHUNK):
            chunk = frame.iloc[start:start + _CHUNK]
            fields = []
            for c in range(chunk.shape[1]):
                codes, uniques = pd.factorize(chunk.iloc[:, c], use_na_sentinel=True)
                text = np.array([_csv_field(_cell(v)) for v in uniques] + [""], dtype=object)
                fields.append(text[codes])
            handle.write("".join(",".join(row) + "\n" for row in zip(*fields)))


_CHUNK = 100_000


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _csv_field(text: str) -> str:
    if any(ch in text for ch in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


# --------------------------------------------------------------------------------------------
# Instrument access (a plain mapping)
# --------------------------------------------------------------------------------------------


class _Instrument:
    def __init__(self, instrument: Mapping[str, Any]):
        self.raw = instrument
        self.questions = {q["id"]: q for q in instrument["questions"]}
        self.scales = instrument.get("scales", {})
        self.export = instrument.get("export", {})

    def question(self, qid: str) -> Mapping[str, Any]:
        try:
            return self.questions[qid]
        except KeyError:
            raise PulseError(f"synth spec: no question {qid!r} in the instrument.") from None

    def column(self, qid: str) -> str:
        return self.question(qid)["column"]

    def scale(self, qid: str) -> Mapping[str, Any]:
        question = self.question(qid)
        try:
            return self.scales[question["scale"]]
        except KeyError:
            raise PulseError(f"synth spec: question {qid!r} has no scale in the instrument.") from None

    def labels(self, qid: str) -> dict[str, str]:
        """Quota key (level code or missing kind, as text) -> exported label."""
        scale = self.scale(qid)
        labels = {_key(level["code"]): level["label"] for level in scale["levels"]}
        for missing in scale.get("missing", []):
            labels.setdefault(_key(missing["kind"]), missing["label"])
        return labels

    def level_codes(self, qid: str) -> list[str]:
        return [_key(level["code"]) for level in self.scale(qid)["levels"]]

    def joiner(self, qid: str) -> str:
        return self.question(qid).get("separator", ";").strip() + " "


# --------------------------------------------------------------------------------------------
# Quotas
# --------------------------------------------------------------------------------------------


def _round_half_up(x: np.ndarray | float) -> np.ndarray:
    return np.floor(np.asarray(x, dtype=float) + 0.5).astype(np.int64)


def _allocate(n: int, weights: list[float] | np.ndarray) -> np.ndarray:
    """Largest-remainder allocation of n over weights (ties to the earlier entry)."""
    weights = np.asarray(weights, dtype=float)
    if n == 0 or weights.sum() <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    if (weights < 0).any():
        raise PulseError("synth spec: quota weights must not be negative.")
    exact = weights / weights.sum() * n
    counts = np.floor(exact + 1e-9).astype(np.int64)
    remainder = exact - counts
    short = n - int(counts.sum())
    if short > 0:
        order = np.argsort(-np.round(remainder, 9), kind="stable")
        counts[order[:short]] += 1
    return counts


def _quota_codes(rng: np.random.Generator, n: int, weights: Mapping[Any, float],
                 fixed: Mapping[Any, int] | None = None) -> tuple[list[str], np.ndarray]:
    """An exact quota drawn in random order: (keys, index of each respondent's key)."""
    weights = {_key(k): v for k, v in weights.items()}
    keys = list(weights)
    fixed = {_key(k): int(v) for k, v in (fixed or {}).items()}
    for key in fixed:
        if key not in keys:
            keys.append(key)
    w = [float(weights.get(k, 0)) if k not in fixed else 0.0 for k in keys]
    n_free = n - sum(fixed.values())
    if n_free < 0:
        raise PulseError("synth spec: fixed counts exceed n.")
    counts = _allocate(n_free, w)
    for i, key in enumerate(keys):
        counts[i] += fixed.get(key, 0)
    codes = np.repeat(np.arange(len(keys)), counts)
    return keys, rng.permutation(codes)


def _key(value: Any) -> str:
    """A code as text; YAML 1.1 reads unquoted yes/no as booleans, which are mapped back."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _spread(rng: np.random.Generator, idx: np.ndarray, variants: Mapping[int, Mapping[str, float]],
            base_labels: np.ndarray) -> np.ndarray:
    """Labels for category indices; for categories with variants, an exact share of them spelled otherwise.

    `variants[category] = {spelling: share}`; the rest keep the base label.
    """
    out = base_labels[idx].astype(object)
    for category, spellings in variants.items():
        positions = np.flatnonzero(idx == category)
        if positions.size == 0:
            continue
        names = [None, *spellings]
        shares = [max(0.0, 1.0 - sum(spellings.values())), *spellings.values()]
        _, which = _quota_codes(rng, positions.size, dict(zip(range(len(names)), shares)))
        for j, name in enumerate(names):
            if name is not None:
                out[positions[which == j]] = name
    return out


# --------------------------------------------------------------------------------------------
# Attributes
# --------------------------------------------------------------------------------------------


class _Attr:
    """A respondent attribute: `keys` and one key index per respondent, or a 0/1 matrix for multi."""

    def __init__(self, keys: list[str], index: np.ndarray | None = None, selected: np.ndarray | None = None):
        self.keys = keys
        self.index = index
        self.selected = selected

    def take(self, rows: np.ndarray, other: "_Attr", positions: np.ndarray) -> None:
        """Set the respondents at `rows` to the values of `other`'s respondents at `positions` (matched by key)."""
        for key in other.keys:
            if key not in self.keys:
                self.keys.append(key)
                if self.selected is not None:
                    self.selected = np.column_stack([self.selected, np.zeros(len(self.selected), dtype=bool)])
        where = np.array([self.keys.index(k) for k in other.keys], dtype=np.int64)
        if self.selected is not None:
            self.selected[rows] = False
            self.selected[rows[:, None], where[None, :]] = other.selected[positions]
        else:
            self.index[rows] = where[other.index[positions]]

    def subset(self, rows: np.ndarray) -> "_Attr":
        return _Attr(self.keys, index=None if self.index is None else self.index[rows],
                     selected=None if self.selected is None else self.selected[rows])

    def match(self, condition: Any) -> np.ndarray:
        negate = isinstance(condition, Mapping)
        values = condition["not"] if negate else condition
        values = [_key(v) for v in (values if isinstance(values, list) else [values])]
        wanted = np.array([k in values for k in self.keys])
        if self.selected is not None:
            hit = self.selected[:, wanted].any(axis=1)
        else:
            hit = wanted[self.index] if self.index.size else np.zeros(0, dtype=bool)
        return ~hit if negate else hit


_COUNTRY_ATTRS = ("nationality", "nationality_group", "residence", "residence_group")


def _condition_mask(inst: _Instrument, condition: Mapping[str, Any], attrs: Mapping[str, _Attr],
                    question_attr: Mapping[str, str], n: int) -> np.ndarray:
    """Who an instrument `eligible` condition holds for, from the attributes that answer its questions."""
    if "all" in condition:
        return np.logical_and.reduce([_condition_mask(inst, c, attrs, question_attr, n) for c in condition["all"]])
    if "any" in condition:
        return np.logical_or.reduce([_condition_mask(inst, c, attrs, question_attr, n) for c in condition["any"]])
    if "not" in condition:
        return ~_condition_mask(inst, condition["not"], attrs, question_attr, n)
    qid = condition["question"]
    if qid not in question_attr:
        raise PulseError(f"synth spec: eligibility depends on question {qid!r}; draw it as an attribute.")
    attr = attrs[question_attr[qid]]
    labels = inst.labels(qid)
    levels = set(inst.level_codes(qid))
    wanted = {_key(v) for v in condition["in"]}
    keys = [k for k in attr.keys if k in levels and (k in wanted or labels.get(k) in wanted)]
    return attr.match(keys) if keys else np.zeros(n, dtype=bool)


def _eligible_rows(inst: _Instrument, qid: str, attrs, question_attr, n: int) -> np.ndarray | None:
    """The respondents a question with an `eligible` condition was shown to (None: everybody)."""
    condition = inst.question(qid).get("eligible")
    if not condition:
        return None
    return np.flatnonzero(_condition_mask(inst, condition, attrs, question_attr, n))


def _scatter(n: int, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.full(n, None, dtype=object)
    out[rows] = values
    return out


def _draw_attribute(rng, n, inst: _Instrument, name: str, attr_spec: Mapping[str, Any],
                    attrs: Mapping[str, _Attr]) -> tuple[_Attr, np.ndarray]:
    qid = attr_spec["question"]
    labels = inst.labels(qid)
    by = attr_spec.get("quota_by")
    quota = attr_spec["quota"]
    if by:
        parent = attrs[by]
        keys: list[str] = []
        for sub in quota.values():
            keys += [_key(k) for k in sub if _key(k) not in keys]
        index = np.zeros(n, dtype=np.int64)
        for j, parent_key in enumerate(parent.keys):
            rows = np.flatnonzero(parent.index == j)
            sub = {_key(k): v for k, v in quota.items()}.get(parent_key, quota.get("*"))
            if sub is None:
                raise PulseError(f"synth spec: {name}: no quota for {by} = {parent_key} and no '*'.")
            sub_keys, sub_index = _quota_codes(rng, rows.size, sub)
            index[rows] = np.array([keys.index(k) for k in sub_keys], dtype=np.int64)[sub_index]
    else:
        keys, index = _quota_codes(rng, n, quota)
    for key in keys:
        if key != _BLANK and key not in labels:
            raise PulseError(f"synth spec: {name}: {key!r} is neither a level code nor a missing kind of {qid}.")

    if inst.question(qid).get("type") == "multi":
        extra = attr_spec.get("extra", {})
        extra_weights = {_key(k): v for k, v in extra.get("weights", {}).items()}
        extra_keys = list(extra_weights)
        keys = keys + [k for k in extra_keys if k not in keys]
        selected = np.zeros((n, len(keys)), dtype=bool)
        selected[np.arange(n), index] = True
        if extra:
            _, pick = _quota_codes(rng, n, {"extra": extra["share"], "none": 1 - extra["share"]})
            rows = np.flatnonzero(pick == 0)
            weights = np.array([float(extra_weights.get(k, 0)) for k in keys])
            second = _draw_excluding(rng, rows.size, weights, index[rows][:, None])
            selected[rows, second] = True
        order = [k for k in inst.level_codes(qid) if k in keys] + [k for k in keys if k not in inst.level_codes(qid)]
        joiner = inst.joiner(qid)
        exported = np.full(n, None, dtype=object)
        # Join the selected labels in the scale's order; combinations are few, so build each once.
        combo_id = selected[:, [keys.index(k) for k in order]].astype(np.int64) @ (1 << np.arange(len(order)))
        for combo in np.unique(combo_id):
            text = joiner.join(labels[k] for bit, k in enumerate(order) if combo >> bit & 1)
            exported[combo_id == combo] = text or None
        return _Attr(keys, selected=selected), exported

    base = np.array([labels.get(k) if k != _BLANK else None for k in keys], dtype=object)
    variants = {keys.index(_key(k)): v for k, v in attr_spec.get("spellings", {}).items()}
    return _Attr(keys, index=index), _spread(rng, index, variants, base)


def _draw_excluding(rng: np.random.Generator, m: int, weights: np.ndarray, exclude: np.ndarray,
                    candidates: np.ndarray | None = None) -> np.ndarray:
    """m weighted draws of an index, each differing from the entries of its `exclude` row (-1 = none)."""
    weights = np.asarray(weights, dtype=float)
    if candidates is not None:
        mask = np.zeros(len(weights), dtype=bool)
        mask[candidates] = True
        weights = np.where(mask, weights, 0.0)
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    if weights.sum() <= 0:
        raise PulseError("synth spec: nothing to draw from (all weights are zero).")
    cumulative = np.cumsum(weights / weights.sum())
    out = np.searchsorted(cumulative, rng.random(m), side="right")
    out = np.minimum(out, len(weights) - 1)
    for _ in range(1000):
        bad = (out[:, None] == exclude).any(axis=1) | (weights[out] <= 0)
        if not bad.any():
            return out
        redo = np.searchsorted(cumulative, rng.random(int(bad.sum())), side="right")
        out[bad] = np.minimum(redo, len(weights) - 1)
    raise PulseError("synth spec: cannot draw a country different from the excluded ones; widen the table.")


# --------------------------------------------------------------------------------------------
# Countries: nationality (one or several) and residence
# --------------------------------------------------------------------------------------------


def _draw_countries(rng, n, inst: _Instrument, cspec: Mapping[str, Any]):
    table = cspec["table"]
    iso = list(table)
    groups = [str(table[c]["group"]) for c in iso]
    group_keys = sorted(set(groups))
    group_of = np.array([group_keys.index(g) for g in groups], dtype=np.int64)
    nat_weight = np.array([float(table[c].get("weight", 0)) for c in iso])
    dest_weight = np.array([float(table[c].get("destination", 0)) for c in iso])

    # Analysis nationality: exact quota over the pool.
    pool = [c for c, w in zip(iso, nat_weight) if w > 0]
    pool_keys, pool_index = _quota_codes(rng, n, {c: table[c]["weight"] for c in pool})
    primary = np.array([iso.index(c) for c in pool_keys], dtype=np.int64)[pool_index]
    primary_counts = np.bincount(primary, minlength=len(iso))

    # Residence patterns.
    patterns = cspec["patterns"]
    weights = {i: float(p.get("weight", 0)) for i, p in enumerate(patterns)}
    fixed = {i: int(p["fixed"]) for i, p in enumerate(patterns) if "fixed" in p}
    pkeys, pindex = _quota_codes(rng, n, weights, fixed)
    pattern_counts = np.bincount(pindex, minlength=len(pkeys))
    pattern_of_key = [patterns[int(k)] for k in pkeys]
    several = np.array([bool(p.get("several")) for p in pattern_of_key])
    residence_kind = [p["residence"] for p in pattern_of_key]
    abroad_several = several & np.array([r != "home" for r in residence_kind])

    # The `top` most represented countries; abroad respondents with several nationalities
    # must hold a less represented one (their analysis nationality under the least-represented rule).
    top_n = int(cspec.get("top", 5))
    top = np.argsort(-primary_counts, kind="stable")[:top_n]
    threshold = primary_counts[top].min() if top.size else 0
    eligible = primary_counts[primary] < threshold
    pattern = np.full(n, -1, dtype=np.int64)
    order = rng.permutation(n)
    eligible_rows = order[eligible[order]]
    need = int(pattern_counts[abroad_several].sum())
    if need > eligible_rows.size:
        raise PulseError("synth spec: too few respondents outside the `top` countries for the several-abroad patterns.")
    start = 0
    for k in np.flatnonzero(abroad_several):
        pattern[eligible_rows[start:start + pattern_counts[k]]] = k
        start += pattern_counts[k]
    rest = order[pattern[order] < 0]
    others = np.repeat(np.flatnonzero(~abroad_several), pattern_counts[~abroad_several])
    pattern[rest] = others[rng.permutation(others.size)]
    row_several = several[pattern]

    # Other nationalities (columns of `extra`, -1 = none).
    extra_quota = cspec.get("extra_nationalities", {1: 1})
    max_extra = max(int(k) for k in extra_quota)
    extra = np.full((n, max_extra), -1, dtype=np.int64)
    several_rows = np.flatnonzero(row_several)
    ekeys, eindex = _quota_codes(rng, several_rows.size, extra_quota)
    how_many = np.array([int(k) for k in ekeys], dtype=np.int64)[eindex]
    abroad_rows = abroad_several[pattern]
    for column in range(max_extra):
        rows = several_rows[how_many > column]
        home_rows = rows[~abroad_rows[rows]]
        away_rows = rows[abroad_rows[rows]]
        extra[home_rows, column] = _draw_excluding(rng, home_rows.size, nat_weight,
                                                   np.column_stack([primary[home_rows], extra[home_rows]]))
        extra[away_rows, column] = _draw_excluding(rng, away_rows.size, nat_weight,
                                                   np.column_stack([primary[away_rows], extra[away_rows]]),
                                                   candidates=top)

    # Residence.
    residence = np.full(n, -1, dtype=np.int64)
    held = np.column_stack([primary, extra])
    for k, kind in enumerate(residence_kind):
        rows = np.flatnonzero(pattern == k)
        if kind == "home":
            residence[rows] = primary[rows]
        elif kind == "same_group":
            for g in range(len(group_keys)):
                sub = rows[group_of[primary[rows]] == g]
                residence[sub] = _draw_excluding(rng, sub.size, nat_weight, held[sub],
                                                 candidates=np.flatnonzero(group_of == g))
        elif kind == "other_group":
            for g in range(len(group_keys)):
                sub = rows[group_of[primary[rows]] == g]
                residence[sub] = _draw_excluding(rng, sub.size, dest_weight, held[sub],
                                                 candidates=np.flatnonzero(group_of != g))
        elif kind != "unknown":
            raise PulseError(f"synth spec: unknown residence pattern {kind!r} (home, same_group, other_group, unknown).")

    # The least-represented rule must pick the intended nationality for abroad respondents.
    counts = np.bincount(held[held >= 0], minlength=len(iso))
    away = np.flatnonzero(abroad_rows)
    if away.size:
        extra_counts = np.where(extra[away] >= 0, counts[np.maximum(extra[away], 0)], np.iinfo(np.int64).max)
        if not (counts[primary[away]][:, None] < extra_counts).all():
            raise PulseError("synth spec: an abroad respondent's intended nationality is not the least represented one.")

    # Spell every mention of a country (exact share of each spelling per country).
    mentions = np.concatenate([primary, extra.ravel(), residence])
    spelled = np.full(mentions.size, None, dtype=object)
    by_country = np.argsort(mentions, kind="stable")
    sorted_countries = mentions[by_country]
    bounds = np.searchsorted(sorted_countries, np.arange(len(iso) + 1))
    for c in range(len(iso)):
        positions = by_country[bounds[c]:bounds[c + 1]]
        if positions.size == 0:
            continue
        names = table[iso[c]]["names"]
        keys, which = _quota_codes(rng, positions.size, names)
        spelled[positions] = np.array(keys, dtype=object)[which]
    nat_name = spelled[:n]
    extra_name = spelled[n:n + extra.size].reshape(extra.shape)
    res_name = spelled[n + extra.size:]
    unknown_rows = np.flatnonzero(residence < 0)
    unknown_names = list(cspec.get("unknown_names", ["Unknown"]))
    res_name[unknown_rows] = np.array(unknown_names, dtype=object)[
        rng.integers(0, len(unknown_names), unknown_rows.size)]

    nationality_text = nat_name.copy()
    joiner = inst.joiner(cspec["nationality"])
    first = rng.integers(0, max_extra + 1, several_rows.size)
    for i, row in enumerate(several_rows):
        names = [nat_name[row], *[name for name in extra_name[row] if name is not None]]
        position = min(int(first[i]), len(names) - 1)
        names.insert(position, names.pop(0))
        nationality_text[row] = joiner.join(names)

    attrs = {
        "nationality": _Attr(iso, index=primary),
        "nationality_group": _Attr(group_keys, index=group_of[primary]),
        "residence": _Attr(iso + ["unknown"], index=np.where(residence >= 0, residence, len(iso))),
        "residence_group": _Attr(group_keys + ["unknown"],
                                 index=np.where(residence >= 0, group_of[np.maximum(residence, 0)], len(group_keys))),
    }
    columns = {inst.column(cspec["nationality"]): nationality_text, inst.column(cspec["residence"]): res_name}
    return attrs, columns


# --------------------------------------------------------------------------------------------
# Latent scores and ordinal items
# --------------------------------------------------------------------------------------------


def _effects(n: int, effects: list[Mapping[str, Any]] | None, attrs: Mapping[str, _Attr]) -> np.ndarray:
    total = np.zeros(n)
    for effect in effects or []:
        mask = np.ones(n, dtype=bool)
        for name, condition in effect["when"].items():
            if name not in attrs:
                raise PulseError(f"synth spec: effect on unknown attribute {name!r}; known: {', '.join(attrs)}.")
            mask &= attrs[name].match(condition)
        total[mask] += float(effect["add"])
    return total


def _draw_latents(rng, n, lspec: Mapping[str, Any], attrs) -> dict[str, np.ndarray]:
    latents = {}
    for name, spec in lspec.items():
        latents[name] = _effects(n, spec.get("effects"), attrs) + float(spec.get("sd", 1.0)) * rng.standard_normal(n)
    return latents


def _draw_item(rng, n, inst: _Instrument, qid: str, spec: Mapping[str, Any], latents, attrs) -> np.ndarray:
    labels = inst.labels(qid)
    codes = inst.level_codes(qid)
    given = {_key(k): v for k, v in spec["shares"].items()}
    shares = np.array([float(given.get(c, 0)) for c in codes])
    if shares.sum() <= 0:
        raise PulseError(f"synth spec: item {qid}: shares must not all be zero.")
    shares = shares / shares.sum()
    n_dk = int(_round_half_up(float(spec.get("dont_know", 0)) * n))
    n_blank = int(_round_half_up(float(spec.get("blank", 0)) * n))
    n_valid = n - n_dk - n_blank
    if n_valid < 0:
        raise PulseError(f"synth spec: item {qid}: don't know and blank shares exceed 1.")
    # Cumulative from the top level: every top-k count is round(share * n_valid).
    top_down = np.concatenate([[0], _round_half_up(np.cumsum(shares[::-1]) * n_valid)])
    top_down[-1] = n_valid
    counts = np.diff(top_down)[::-1]

    score = _effects(n, spec.get("effects"), attrs) + float(spec.get("noise", 1.0)) * rng.standard_normal(n)
    latent = spec.get("latent")
    if latent:
        # One latent with `loading`, or a mapping {latent: loading} (several latents).
        loadings = latent if isinstance(latent, Mapping) else {latent: spec.get("loading", 1.0)}
        for name, loading in loadings.items():
            if name not in latents:
                raise PulseError(f"synth spec: item {qid}: unknown latent {name!r}.")
            score += float(loading) * latents[name]

    perm = rng.permutation(n)
    dk_label = labels.get("dont_know")
    if n_dk and dk_label is None:
        raise PulseError(f"synth spec: item {qid}: the scale has no dont_know missing code.")
    table = np.array([None, dk_label, *(labels[c] for c in codes)], dtype=object)
    out = np.zeros(n, dtype=np.int8)          # 0 blank, 1 don't know, 2.. the levels
    out[perm[:n_dk]] = 1
    valid = perm[n_dk + n_blank:]
    # Levels by rank of the score; a partition at the level boundaries suffices (scores are
    # continuous, so the groups do not depend on how ties would be broken).
    bounds = np.concatenate([[0], np.cumsum(counts)])
    kth = [int(b) for b in bounds[1:-1] if 0 < b < n_valid]
    ranked = valid[np.argpartition(score[valid], kth)] if kth else valid
    for level, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        out[ranked[lo:hi]] = level + 2
    return table[out]


def _draw_multi(rng, n, inst: _Instrument, qid: str, spec: Mapping[str, Any], latents, attrs) -> np.ndarray:
    """A multi-select item: `selected: {choice: share}` gives each choice's share among the respondents
    who answer (exact counts, rounded half-up); `dont_know` and `blank` are shares of all respondents.
    Everybody who answers ticks at least one choice: first one choice each, allocated in proportion to
    the counts, then each choice's remaining ticks go to those ranking highest on `effects` (per
    choice, `effects: {choice: [...]}`) plus unit normal noise among those without it."""
    labels = inst.labels(qid)
    codes = inst.level_codes(qid)
    given = {_key(k): float(v) for k, v in spec.get("selected", {}).items()}
    unknown = [k for k in given if k not in codes]
    if unknown:
        raise PulseError(f"synth spec: item {qid}: {', '.join(unknown)} not a choice of the scale.")
    n_dk = int(_round_half_up(float(spec.get("dont_know", 0)) * n))
    n_blank = int(_round_half_up(float(spec.get("blank", 0)) * n))
    n_valid = n - n_dk - n_blank
    if n_valid < 0:
        raise PulseError(f"synth spec: item {qid}: don't know and blank shares exceed 1.")
    counts = np.array([int(_round_half_up(given.get(c, 0.0) * n_valid)) for c in codes], dtype=np.int64)
    if n_valid and counts.sum() < n_valid:
        raise PulseError(f"synth spec: item {qid}: the choices' shares must sum to at least 1 "
                         f"(each respondent who answers ticks at least one).")
    perm = rng.permutation(n)
    valid = perm[n_dk + n_blank:]
    selected = np.zeros((n, len(codes)), dtype=bool)
    first = np.repeat(np.arange(len(codes)), _allocate(n_valid, counts))
    selected[valid, rng.permutation(first)] = True
    effects = spec.get("effects") or {}
    if not isinstance(effects, Mapping):
        raise PulseError(f"synth spec: item {qid}: a multi-select item's effects are a mapping choice -> effects.")
    effects = {_key(k): v for k, v in effects.items()}
    for j, code in enumerate(codes):
        more = int(counts[j] - selected[:, j].sum())
        if more <= 0:
            continue
        candidates = valid[~selected[valid, j]]
        score = _effects(n, effects.get(code), attrs)
        score = score[candidates] + rng.standard_normal(candidates.size)
        chosen = candidates[np.argpartition(-score, more - 1)[:more]] if more < candidates.size else candidates
        selected[chosen, j] = True
    out = np.full(n, None, dtype=object)
    if n_dk:
        dk_label = labels.get("dont_know")
        if dk_label is None:
            raise PulseError(f"synth spec: item {qid}: the scale has no dont_know missing code.")
        out[perm[:n_dk]] = dk_label
    joiner = inst.joiner(qid)
    combo_id = selected[valid].astype(np.int64) @ (1 << np.arange(len(codes)))
    texts = {int(c): joiner.join(labels[k] for bit, k in enumerate(codes) if int(c) >> bit & 1)
             for c in np.unique(combo_id)}
    out[valid] = np.array([texts[int(c)] for c in combo_id], dtype=object)
    return out


# --------------------------------------------------------------------------------------------
# Free text
# --------------------------------------------------------------------------------------------


def _draw_texts(rng, n, tspec: Mapping[str, Any]) -> np.ndarray:
    keys, index = _quota_codes(rng, n, tspec["quota"])
    out = np.full(n, None, dtype=object)
    slots = {name: list(phrases) for name, phrases in tspec.get("slots", {}).items()}
    categories = tspec.get("categories", {})
    keywords = {c: re.compile("|".join(f"(?:{k})" for k in spec.get("keywords", [])), re.IGNORECASE)
                for c, spec in categories.items() if spec.get("keywords")}
    for k, key in enumerate(keys):
        rows = np.flatnonzero(index == k)
        if key == _BLANK or rows.size == 0:
            continue
        if key == _NON_ANSWER:
            choices = list(tspec["non_answers"])
            out[rows] = np.array(choices, dtype=object)[rng.integers(0, len(choices), rows.size)]
            continue
        if key not in categories:
            raise PulseError(f"synth spec: text quota {key!r} is not a category, {_NON_ANSWER} or {_BLANK}.")
        templates = list(categories[key]["templates"])
        template_of = rng.integers(0, len(templates), rows.size)
        used = sorted({m.group(1).lower() for t in templates for m in _SLOT.finditer(t)})
        undefined = [slot for slot in used if not slots.get(slot)]
        if undefined:
            raise PulseError(f"synth spec: text category {key!r} uses undefined slot(s) {', '.join(undefined)}.")
        picks = {}
        for slot in used:
            size = len(slots[slot])
            first = rng.integers(0, size, rows.size)
            second = (first + rng.integers(1, max(size, 2), rows.size)) % size
            picks[slot] = (first, second)
        # Compose each distinct (template, phrases) combination once, then map back to the rows.
        combo = template_of.astype(np.int64)
        for slot in used:
            size = len(slots[slot])
            uses = np.array([any(m.group(1).lower() == slot and not m.group(2) for m in _SLOT.finditer(t))
                             for t in templates])
            uses2 = np.array([any(m.group(1).lower() == slot and m.group(2) for m in _SLOT.finditer(t))
                              for t in templates])
            one = np.where(uses[template_of], picks[slot][0], 0)
            two = np.where(uses2[template_of], picks[slot][1], 0)
            combo = (combo * size + one) * size + two
        _, first_row, inverse = np.unique(combo, return_index=True, return_inverse=True)

        def compose(i: int) -> str:
            def fill(match):
                slot = match.group(1).lower()
                phrase = slots[slot][picks[slot][1 if match.group(2) else 0][i]]
                return phrase[:1].upper() + phrase[1:] if match.group(1)[:1].isupper() else phrase
            return _SLOT.sub(fill, templates[template_of[i]])

        texts = [compose(int(i)) for i in first_row]
        for category, pattern in keywords.items():
            hits = [bool(pattern.search(t)) for t in texts]
            if category == key and not all(hits):
                raise PulseError(f"synth spec: a {key!r} answer does not match its keywords: {texts[hits.index(False)]!r}")
            if category != key and any(hits):
                raise PulseError(f"synth spec: a {key!r} answer matches the {category!r} keywords: {texts[hits.index(True)]!r}")
        out[rows] = np.array(texts, dtype=object)[inverse.ravel()]
    return out


# --------------------------------------------------------------------------------------------
# Administrative columns and screened-out rows
# --------------------------------------------------------------------------------------------


def _random_strings(rng, m: int, length: int, alphabet: np.ndarray, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    """m distinct random strings, and an int64 key of each (its first characters) for ordering."""
    width = min(length, 10)
    weights = alphabet.size ** np.arange(width - 1, -1, -1, dtype=np.int64)

    def draw(k):
        digits = rng.integers(0, alphabet.size, (k, length))
        return digits, digits[:, :width] @ weights

    digits, key = draw(m)
    for _ in range(100):
        _, first = np.unique(key, return_index=True)
        duplicate = np.ones(m, dtype=bool)
        duplicate[first] = False
        if not duplicate.any():
            text = alphabet[digits].view(f"S{length}").ravel().astype(f"U{length}")
            return np.char.add(prefix, text).astype(object), key
        digits[duplicate], key[duplicate] = draw(int(duplicate.sum()))
    raise PulseError("synth: cannot make unique identifiers; make them longer.")


def _assemble(rng, n, inst: _Instrument, espec: Mapping[str, Any], columns: dict[str, np.ndarray],
              carried: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """The export frame and the kept respondents' tokens; `carried` = (rows, tokens) of returning respondents."""
    export = inst.export
    id_col = export.get("respondent_id", "ResponseId")
    end_col = export.get("submitted_at", "EndDate")
    token_col = export.get("duplicate_key", "ExternalReference")
    status_col = export.get("preview", {}).get("column", "Status")
    consent_col = export.get("consent", {}).get("column", "Consent")
    start_col = espec.get("started_at", "StartDate")
    admin = list(espec.get("columns", [id_col, start_col, end_col, status_col, token_col, consent_col]))
    question_cols = [q["column"] for q in inst.raw["questions"]]
    missing = [c for c in question_cols if c not in columns]
    if missing:
        raise PulseError(f"synth spec: nothing generates the column(s) {', '.join(missing)}.")

    extra = {"preview": 0, "declined": 0, "duplicates": 0, "empty": 0, **espec.get("extra_rows", {})}
    n_pre, n_dec, n_dup, n_empty = (int(extra[k]) for k in ("preview", "declined", "duplicates", "empty"))
    total = n + n_pre + n_dec + n_dup + n_empty

    window = espec.get("fielded", {"start": "2024-05-01 00:00:00", "end": "2024-05-31 23:59:59"})
    t0 = np.datetime64(str(window["start"]).replace(" ", "T"), "s").astype(np.int64)
    t1 = np.datetime64(str(window["end"]).replace(" ", "T"), "s").astype(np.int64)
    duration = espec.get("duration_seconds", {"min": 300, "max": 1800})
    d_min, d_max = int(duration["min"]), int(duration["max"])
    # Triangular-ish durations from integer uniforms (no transcendental functions).
    half = (d_max - d_min) // 2
    durations = d_min + rng.integers(0, half + 1, total) + rng.integers(0, half + 1, total)
    # Kept rows get their submission times in row order (rows are already in random order),
    # so the export needs no reordering of the large columns: the few other rows are inserted.
    end = rng.integers(t0 + d_max, t1 + 1, total)
    end[:n] = np.sort(end[:n])

    # The screened-out rows (preview, declined, duplicates, empty) are built apart and appended.
    answers_of = lambda rows: np.column_stack([np.asarray(columns[c], dtype=object)[rows] for c in question_cols])
    frame = np.full((total - n, len(question_cols)), None, dtype=object)
    ids, id_key = _random_strings(rng, total, int(espec.get("response_id", {}).get("length", 15)), _ALPHANUM,
                          str(espec.get("response_id", {}).get("prefix", "R_")))
    tokens, _ = _random_strings(rng, total, int(espec.get("token", {}).get("length", 12)), _TOKEN_CHARS,
                             str(espec.get("token", {}).get("prefix", "")))
    if carried is not None:
        tokens[carried[0]] = carried[1]
        if pd.Series(tokens[:n]).duplicated().any():
            raise PulseError("synth: a new invitation token equals a returning respondent's; change the seed.")
    kept_tokens = tokens[:n].copy()
    status = np.full(total, espec.get("status", "IP Address"), dtype=object)
    consent = np.full(total, export.get("consent", {}).get("accept", ["I agree"])[0], dtype=object)

    row = n
    if n_pre:   # a preview by the survey team: a complete answer set, no invitation token
        source = rng.integers(0, n, n_pre)
        frame[row - n:row - n + n_pre] = answers_of(source)
        status[row:row + n_pre] = export.get("preview", {}).get("values", ["Survey Preview"])[0]
        tokens[row:row + n_pre] = None
        row += n_pre
    if n_dec:
        consent[row:row + n_dec] = espec.get("consent_decline", "I do not agree")
        row += n_dec
    if n_dup:   # an earlier, partly completed submission with the token of a kept one
        candidates = np.flatnonzero(end[:n] - t0 > 3 * 86400)
        if candidates.size < n_dup:
            raise PulseError(f"synth: too few respondents (n={n}) for {n_dup} duplicate submissions.")
        source = np.sort(rng.choice(candidates, n_dup, replace=False))
        earlier = answers_of(source)
        stop = rng.integers(4, len(question_cols), n_dup)
        for i in range(n_dup):
            earlier[i, stop[i]:] = None
        frame[row - n:row - n + n_dup] = earlier
        tokens[row:row + n_dup] = tokens[source]
        end[row:row + n_dup] = end[source] - rng.integers(3600, 2 * 86400, n_dup)
        row += n_dup
    # the empty rows keep consent and ids only
    start = end - durations

    def stamp(seconds):
        text = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
        return np.char.replace(text, "T", " ").astype(object)

    admin_values = {id_col: ids, start_col: stamp(start), end_col: stamp(end), status_col: status,
                    token_col: tokens, consent_col: consent}
    unknown = [c for c in admin if c not in admin_values]
    if unknown:
        raise PulseError(f"synth spec: export.columns names unknown administrative column(s) {', '.join(unknown)}.")
    extra_order = n + np.lexsort((id_key[n:], end[n:]))
    at = np.searchsorted(end[:n], end[extra_order], side="right")
    data = {c: np.insert(np.asarray(admin_values[c], dtype=object)[:n], at,
                         np.asarray(admin_values[c], dtype=object)[extra_order]) for c in admin}
    data.update({c: np.insert(np.asarray(columns[c], dtype=object), at, frame[extra_order - n, k])
                 for k, c in enumerate(question_cols)})
    return pd.DataFrame(data, dtype=object), kept_tokens

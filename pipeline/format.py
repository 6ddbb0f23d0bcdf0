"""How every number is written, in figures, headlines, captions, tables and the report alike.

Rounding is half away from zero on the decimal value as stored (71.5 → "72%"), never banker's rounding,
so a reader who recomputes a share by hand gets the same digits. Missing values are written as "–".
"""

from __future__ import annotations

import datetime
import math
from decimal import ROUND_HALF_UP, Decimal

MISSING = "–"


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def rounded(value: float, decimals: int) -> Decimal:
    """`value` rounded half away from zero to `decimals` places (from its shortest decimal repr)."""
    quantum = Decimal(1).scaleb(-decimals)
    return Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP)


def number(value: float, decimals: int = 0) -> str:
    """A plain number with a thousands separator: 1234.5 → "1,235" (0 decimals)."""
    if _missing(value):
        return MISSING
    result = rounded(value, decimals)
    if result == 0:
        result = abs(result)
    return f"{result:,.{decimals}f}"


def percent(value: float) -> str:
    """A percentage given on the 0–100 scale, no decimals: 71.26 → "71%"."""
    return MISSING if _missing(value) else f"{number(value)}%"


def percent_bare(value: float) -> str:
    """A percentage without the sign, as written inside bar segments: 71.26 → "71"."""
    return number(value)


def points(value: float) -> str:
    """A difference of percentages in percentage points, signed: 12.4 → "+12 pp"."""
    if _missing(value):
        return MISSING
    text = number(abs(value))
    sign = "" if text == "0" else ("+" if value > 0 else "−")
    return f"{sign}{text} pp"


def mean(value: float) -> str:
    """A mean rating with one decimal: 3.456 → "3.5"."""
    return number(value, 1)


def count(value: float) -> str:
    """A count of respondents or answers: 1234 → "1,234"."""
    return number(value)


def pvalue(value: float) -> str:
    """A p- or q-value: "<0.001" below 0.001, else three decimals ("0.012")."""
    if _missing(value):
        return MISSING
    return "<0.001" if value < 0.001 else f"{rounded(value, 3):.3f}"


def pvalue_clause(name: str, value: float) -> str:
    """"p < 0.001" or "q = 0.012": a p- or q-value as written in a sentence."""
    text = pvalue(value)
    return f"{name} < 0.001" if text.startswith("<") else f"{name} = {text}"


def statistic(value: float) -> str:
    """A test statistic or effect size with two decimals."""
    return number(value, 2)


def signed(value: float) -> str:
    """A difference of mean scores with its sign and two decimals: 0.7222 → "+0.72", −1.3 → "−1.30"."""
    if _missing(value):
        return MISSING
    text = number(abs(value), 2)
    return text if text == "0.00" else f"{'+' if value > 0 else '−'}{text}"


def n_label(label: str, n: float) -> str:
    """A group label with its size: ("Women", 142) → "Women (n=142)"."""
    return f"{label} (n={count(n)})"


def date(value: str | datetime.date) -> str:
    """An ISO date as "1 May 2024"."""
    day = value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value)[:10])
    return f"{day.day} {day:%B %Y}"


def date_range(start: str | datetime.date, end: str | datetime.date) -> str:
    """A fielding period: "1–31 May 2024", "28 April – 5 May 2024" or "1 December 2024 – 5 January 2025"."""
    first = start if isinstance(start, datetime.date) else datetime.date.fromisoformat(str(start)[:10])
    last = end if isinstance(end, datetime.date) else datetime.date.fromisoformat(str(end)[:10])
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%B %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%B} – {last.day} {last:%B %Y}"
    return f"{date(first)} – {date(last)}"


def join(items: list[str], conjunction: str = "and") -> str:
    """"a", "a and b", "a, b and c"."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def sentence_case(text: str) -> str:
    """The first letter upper-cased, the rest untouched ("non-WEOG respondents" → "Non-WEOG respondents")."""
    return text[:1].upper() + text[1:]

import math

import pytest

from pipeline import format as fmt


@pytest.mark.parametrize("value, text", [(71.5, "72%"), (70.49, "70%"), (0.4, "0%"), (100.0, "100%"),
                                         (2.5, "3%"), (math.nan, "–")])
def test_percent_rounds_half_away_from_zero(value, text):
    assert fmt.percent(value) == text


def test_means_counts_and_p_values():
    assert fmt.mean(3.45) == "3.5" and fmt.mean(3.449) == "3.4" and fmt.mean(4) == "4.0"
    assert fmt.count(1234.0) == "1,234" and fmt.count(0) == "0"
    assert fmt.pvalue(0.0004) == "<0.001" and fmt.pvalue(0.0125) == "0.013" and fmt.pvalue(1.0) == "1.000"
    assert fmt.pvalue_clause("q", 0.0001) == "q < 0.001" and fmt.pvalue_clause("q", 0.2) == "q = 0.200"
    assert fmt.points(12.4) == "+12 pp" and fmt.points(-0.2) == "0 pp" and fmt.points(-3.6) == "−4 pp"
    assert fmt.n_label("Women", 142) == "Women (n=142)"


def test_dates():
    assert fmt.date("2024-05-01") == "1 May 2024"
    assert fmt.date_range("2024-05-01", "2024-05-31") == "1–31 May 2024"
    assert fmt.date_range("2024-04-28", "2024-05-05") == "28 April – 5 May 2024"
    assert fmt.date_range("2024-12-01", "2025-01-05") == "1 December 2024 – 5 January 2025"


def test_words():
    assert fmt.join(["a"]) == "a" and fmt.join(["a", "b"]) == "a and b" and fmt.join(["a", "b", "c"]) == "a, b and c"
    assert fmt.sentence_case("non-WEOG respondents") == "Non-WEOG respondents"

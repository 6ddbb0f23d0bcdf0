"""The figures stage on the tiny survey: files, CSVs equal to the table rows drawn, headlines equal to the
tables, byte-identical reruns."""

import json

import pytest

from pipeline.figures import run_figures
from pipeline.figures.tables import read_table
from pipeline.params import load_params

from tests.figures.helpers import fact_problems, rows_equal, tiny_project

KEYS = {"distributions": ["question", "breakdown", "group", "level"], "means": ["question", "breakdown", "group"]}
VALUES = {"distributions": ["n", "count", "pct", "suppressed", "dont_know", "refused", "blank", "not_asked"],
          "means": ["n", "mean", "ci_low", "ci_high", "suppressed"]}


@pytest.fixture(scope="module")
def wave(tmp_path_factory):
    wave = tiny_project(tmp_path_factory.mktemp("tiny"))
    run_figures(wave, load_params(wave.root))
    return wave


def index(wave):
    return json.loads((wave.out_dir / "figures" / "index.json").read_text(encoding="utf-8"))


def test_every_figure_is_written_with_its_files(wave):
    from PIL import Image

    entries = index(wave)["figures"]
    assert [e["id"] for e in entries] == ["gender", "field-gender", "region-weog", "agree-overall", "agree-groups",
                                          "agree-dots", "agree-field"]
    for entry in entries:
        assert set(entry["files"]) == {"svg", "png", "csv"}
        for name in entry["files"].values():
            assert (wave.out_dir / "figures" / name).stat().st_size > 0
        width, _ = Image.open(wave.out_dir / "figures" / entry["files"]["png"]).size
        assert width >= 7 * 200
        assert entry["alt"] and entry["caption"] and entry["headline"] and entry["section"]
        svg = (wave.out_dir / "figures" / entry["files"]["svg"]).read_text(encoding="utf-8")
        assert "Date" not in svg and "font-family: 'DejaVu Sans'" in svg
        assert "SYNTHETIC EXAMPLE DATA" in svg


def test_each_csv_holds_exactly_the_table_rows_drawn(wave):
    tables = {name: read_table(wave.out_dir / "tables" / f"{name}.csv") for name in ("distributions", "means", "tests")}
    for entry in index(wave)["figures"]:
        frame = read_table(wave.out_dir / "figures" / entry["files"]["csv"])
        source = "means" if entry["kind"] == "dots" else "distributions"
        assert not rows_equal(frame, tables[source], KEYS[source], VALUES[source]), entry["id"]
        assert len(frame) == len(frame.drop_duplicates(KEYS[source]))
        if entry["kind"] == "dots":
            tested = frame[frame["test"] != ""]
            assert not rows_equal(tested, tables["tests"], ["question", "breakdown", "test"], ["q_value"])


def test_the_tables_rows_of_each_figure_are_all_drawn(wave):
    distributions = read_table(wave.out_dir / "tables" / "distributions.csv")
    frame = read_table(wave.out_dir / "figures" / "agree-groups.csv")
    expected = distributions[(distributions["question"] == "q1") &
                             distributions["breakdown"].str.match(r"^(all|gender|weog|field:.*)$")]
    assert len(frame) == len(expected)


def test_headline_numbers_equal_the_tables(wave):
    entries = index(wave)["figures"]
    for entry in entries:
        assert not fact_problems(entry, wave.out_dir / "tables")
    gender = next(e for e in entries if e["id"] == "gender")
    assert gender["headline"] == "Women are the largest group: 67% (2 of 3)"
    assert next(e for e in entries if e["id"] == "agree-overall")["headline"] == "67% of respondents agree with the first statement"


def test_a_wrong_number_is_caught(wave):
    entry = next(e for e in index(wave)["figures"] if e["id"] == "gender")
    entry["headline"] = entry["headline"].replace("67%", "68%")
    entry["facts"] = [dict(f, text="68%") if f["text"] == "67%" else f for f in entry["facts"]]
    assert fact_problems(entry, wave.out_dir / "tables")


def test_reruns_are_byte_identical(wave):
    folder = wave.out_dir / "figures"
    before = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    run_figures(wave, load_params(wave.root))
    after = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    assert before.keys() == after.keys()
    assert [name for name in before if before[name] != after[name]] == []


def test_suppressed_groups_are_kept_in_the_csv_and_marked(tmp_path):
    wave = tiny_project(tmp_path, min_group_size=2)
    lines = run_figures(wave, load_params(wave.root))
    assert lines[0].startswith("7 figures")
    frame = read_table(wave.out_dir / "figures" / "agree-groups.csv")
    hidden = frame[frame["suppressed"]]
    assert len(hidden) and hidden["pct"].isna().all()

"""Figures drawn in forked worker processes: the same files, byte for byte, whatever the number of workers."""

import shutil

from pipeline.figures import run_figures
from pipeline.parallel import workers
from pipeline.params import load_params

from tests.figures.helpers import tiny_project


def _figure_files(wave) -> dict[str, bytes]:
    folder = wave.out_dir / "figures"
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_outputs_do_not_depend_on_the_number_of_workers(tmp_path, monkeypatch):
    wave = tiny_project(tmp_path)
    params = load_params(wave.root)
    drawn = {}
    for count in ("1", "3"):
        monkeypatch.setenv("PULSE_WORKERS", count)
        shutil.rmtree(wave.out_dir / "figures", ignore_errors=True)
        run_figures(wave, params)
        drawn[count] = _figure_files(wave)
    assert drawn["1"].keys() == drawn["3"].keys() and len(drawn["1"]) > 7
    assert [name for name in drawn["1"] if drawn["1"][name] != drawn["3"][name]] == []


def test_never_more_workers_than_figures(monkeypatch):
    monkeypatch.setenv("PULSE_WORKERS", "8")
    assert workers(3) == 3 and workers(0) == 1
    monkeypatch.setenv("PULSE_WORKERS", "1")
    assert workers(25) == 1

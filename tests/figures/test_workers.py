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


def test_pngs_are_written_behind_and_waited_for_when_the_block_ends(tmp_path, monkeypatch):
    from pipeline.parallel import overlapping

    wave = tiny_project(tmp_path)
    monkeypatch.setenv("PULSE_WORKERS", "2")
    with overlapping():
        entries = run_figures(wave, load_params(wave.root))
        folder = wave.out_dir / "figures"
        assert all((folder / f"{path.stem}.csv").exists() for path in folder.glob("*.svg"))
    pngs = sorted(path.stem for path in folder.glob("*.png"))
    assert pngs == sorted(path.stem for path in folder.glob("*.svg")) and len(pngs) > 2 and entries


def test_an_error_writing_a_png_in_a_worker_reaches_the_caller(tmp_path, monkeypatch):
    import pytest

    from pipeline.figures import build
    from pipeline.parallel import overlapping

    def broken(figure, path, dpi):
        raise OSError(f"{path}: no space left on device")

    wave = tiny_project(tmp_path)
    monkeypatch.setenv("PULSE_WORKERS", "2")
    monkeypatch.setattr(build, "write_png", broken)
    with pytest.raises(OSError, match="no space left"):
        with overlapping():
            run_figures(wave, load_params(wave.root))
    assert list((wave.out_dir / "figures").glob("*.png")) == []

"""pipeline.pdf.pdf_writer: the PDF is the same whether a forked process or this one writes it, and an error
writing it reaches the caller when the block exits; inside shared_pdf_process, every writer uses one process."""

import pytest

from pipeline import pdf as pdf_module
from pipeline.pdf import pdf_writer, shared_pdf_process

HTML = "<!DOCTYPE html><html><head><title>t</title></head><body><h1>Pulse</h1><p>One page.</p></body></html>"


def _write(tmp_path, workers: str, monkeypatch) -> bytes:
    monkeypatch.setenv("PULSE_WORKERS", workers)
    path = tmp_path / f"report-{workers}.pdf"
    with pdf_writer() as pdf:
        pdf(HTML, path, tmp_path)
        assert workers == "2" or not path.exists()
    return path.read_bytes()


def test_forked_and_in_process_pdfs_are_identical(tmp_path, monkeypatch):
    forked, here = _write(tmp_path, "2", monkeypatch), _write(tmp_path, "1", monkeypatch)
    assert forked.startswith(b"%PDF") and forked == here


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_error_writing_the_pdf_is_raised_when_the_block_exits(tmp_path, monkeypatch, workers):
    monkeypatch.setenv("PULSE_WORKERS", workers)
    (tmp_path / "a-file").write_text("not a folder")
    reached = False
    with pytest.raises(OSError):
        with pdf_writer() as pdf:
            pdf(HTML, tmp_path / "a-file" / "report.pdf", tmp_path)
            reached = True
    assert reached


def test_writers_in_a_shared_block_use_one_process_and_keep_their_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("PULSE_WORKERS", "2")
    made = []
    real = pdf_module._pdf_process
    monkeypatch.setattr(pdf_module, "_pdf_process", lambda: made.append(real()) or made[-1])
    (tmp_path / "a-file").write_text("not a folder")
    with shared_pdf_process():
        with pytest.raises(OSError):
            with pdf_writer() as pdf:
                pdf(HTML, tmp_path / "a-file" / "report.pdf", tmp_path)
        for name in ("first.pdf", "second.pdf"):
            with pdf_writer() as pdf:
                pdf(HTML, tmp_path / name, tmp_path)
            assert (tmp_path / name).exists()
    assert len(made) == 1
    assert (tmp_path / "first.pdf").read_bytes() == (tmp_path / "second.pdf").read_bytes() == \
        _write(tmp_path, "1", monkeypatch)
    assert pdf_module._SHARED is None

"""pipeline.pdf.pdf_writer: the PDF is the same whether a forked process or this one writes it, and an error
writing it reaches the caller when the block exits."""

import pytest

from pipeline.pdf import pdf_writer

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

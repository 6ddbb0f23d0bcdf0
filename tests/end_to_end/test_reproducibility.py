"""Two runs on the same inputs give byte-identical outputs: `pulse verify` re-runs a wave in a temporary
folder and compares every file with the manifest."""

import json

from pipeline.cli import main


def test_manifest_lists_inputs_outputs_params_and_versions(bundled):
    manifest = json.loads((bundled.out / "manifest.json").read_text())
    assert manifest["instrument_version"] == "1.0.0" and manifest["synthetic"] is True
    assert "surveys/risk-pulse/2024-05/responses.csv" in manifest["inputs"]
    assert "outputs/risk-pulse/2024-05/report.pdf" in manifest["outputs"]
    assert "outputs/risk-pulse/2024-05/tables/tests.csv" in manifest["outputs"]
    assert set(manifest["params"]) == {"analyze", "report"} and "pandas" in manifest["dependencies"]
    assert all(len(digest) == 64 for digest in {**manifest["inputs"], **manifest["outputs"]}.values())


def test_verify_reruns_byte_identically(bundled, capsys):
    code = main(["--root", str(bundled.root), "verify", str(bundled.out)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "byte-identical re-run" in out


def test_verify_reruns_a_later_wave_with_the_wave_before_it(bundled, capsys):
    later = bundled.root / "outputs" / "risk-pulse" / "2024-08"
    code = main(["--root", str(bundled.root), "verify", str(later)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "byte-identical re-run" in out


def test_verify_reports_a_changed_output(bundled, capsys):
    table = bundled.out / "tables" / "topbox.csv"
    original = table.read_bytes()
    table.write_bytes(original.replace(b"wilson", b"wilsen", 1))
    try:
        manifest = bundled.out / "manifest.json"
        saved = manifest.read_bytes()
        assert main(["--root", str(bundled.root), "manifest", str(bundled.root / "surveys/risk-pulse/2024-05")]) == 0
        code = main(["--root", str(bundled.root), "verify", str(bundled.out)])
        out = capsys.readouterr().out
        assert code == 1 and "outputs/risk-pulse/2024-05/tables/topbox.csv: differs (output)" in out
    finally:
        table.write_bytes(original)
        manifest.write_bytes(saved)

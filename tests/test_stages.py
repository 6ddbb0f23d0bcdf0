"""dvc.yaml declares exactly the stages, deps, outs and params of the registry that `pulse run` runs."""

from pathlib import Path

import yaml

from pipeline.params import DEFAULTS
from pipeline.stages import STAGES, SURVEY_STAGES

REPO = Path(__file__).parent.parent


def dvc_stages():
    return yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def as_dvc(template: str) -> str:
    return (template.replace("{survey}", "${item.survey}").replace("{wave}", "${item.wave}")
            .replace("{previous}", "${item.previous}"))


def out_path(entry) -> str:
    return next(iter(entry)) if isinstance(entry, dict) else entry


def surveys_listed() -> dict[str, list[str]]:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    listed: dict[str, list[str]] = {}
    for entry in params["waves"].values():
        listed.setdefault(entry["survey"], []).append(str(entry["wave"]))
    return listed


def test_same_stage_names_in_the_same_order():
    survey_stages = [f"{s.name}-{survey}" for survey in surveys_listed() for s in SURVEY_STAGES]
    assert list(dvc_stages()) == [s.name for s in STAGES] + survey_stages


def test_each_survey_stage_depends_on_every_wave_of_its_survey():
    declared = dvc_stages()
    for survey, waves in surveys_listed().items():
        for stage in SURVEY_STAGES:
            dvc = declared[f"{stage.name}-{survey}"]
            assert dvc["cmd"] == f"pulse {stage.name} surveys/{survey}"
            for wave in waves:
                assert f"outputs/{survey}/{wave}/tables/trend_tests.csv" in dvc["deps"]
            assert [out_path(o) for o in dvc["outs"]] == [o.format(survey=survey) for o in stage.outs]
            assert dvc["params"] == list(stage.params)


def test_each_stage_has_the_registry_deps_outs_params_and_command():
    declared = dvc_stages()
    for stage in STAGES:
        dvc = declared[stage.name]
        assert dvc["foreach"] == "${waves}"
        body = dvc["do"]
        assert body["cmd"] == f"pulse {stage.name} surveys/${{item.survey}}/${{item.wave}}"
        assert body["deps"] == [as_dvc(d) for d in stage.deps]
        assert [out_path(o) for o in body["outs"]] == [as_dvc(o) for o in stage.outs]
        assert body.get("params", []) == list(stage.params)


def test_params_file_lists_every_bundled_wave():
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    listed = {(w["survey"], str(w["wave"])) for w in params["waves"].values()}
    bundled = {(p.parent.parent.name, p.parent.name) for p in REPO.glob("surveys/*/*/wave.yaml")}
    assert listed == bundled
    assert set(params) <= set(DEFAULTS)


def test_each_wave_names_the_wave_fielded_before_it():
    from pipeline.project import Wave, previous_wave

    params = yaml.safe_load((REPO / "params.yaml").read_text())
    for entry in params["waves"].values():
        wave = Wave(REPO, entry["survey"], str(entry["wave"]))
        assert str(entry["previous"]) == previous_wave(wave).wave


def test_dvc_yaml_is_the_generated_text():
    from pipeline.stages import dvc_yaml

    assert (REPO / "dvc.yaml").read_text() == dvc_yaml(REPO), "run: python -m pipeline.stages > dvc.yaml"


def test_the_stages_run_for_the_wave_before_are_those_whose_outputs_a_wave_reads():
    from pipeline.stages import STAGES, stages_before

    assert stages_before() == ["ingest", "analyze"]
    read = {d for s in STAGES for d in s.deps if "{previous}" in d}
    assert read and all(any(d.replace("{previous}", "{wave}") in s.outs for s in STAGES if s.name in stages_before())
                        for d in read)

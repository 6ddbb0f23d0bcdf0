"""`pulse`: the command line. Thin: it finds the project folder and waves, then runs registered stages.

Every user-facing error is a PulseError printed as one line per problem, exit code 2; `--debug`
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")  # small matrices everywhere: BLAS threads only contend (set before numpy)

from pipeline.errors import PulseError  # noqa: E402

EXIT_USER_ERROR = 2


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--root", type=Path, default=argparse.SUPPRESS,
                        help="project folder holding surveys/ and outputs/ (default: the current directory)")
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(prog="pulse", parents=[common],
                                     description="Expert pulse survey: raw export to reviewed annex-style report.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", parents=[common], help="run every stage for the given waves (default: all)")
    run.add_argument("waves", nargs="*", help="wave folders, e.g. surveys/<survey>/<wave>")
    for name, text in (("ingest", "read, screen, recode and derive one wave"),
                       ("analyze", "write the tidy tables of one ingested wave"),
                       ("trends", "compare one wave with the wave fielded before it"),
                       ("figures", "draw the figures of one analysed wave from its tables"),
                       ("report", "write report.html and report.pdf of one wave"),
                       ("manifest", "hash every input and output of one wave into manifest.json")):
        command = commands.add_parser(name, parents=[common], help=text)
        command.add_argument("wave", help="wave folder, e.g. surveys/<survey>/<wave>")
    trend_report = commands.add_parser("trend-report", parents=[common],
                                       help="write the cross-wave report of a survey (outputs/<survey>/trends/)")
    trend_report.add_argument("survey", help="survey folder, e.g. surveys/<survey>")
    verify = commands.add_parser("verify", parents=[common],
                                 help="re-run a wave in a temporary folder and compare every file with its manifest")
    verify.add_argument("output", help="a wave's output folder, e.g. outputs/<survey>/<wave>")
    validate = commands.add_parser("validate", parents=[common], help="check an instrument.yaml")
    validate.add_argument("instrument", type=Path)
    synth = commands.add_parser("synth", parents=[common], help="write a synthetic example export for a wave")
    synth.add_argument("survey", help="survey folder name under surveys/")
    synth.add_argument("wave", help="wave name, e.g. 2024-05")
    synth.add_argument("--n", type=int, default=None, help="number of kept respondents (default: the spec's)")
    synth.add_argument("--seed", type=int, default=None, help="random seed (default: the spec's)")
    synth.add_argument("--out", type=Path, default=None, help="write here instead of the wave's export file")
    new_wave = commands.add_parser("new-wave", parents=[common],
                                   help="add a wave: create its folder, copy the export in, check it, list it in params.yaml")
    new_wave.add_argument("survey", help="survey folder name under surveys/")
    new_wave.add_argument("wave", help="wave name, e.g. 2025-02")
    new_wave.add_argument("--from", dest="export", type=Path, required=True, help="the survey tool's export")
    new_wave.add_argument("--replace", action="store_true", help="write the export and wave.yaml of an existing wave again")
    return parser


def _say(text: str) -> None:
    print(text, flush=True)


def run_stages(names: list[str], waves, params, quiet: bool = False) -> None:
    """Run the named stages for each wave in turn. Work a stage leaves running behind (the figures' PNGs) goes
    on during the next stages, and is waited for before a stage that reads it and before this returns."""
    from pipeline.parallel import overlapping, settle
    from pipeline.stages import stage

    total = len(names) * len(waves)
    step = 0
    with overlapping():
        for wave in waves:
            for name in names:
                step += 1
                started, current = time.perf_counter(), stage(name)
                if current.settles:
                    settle()
                lines = current.run(wave, params)
                if quiet:
                    continue
                _say(f"[{step}/{total}] {name:<8} {wave.key}: {lines[0] if lines else 'done'} "
                     f"({time.perf_counter() - started:.1f} s)")
                for line in lines[1:]:
                    print(line, file=sys.stderr, flush=True)


def command_run(args, root: Path) -> None:
    from pipeline.params import load_params
    from pipeline.pdf import shared_pdf_process
    from pipeline.project import find_waves, wave_from_dir
    from pipeline.stages import STAGES, SURVEY_STAGES, survey_last_waves

    waves = [wave_from_dir(w, root) for w in args.waves] if args.waves else find_waves(root)
    with shared_pdf_process():
        run_stages([s.name for s in STAGES], waves, load_params(root))
        run_stages([s.name for s in SURVEY_STAGES], survey_last_waves(waves), load_params(root))
    _say(f"outputs in {root / 'outputs'}")


def command_stage(args, root: Path) -> None:
    from pipeline.params import load_params
    from pipeline.project import wave_from_dir

    run_stages([args.command], [wave_from_dir(args.wave, root)], load_params(root))


def command_survey_stage(args, root: Path) -> None:
    from pipeline.params import load_params
    from pipeline.project import find_waves, survey_waves

    name = Path(args.survey).name
    waves = [w for w in find_waves(root) if w.survey == name]
    if not waves:
        raise PulseError(f"{args.survey}: no survey with waves under {root / 'surveys'}; expected surveys/<survey>")
    run_stages([args.command], [survey_waves(waves[0])[-1]], load_params(root))


def command_verify(args, root: Path) -> int:
    from pipeline.manifest import verify
    from pipeline.params import load_params
    from pipeline.project import Wave, previous_wave
    from pipeline.stages import STAGES, stages_before

    folder = Path(args.output).resolve()
    wave = Wave(root.resolve(), folder.parent.name, folder.name)
    if not wave.wave_dir.is_dir():
        raise PulseError(f"{args.output}: not an output folder of a wave under {root / 'surveys'}; "
                         f"pass outputs/<survey>/<wave> and --root with the project folder")

    def rerun(copy: Wave) -> None:
        params, before = load_params(copy.root), previous_wave(copy)
        if before.wave != copy.wave:
            run_stages(stages_before(), [before], params, quiet=True)
        run_stages([s.name for s in STAGES], [copy], params, quiet=True)

    lines = verify(wave, rerun)
    for line in lines:
        print(line)
    _say(f"{args.output}: {'byte-identical re-run' if not lines else f'{len(lines)} file(s) differ'}")
    return 0 if not lines else 1


def command_new_wave(args, root: Path) -> None:
    from pipeline.newwave import create_wave

    problems = create_wave(root, args.survey, args.wave, args.export, replace=args.replace, previous=True)
    folder = root / "surveys" / args.survey / args.wave
    _say(f"{folder}: wave folder with wave.yaml and the export; listed in {root / 'params.yaml'}")
    if problems:
        raise PulseError(problems)
    _say(f"{args.export}: matches the instrument; run `pulse run {folder}` or `dvc repro`")


def command_validate(args, root: Path) -> None:
    from pipeline.instrument import load

    instrument = load(args.instrument)
    _say(f"{args.instrument}: valid ({instrument.id} {instrument.version}: {len(instrument.questions)} questions, "
         f"{len(instrument.derived)} derived variables, {len(instrument.breakdowns)} breakdowns)")


def command_synth(args, root: Path) -> None:
    from pipeline import synth
    from pipeline.instrument import read_yaml

    survey_dir = root / "surveys" / args.survey
    spec = synth.load_spec(survey_dir / "synth.yaml")
    frame = synth.generate(read_yaml(survey_dir / "instrument.yaml"), spec, n=args.n, seed=args.seed, wave=args.wave)
    out = args.out or survey_dir / args.wave / "responses.csv"
    synth.write_export(frame, out)
    _say(f"{out}: {len(frame)} rows of SYNTHETIC EXAMPLE DATA")


COMMANDS = {"run": command_run, "ingest": command_stage, "analyze": command_stage, "trends": command_stage, "new-wave": command_new_wave, "figures": command_stage, "report": command_stage,
            "manifest": command_stage, "trend-report": command_survey_stage, "verify": command_verify, "validate": command_validate, "synth": command_synth}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    debug = getattr(args, "debug", False)
    root = Path(getattr(args, "root", Path.cwd()))
    try:
        code = COMMANDS[args.command](args, root)
    except PulseError as error:
        if debug:
            raise
        for line in error.messages:
            print(f"error: {line}", file=sys.stderr)
        return EXIT_USER_ERROR
    return code or 0


if __name__ == "__main__":
    sys.exit(main())

"""Write one synthetic export, in a child process (so it uses the code being benchmarked):

    python -m benchmarks.generate SURVEY_DIR N SEED OUT

`pipeline.synth.generate(instrument mapping, spec, n=N, seed=SEED)` then `pipeline.synth.write_export`.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    survey, n, seed, out = Path(argv[0]), int(argv[1]), int(argv[2]), Path(argv[3])
    from pipeline import synth
    from pipeline.instrument import read_yaml

    frame = synth.generate(read_yaml(survey / "instrument.yaml"), synth.load_spec(survey / "synth.yaml"), n=n, seed=seed)
    synth.write_export(frame, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

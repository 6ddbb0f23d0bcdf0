"""The reference for the ingest target, in a child process of its own:

    python -m benchmarks.baseline CSV

Times `pandas.read_csv(CSV, engine="pyarrow")` alone (plain call: pyarrow's type inference) and, for
comparison, with every column read as text the way the ingest reads it (`dtype=str`, no NA values).
Prints JSON: seconds of the imports and of each read.
"""

from __future__ import annotations

import json
import sys
import time


def main(argv: list[str]) -> int:
    path = argv[0]
    started = time.perf_counter()
    import pandas as pd

    out = {"import pandas": time.perf_counter() - started}
    started = time.perf_counter()
    frame = pd.read_csv(path, engine="pyarrow")
    out["read_csv pyarrow"] = time.perf_counter() - started
    out["rows"] = len(frame)
    del frame
    if "--text" in argv:
        started = time.perf_counter()
        frame = pd.read_csv(path, engine="pyarrow", dtype=str, keep_default_na=False)
        out["read_csv pyarrow, all text"] = time.perf_counter() - started
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

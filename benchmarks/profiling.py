"""A pyinstrument profile of one stage as the CLI runs it, in a child process of its own:

    python -m benchmarks.profiling ROOT WAVE_DIR STAGE OUT_STEM
    python -m benchmarks.profiling --summarise OUT_STEM.pyisession     (the JSON again, from a saved session)

The profiler starts before `pipeline` is imported, so imports count. Writes OUT_STEM.html (pyinstrument's
interactive view), OUT_STEM.txt (its text tree) and OUT_STEM.pyisession (the raw session), and prints JSON
(see `summarise`): total seconds, seconds spent importing, the heaviest call path through pipeline code, the
functions with the most self time, and the pipeline functions the time is attributed to.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

TOP = 10


def _key(frame) -> str:
    path = frame.file_path_short or frame.file_path or "?"
    return f"{frame.function} ({path}:{frame.line_no})"


def _is_pipeline(frame) -> bool:
    path = (frame.file_path or "").replace("\\", "/")
    return "/pipeline/" in path and "site-packages" not in path


def summarise(root) -> dict:
    """Where the time goes, from pyinstrument's call tree rooted at `root`.

    `self`: time spent in each function itself (any code). `pipeline`: time attributed to the innermost
    pipeline function on the stack (its own time plus the library code it calls, less the pipeline functions
    it calls), the functions to change. `hot_path`: the pipeline functions on the heaviest call path.
    """
    self_time: dict[str, float] = defaultdict(float)
    attributed: dict[str, float] = defaultdict(float)
    imports = 0.0

    def nearest_pipeline_time(frame) -> float:
        total = 0.0
        for child in frame.children:
            if child.is_synthetic:
                continue
            total += child.time if _is_pipeline(child) else nearest_pipeline_time(child)
        return total

    def walk(frame, in_import: bool) -> None:
        nonlocal imports
        if frame.is_synthetic:
            return
        key = _key(frame)
        self_time[key] += frame.total_self_time
        if _is_pipeline(frame):
            attributed[key] += frame.time - nearest_pipeline_time(frame)
        importing = frame.function == "_find_and_load"
        if importing and not in_import:
            imports += frame.time
        for child in frame.children:
            walk(child, in_import or importing)

    walk(root, False)
    path, frame = [], root
    while frame is not None:
        if _is_pipeline(frame):
            path.append({"frame": _key(frame), "seconds": frame.time})
        children = [c for c in frame.children if not c.is_synthetic]
        frame = max(children, key=lambda c: c.time) if children else None
        if frame is not None and frame.time < 0.1 * root.time:
            break

    def top(table):
        return sorted(({"frame": k, "seconds": v} for k, v in table.items()), key=lambda r: -r["seconds"])[:TOP]

    return {"total": root.time, "imports": imports, "hot_path": path, "self": top(self_time),
            "pipeline": top(attributed)}


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--summarise":
        from pyinstrument.session import Session

        print("\n@@PROFILE@@" + json.dumps(summarise(Session.load(argv[1]).root_frame())))
        return 0
    root, wave_dir, stage, stem = argv
    from pyinstrument import Profiler
    from pyinstrument.renderers import ConsoleRenderer, HTMLRenderer

    profiler = Profiler(interval=0.002)
    profiler.start()
    from pipeline.cli import main as cli

    code = cli(["--root", root, stage, wave_dir])
    session = profiler.stop()
    if code != 0:
        return code
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".html").write_text(HTMLRenderer().render(session), encoding="utf-8")
    session.save(stem.with_suffix(".pyisession"))
    stem.with_suffix(".txt").write_text(ConsoleRenderer(unicode=True, color=False).render(session), encoding="utf-8")
    sys.stdout.flush()
    print("\n@@PROFILE@@" + json.dumps(summarise(session.root_frame())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""What does the int8 search's screen save? The int8 export of one teacher with the screen and without.

The fp32-node search scores each step first on every fourth batch of its calibration texts and
refuses it there when the agreement's upper bound misses the target
(:meth:`exporters.teacher._Search.score`). This exports a run's teacher (fp32 and int8, both
gates, the run's default options) with the screen on, off and on again, in that order, and
reports each export's seconds, the fp32 nodes chosen and every step (k, texts scored, agreement,
screened). The screen saves time only where it refuses steps; exit 1 where the nodes chosen
move (a step the screen refused would have passed on every text).
JSON on stdout. Example::

    python -m edge_distill.benchmarks.int8_screen --run runs/emotion
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from edge_distill.exporters import teacher as et
from edge_distill.toolkit.options import CALIBRATION_AUTO_TEXTS, TeacherExportOptions
from edge_distill.toolkit.teacher.backbone import read_record
from edge_distill.toolkit.teacher.heldout import int8_gate_texts

#: the screen's settings: on (the shipped threshold) and off (no calibration set is this large)
SCREEN_OFF = 10**12


def _export_int8(teacher: Path, out: Path, int8_out: Path) -> dict[str, Any]:
    """The int8 export ``edge-distill export teacher --int8`` makes with its default options (the gate's,
    calibration and agreement texts drawn from the data the teacher recorded); its fp32-node selection."""
    o = TeacherExportOptions()
    gate = int8_gate_texts(read_record(teacher).get("data", {}), o.check, CALIBRATION_AUTO_TEXTS, o.agreement, o.seed)
    return et.export_with_options(teacher, out, gate, o, int8_out=int8_out)["int8"]["selection"]


def export_once(run: Path, work: Path, name: str, screen_min_texts: int) -> dict[str, Any]:
    """One int8 export of ``run``'s teacher with the screen's threshold set to ``screen_min_texts``."""
    shipped, et.SCREEN_MIN_TEXTS = et.SCREEN_MIN_TEXTS, screen_min_texts
    try:
        start = time.perf_counter()
        selection = _export_int8(run / "teacher", work / "teacher.onnx", work / f"{name}.int8.onnx")
        seconds = time.perf_counter() - start
    finally:
        et.SCREEN_MIN_TEXTS = shipped
    steps = selection["steps"]
    return {
        "name": name,
        "seconds": round(seconds, 1),
        "fp32_nodes": selection["fp32_nodes"],
        "rows_scored": sum(s["texts"] for s in steps),
        "steps": [
            {
                "k": s["fp32_nodes"],
                "texts": s["texts"],
                "agreement": s["agreement"],
                "screened": s.get("screened", False),
            }
            for s in steps
        ],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", type=Path, required=True, help="a run folder holding a fine-tuned teacher (RUN/teacher)")
    args = p.parse_args(argv)
    if not (args.run / "teacher").is_dir():
        print(f"error: {args.run / 'teacher'}: no teacher folder (run `edge-distill run` first)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            export_once(args.run, Path(tmp), name, n)
            for name, n in (
                ("screen", et.SCREEN_MIN_TEXTS),
                ("no_screen", SCREEN_OFF),
                ("screen_again", et.SCREEN_MIN_TEXTS),
            )
        ]
    on = [r["seconds"] for r in rows if r["name"] != "no_screen"]
    same = all(r["fp32_nodes"] == rows[1]["fp32_nodes"] for r in rows)
    summary = {"same_fp32_nodes": same, "seconds_ratio_screen_over_no_screen": round(min(on) / rows[1]["seconds"], 3)}
    print(json.dumps({"run": str(args.run), "exports": rows, **summary}, indent=2))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

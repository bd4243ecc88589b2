"""`softtiger --help` wall time and the package's import time (target: --help <= 0.3 s).

    python bench/startup.py [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def timed(cmd: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    python = sys.executable
    bare = timed([python, "-c", "pass"], args.runs)
    helps = timed([python, "-m", "softtiger_cli", "--help"], args.runs)
    sub = timed([python, "-m", "softtiger_cli", "structure", "--help"], args.runs)
    imp = timed([python, "-c", "import softtiger_cli.cli.app"], args.runs)
    med = statistics.median
    print(f"python startup        {med(bare):.3f} s")
    print(f"softtiger --help      {med(helps):.3f} s  (median of {args.runs}; target <= 0.3)")
    print(f"structure --help      {med(sub):.3f} s")
    print(f"import softtiger_cli  {med(imp) - med(bare):.3f} s above bare python")


if __name__ == "__main__":
    main()

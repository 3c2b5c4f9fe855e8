"""Run the speed benchmarks and put their tables into README.md's performance section.

Each speed benchmark, run as ``python tests/benchmarks/SCRIPT [ARGS]``, measures on this
machine and writes its own markdown table (:data:`BENCHMARKS`: script -> its arguments and
its table, in the README's order). This runner runs them one after another (never in
parallel: they measure ratios of fresh processes on a shared machine), then
``reports/readme_tables.py`` copies the committed tables into the README's
``<!-- generated: performance -->`` block, where ``tests/test_docs.py`` checks they agree.
A new speed benchmark adds itself here.

    python tests/benchmarks/run_all.py                       # all, then the README
    python tests/benchmarks/run_all.py test_cli_speed.py     # only these, then the README
    python tests/benchmarks/run_all.py --readme-only         # the README from the tables
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

#: speed benchmark script -> (its arguments, the markdown table it writes), in the README's
#: order; scripts and tables in tests/benchmarks
BENCHMARKS = {
    "test_cli_speed.py": ((), "cli_speed.md"),
    "test_dcpol_bench.py": (("--speed",), "dcpol_speed.md"),
    "test_read_bench.py": ((), "read_speed.md"),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scripts", nargs="*", help=f"a subset of {', '.join(BENCHMARKS)}")
    ap.add_argument("--readme-only", action="store_true", help="run no benchmark")
    args = ap.parse_args(argv)
    unknown = set(args.scripts) - set(BENCHMARKS)
    if unknown:
        ap.error(f"unknown benchmark {', '.join(sorted(unknown))}; known: {', '.join(BENCHMARKS)}")
    for script in [] if args.readme_only else (args.scripts or list(BENCHMARKS)):
        t0 = time.perf_counter()
        script_args, table = BENCHMARKS[script]
        subprocess.run([sys.executable, str(HERE / script), *script_args], cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL)
        sys.stderr.write(f"{script}: {time.perf_counter() - t0:.0f} s -> "
                         f"tests/benchmarks/{table}\n")
    return subprocess.run([sys.executable, str(ROOT / "reports" / "readme_tables.py")],
                          cwd=ROOT).returncode


if __name__ == "__main__":
    raise SystemExit(main())

"""Run every benchmark of the repository on PostgreSQL and write one Markdown report.

    bench/run [--quick] [--out docs/performance.md]

Each benchmark runs in its own process (``python -m bench.<name> --json ...``) and measures its own
floor in the same run; this script only gathers the figures, with the machine they ran on. ``--quick``
shrinks every data set and duration (a smoke run of the whole chain, not figures to publish).
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = {
    # name: (full arguments, quick arguments)
    "api_contacts": ([], ["--tenants", "10", "--per-tenant", "500", "--requests", "300"]),
    "custom_fields": ([], ["--scale", "0.02", "--queries", "50", "--creates", "50"]),
    "lead_capture": ([], ["--duration", "10"]),
    "soak": ([], ["--duration", "30"]),
}


def cpu_model() -> str:
    return next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")), platform.processor() or platform.machine())


def machine(server_url: str) -> str:
    cpu = cpu_model()
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
    with psycopg.connect(server_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    return (f"{cpu}, {os.cpu_count()} cores, {mem_kib / 1024 / 1024:.0f} GiB, Linux {platform.release()}, "
            f"Python {platform.python_version()}, PostgreSQL {pg}")


def run_one(name: str, args: list[str], server_url: str) -> tuple[str, float]:
    out = Path(tempfile.mkdtemp(prefix="rapport-bench-")) / f"{name}.json"
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", f"bench.{name}", "--server-url", server_url, "--json", str(out), *args],
                   cwd=ROOT, check=True)
    module = importlib.import_module(f"bench.{name}")
    return module.markdown(json.loads(out.read_text())), time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server-url", default="postgresql+psycopg://postgres@127.0.0.1/postgres")
    parser.add_argument("--quick", action="store_true", help="small data sets and short runs")
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS),
                        help="run only these; the report keeps the other sections of its last run")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    args = parser.parse_args()
    sections = _sections(args.out) if args.only else {}
    for name, (full, quick) in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        text, seconds = run_one(name, quick if args.quick else full, args.server_url)
        stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
        # The CPU in each heading: kept sections may come from another machine (not comparable).
        sections[name] = f"### {name} ({stamp}, {seconds / 60:.1f} min, {cpu_model()})\n\n{text}\n"
        print(sections[name], flush=True)
    report = "\n".join([
        f"## Latest run: {dt.date.today().isoformat()}{' (quick: smoke figures only)' if args.quick else ''}",
        "",
        f"Machine: {machine(args.server_url)}. Every figure beside its floor, measured in the same run; "
        "each section's heading says when and on which CPU it ran.",
        "",
        *(sections[name] for name in BENCHMARKS if name in sections),
    ])
    _write(args.out, report)
    print(f"written to {args.out}")


def _sections(path: Path) -> dict[str, str]:
    """The benchmark sections of the report's generated part, by name (``### <name> (...)``)."""
    if not path.exists() or MARKER not in path.read_text():
        return {}
    found, name = {}, None
    for line in path.read_text().split(MARKER, 1)[1].splitlines(keepends=True):
        if line.startswith("### "):
            name = line[4:].split(" ", 1)[0].strip()
            found[name] = ""
        if name in BENCHMARKS:
            found[name] += line
    return {k: v.rstrip() + "\n" for k, v in found.items() if k in BENCHMARKS}


MARKER = "<!-- bench/run writes below this line -->"


def _write(path: Path, report: str) -> None:
    """Replace the generated part of the page, keep the hand-written part above the marker."""
    head = path.read_text().split(MARKER)[0] if path.exists() else "# Performance\n\n"
    path.write_text(f"{head.rstrip()}\n\n{MARKER}\n\n{report}")


if __name__ == "__main__":
    main()

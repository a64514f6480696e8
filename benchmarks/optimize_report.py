"""Print the optimizer benchmark tables (Markdown) from the CSVs in benchmarks/results/.

.venv/bin/python benchmarks/optimize_report.py [RESULTS_DIR]
"""

from __future__ import annotations

import csv
import statistics
import sys
from pathlib import Path

SUITES = [
    ("solomon", "Solomon VRPTW (56), 10 s, DIMACS distance"),
    ("lilim", "Li & Lim PDPTW 100 (56), 10 s, vehicles then distance"),
    ("gh200", "Gehring & Homberger 200 (60), 30 s, DIMACS distance"),
    ("solomon-pyvrp", "Solomon VRPTW (56), 10 s, PyVRP only (repeat)"),
    ("lilim-pyvrp", "Li & Lim PDPTW 100 (56), 10 s, PyVRP only (repeat)"),
]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def _mean(values: list[float]) -> str:
    return f"{statistics.fmean(values):.3f}" if values else "-"


def suite_table(name: str, title: str, rows: list[dict[str, str]]) -> str:
    lines = [
        f"### {title}",
        "",
        "| engine | runs | feasible (checker) | all served | mean vehicles | vehicles = BKS "
        "| mean gap % | gap counted on |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for engine in sorted({r["engine"] for r in rows}):
        mine = [r for r in rows if r["engine"] == engine]
        gaps = [float(r["gap_pct"]) for r in mine if r["gap_pct"]]
        equal = sum(r["vehicles"] == r["bks_vehicles"] for r in mine)
        lines.append(
            f"| {engine} | {len(mine)} | {sum(r['feasible'] == 'True' for r in mine)} "
            f"| {sum(r['complete'] == 'True' for r in mine)} "
            f"| {statistics.fmean(int(r['vehicles']) for r in mine):.2f} "
            f"| {equal} ({100 * equal / len(mine):.0f} %) | {_mean(gaps)} | {len(gaps)} |"
        )
    families: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        if r["gap_pct"]:
            family = r["instance"].split("_")[0].rstrip("0123456789").upper() or r["instance"]
            family += r["instance"].split("_")[0][len(family) :][:1]  # C1, R2, LRC1, ...
            families.setdefault((r["engine"], family), []).append(float(r["gap_pct"]))
    if families:
        lines += [
            "",
            "Mean gap % by family: "
            + "; ".join(
                f"{engine} {family} {_mean(values)}"
                for (engine, family), values in sorted(families.items())
            ),
        ]
    return "\n".join(lines)


def ortec_table(short: list[dict[str, str]], long: list[dict[str, str]]) -> str:
    lines = [
        "### ORTEC qualification (10): 60 s against 600 s, same engine, same seed",
        "",
        "| instance | engine | 60 s duration | 600 s duration | gap % |",
        "|---|---|---|---|---|",
    ]
    reference = {(r["instance"], r["engine"]): float(r["distance"]) for r in long}
    gaps: dict[str, list[float]] = {}
    for r in sorted(short, key=lambda r: (r["engine"], r["instance"])):
        ref = reference.get((r["instance"], r["engine"]))
        if ref is None:
            continue
        value = float(r["distance"])
        gap = 100 * (value - ref) / ref
        gaps.setdefault(r["engine"], []).append(gap)
        flag = "" if r["feasible"] == "True" else " (infeasible)"
        lines.append(
            f"| {r['instance']} | {r['engine']} | {value:.0f}{flag} | {ref:.0f} | {gap:.2f} |"
        )
    for engine, values in gaps.items():
        lines.append(f"| **mean** | {engine} | | | **{statistics.fmean(values):.2f}** |")
    return "\n".join(lines)


def main() -> None:
    results = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("benchmarks/results")
    for name, title in SUITES:
        path = results / f"{name}.csv"
        if path.is_file():
            print(suite_table(name, title, _rows(path)), end="\n\n")
    short, long = results / "ortec60.csv", results / "ortec600.csv"
    if short.is_file() and long.is_file():
        rows = _rows(long)
        if (results / "ortec600-vroom.csv").is_file():
            rows += _rows(results / "ortec600-vroom.csv")
        print(ortec_table(_rows(short), rows))


if __name__ == "__main__":
    main()

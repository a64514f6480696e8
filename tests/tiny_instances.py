"""Tiny benchmark instances of our own, one or two per format the readers take, with their
optimal solutions: what the optimizer and dispatch unit tests read, so a bare clone runs them
(the public sets are read from ``../shared/benchmarks``, never copied here, for the regressions
against best-known scores). The tests write them once per run into a temporary folder
(`generated`); to look at them:

    .venv/bin/python -m tests.tiny_instances DEST

Every instance is drawn from a fixed seed, so each run writes the same files. The
optimum of each is found by exact enumeration, independently of doorstep's readers and
engines: every route one vehicle can drive is built as a labelled path (cost and time so far;
a label no cheaper and no earlier than another at the same stops is dropped), then the stops
are split into routes by dynamic programming over subsets. A dozen stops keeps it to seconds.

Each family keeps its own convention: Solomon-style VRPTW in DIMACS (every arc truncated to one
decimal, travel time = distance, total distance), CVRP with every arc rounded to an integer,
Li & Lim in double precision with fewer vehicles first, ORTEC with an asymmetric integer
duration matrix (total driving time).
"""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import vrplib

Label = tuple[float, float, tuple[int, ...]]  # cost, service start at the last stop, path


@dataclass
class Stops:
    """Node 0 is the depot (its window is the day), nodes 1..n the stops."""

    cost: npt.NDArray[np.float64]  # what the objective sums, per arc
    travel: npt.NDArray[np.float64]  # travel time per arc
    service: list[float]
    windows: list[tuple[float, float]]
    demand: list[int]  # a delivery of a pair carries minus its pickup's amount
    capacity: int
    pickup_of: dict[int, int] = field(default_factory=dict)  # delivery -> its pickup

    @property
    def n(self) -> int:
        return len(self.demand) - 1


def _add(front: list[Label], new: Label) -> None:
    """Keep only labels that are cheaper or earlier than every other (a Pareto front)."""
    cost, time, _ = new
    if any(c <= cost and t <= time for c, t, _ in front):
        return
    front[:] = [lab for lab in front if not (cost <= lab[0] and time <= lab[1])]
    front.append(new)


def route_costs(s: Stops) -> dict[int, tuple[float, tuple[int, ...]]]:
    """The cheapest route for every set of stops one vehicle can serve (bit i-1 = stop i)."""
    close = s.windows[0][1]
    load = {0: 0}
    level: dict[tuple[int, int], list[Label]] = {}
    best: dict[int, tuple[float, tuple[int, ...]]] = {}
    for j in range(1, s.n + 1):
        if j not in s.pickup_of:
            _extend(s, level, load, 0, 0, (0.0, s.windows[0][0], ()), j, close)
    while level:
        following: dict[tuple[int, int], list[Label]] = {}
        for (mask, last), front in level.items():
            for label in front:
                cost, time, path = label
                if all(d in path for d, p in s.pickup_of.items() if p in path):
                    back = time + s.service[last] + s.travel[last][0]
                    total = cost + s.cost[last][0]
                    if back <= close and (mask not in best or total < best[mask][0]):
                        best[mask] = (total, path)
                for j in range(1, s.n + 1):
                    if not mask & 1 << (j - 1):
                        _extend(s, following, load, mask, last, label, j, close)
        level = following
    return best


def _extend(
    s: Stops,
    into: dict[tuple[int, int], list[Label]],
    load: dict[int, int],
    mask: int,
    last: int,
    label: Label,
    j: int,
    close: float,
) -> None:
    cost, time, path = label
    pickup = s.pickup_of.get(j)
    if pickup is not None and pickup not in path:
        return
    grown = mask | 1 << (j - 1)
    if grown not in load:
        load[grown] = load[mask] + s.demand[j]
    if load[grown] > s.capacity:
        return
    start = max(time + s.service[last] + s.travel[last][j], s.windows[j][0])
    if start > s.windows[j][1] or start + s.service[j] + s.travel[j][0] > close:
        return
    _add(into.setdefault((grown, j), []), (cost + s.cost[last][j], start, (*path, j)))


def best_split(
    n: int, routes: dict[int, tuple[float, tuple[int, ...]]], vehicles_first: bool
) -> tuple[float, list[tuple[int, ...]]]:
    """The best way to cover every stop with routes: least cost (or fewest vehicles first)."""
    solved: dict[int, tuple[tuple[float, float], list[tuple[int, ...]]]] = {0: ((0.0, 0.0), [])}
    for mask in range(1, 1 << n):
        low = mask & -mask
        sub = mask
        found: tuple[tuple[float, float], list[tuple[int, ...]]] | None = None
        while sub:
            rest = mask ^ sub
            if sub & low and sub in routes and rest in solved:
                (a, b), plan = solved[rest]
                cost, path = routes[sub]
                key = (a + 1, b + cost) if vehicles_first else (a + cost, b + 1)
                if found is None or key < found[0]:
                    found = (key, [*plan, path])
            sub = (sub - 1) & mask
        if found is not None:
            solved[mask] = found
    key, plan = solved[(1 << n) - 1]
    return (key[1] if vehicles_first else key[0]), sorted(plan)


def optimum(stops: Stops, vehicles_first: bool = False) -> tuple[float, list[tuple[int, ...]]]:
    return best_split(stops.n, route_costs(stops), vehicles_first)


def _header(name: str, kind: str) -> dict[str, object]:
    return {"NAME": name, "COMMENT": "tiny instance of doorstep's tests", "TYPE": kind}


def _euclid(xy: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    diff = xy[:, None, :] - xy[None, :, :]
    return np.asarray(np.hypot(diff[..., 0], diff[..., 1]), dtype=np.float64)


def _write_solution(path: Path, routes: list[tuple[int, ...]], cost: str) -> None:
    lines = [f"Route #{k}: " + " ".join(map(str, r)) for k, r in enumerate(routes, start=1)]
    path.write_text("\n".join([*lines, f"Cost {cost}"]) + "\n")


def _windows(
    rng: np.random.Generator,
    to_depot: npt.NDArray[np.float64],
    service: list[float],
    close: int,
    widths: tuple[int, int],
    earliest: int = 0,
) -> list[tuple[float, float]]:
    """A window per stop that a vehicle could reach from the depot and still get back from."""
    windows = [(0.0, float(close))]
    for i in range(1, len(to_depot)):
        width = int(rng.integers(*widths))
        last_start = int(close - service[i] - np.ceil(to_depot[i]))
        first = max(earliest, int(np.ceil(to_depot[i])))
        early = int(rng.integers(first, max(first + 1, last_start - width)))
        windows.append((float(early), float(min(early + width, last_start))))
    return windows


def solomon(dest: Path, name: str, seed: int, clustered: bool) -> None:
    """A VRPTW in VRPLIB form, as the Solomon files of PyVRP/Instances are written."""
    rng = np.random.default_rng(seed)
    depot = np.array([[40, 50]])
    if clustered:
        centres = rng.integers(10, 90, size=(3, 2))
        points = np.vstack([c + rng.integers(-6, 7, size=(4, 2)) for c in centres])
        demand = [0, *(10 * rng.integers(1, 4, size=12)).tolist()]
        service_one = 90
        service = [0.0] + [float(service_one)] * 12
        close, widths = 1236, (60, 180)
    else:
        points = rng.integers(0, 80, size=(12, 2))
        demand = [0, *rng.integers(5, 30, size=12).tolist()]
        service = [0.0, *(10.0 for _ in range(12))]
        close, widths = 230, (30, 120)
    xy = np.vstack([depot, points])
    tenths = np.floor(10 * _euclid(xy))  # DIMACS: truncated to one decimal, in tenths
    time = tenths / 10
    windows = _windows(rng, time[:, 0], service, close, widths)
    stops = Stops(tenths, time, service, windows, demand, capacity=60 if clustered else 70)
    cost, routes = optimum(stops)
    data = _header(name, "CVRPTW") | {"DIMENSION": 13, "VEHICLES": 6, "CAPACITY": stops.capacity}
    if clustered:  # the C files give one service time for every customer
        data["SERVICE_TIME"] = service_one
    data |= {
        "EDGE_WEIGHT_TYPE": "EUC_2D",
        "NODE_COORD_SECTION": xy,
        "DEMAND_SECTION": demand,
        "TIME_WINDOW_SECTION": [[int(a), int(b)] for a, b in windows],
    }
    if not clustered:
        data["SERVICE_TIME_SECTION"] = [int(v) for v in service]
    data["DEPOT_SECTION"] = [1, -1]
    folder = dest / "solomon"
    vrplib.write_instance(folder / f"{name}.vrp", data)
    _write_solution(folder / f"{name}.sol", routes, f"{cost / 10:.1f}")


def cvrp(dest: Path, name: str, seed: int) -> None:
    """A CVRP in VRPLIB form (no time windows), every arc rounded to an integer."""
    rng = np.random.default_rng(seed)
    xy = np.vstack([[[500, 500]], rng.integers(0, 1000, size=(12, 2))])
    rounded = np.rint(_euclid(xy))
    demand = [0, *rng.integers(1, 10, size=12).tolist()]
    service = [0.0] * 13
    windows = [(0.0, float("inf"))] * 13
    stops = Stops(rounded, rounded, service, windows, demand, capacity=20)
    cost, routes = optimum(stops)
    data = _header(name, "CVRP") | {
        "DIMENSION": 13,
        "EDGE_WEIGHT_TYPE": "EUC_2D",
        "CAPACITY": stops.capacity,
        "NODE_COORD_SECTION": xy,
        "DEMAND_SECTION": demand,
        "DEPOT_SECTION": [1, -1],
    }
    vrplib.write_instance(dest / "cvrp" / f"{name}.vrp", data)
    _write_solution(dest / "cvrp" / f"{name}.sol", routes, f"{cost:.0f}")


def li_lim(dest: Path, name: str, seed: int, tight: bool) -> tuple[int, float]:
    """Six pickup-delivery pairs in the Li & Lim text format; returns (vehicles, distance)."""
    rng = np.random.default_rng(seed)
    pairs = 6
    xy = np.vstack([[[25, 25]], rng.integers(0, 50, size=(2 * pairs, 2))])
    exact = _euclid(xy)
    close = 300
    service = [0.0] + [10.0] * (2 * pairs)
    demand = [0] * (2 * pairs + 1)
    windows = [(0.0, float(close))] * (2 * pairs + 1)
    width = (25, 60) if tight else (80, 160)
    pickup_of: dict[int, int] = {}
    for k in range(pairs):
        p, d = 2 * k + 1, 2 * k + 2
        pickup_of[d] = p
        demand[p] = int(rng.integers(1, 4)) * 10
        demand[d] = -demand[p]
        # The pickup early enough that its delivery can follow and the vehicle still get home.
        latest_p = close - 10 - exact[p][d] - 10 - exact[d][0] - width[1]
        early_p = int(rng.integers(int(np.ceil(exact[0][p])), int(latest_p)))
        windows[p] = (float(early_p), float(early_p + int(rng.integers(*width))))
        early_d = int(np.ceil(early_p + 10 + exact[p][d])) + int(rng.integers(0, 30))
        late_d = min(early_d + int(rng.integers(*width)), int(close - 10 - exact[d][0]))
        windows[d] = (float(early_d), float(late_d))
    stops = Stops(exact, exact, service, windows, demand, capacity=40, pickup_of=pickup_of)
    distance, routes = optimum(stops, vehicles_first=True)
    vehicles = 6
    lines = [f"{vehicles}\t{stops.capacity}\t1"]
    for i in range(2 * pairs + 1):
        is_pickup = i > 0 and i not in pickup_of
        delivery = i + 1 if is_pickup else 0
        pickup = pickup_of.get(i, 0)
        early, late = windows[i]
        lines.append(
            "\t".join(
                str(v)
                for v in (
                    i, *xy[i], demand[i], int(early), int(late), int(service[i]), pickup, delivery
                )
            )
        )  # fmt: skip
    (dest / "li_lim" / f"{name}.txt").write_text("\n".join(lines) + "\n")
    # Beside bks.csv, as in the published set, so that best_known reads the table.
    _write_solution(dest / "li_lim" / "bks_solutions" / f"{name}.sol", routes, f"{distance:.4f}")
    return len(routes), distance


def ortec(dest: Path, name: str, seed: int) -> None:
    """An ORTEC-style VRPTW: asymmetric durations (s), windows in seconds from midnight."""
    rng = np.random.default_rng(seed)
    xy = np.vstack([[[0, 0]], rng.integers(-8000, 8000, size=(12, 2))])
    slower = rng.uniform(1.0, 1.25, size=(13, 13))  # some streets are slower one way
    durations = np.rint(_euclid(xy) / 8.0 * slower)
    np.fill_diagonal(durations, 0)
    close = 45_000
    service = [0.0, *(float(v) for v in rng.integers(300, 900, size=12))]
    windows = [(0.0, float(close))]
    for i in range(1, 13):
        early = int(rng.integers(6, 25)) * 900  # openings spread over six epochs
        width = int(rng.integers(4, 11)) * 900
        windows.append((float(early), float(min(early + width, close - service[i] - 3000))))
    demand = [0, *rng.integers(1, 20, size=12).tolist()]
    stops = Stops(durations, durations, service, windows, demand, capacity=40)
    cost, routes = optimum(stops)
    data = _header(name, "VRPTW") | {
        "DIMENSION": 13,
        "EDGE_WEIGHT_TYPE": "EXPLICIT",
        "VEHICLES": len(routes),
        "EDGE_WEIGHT_FORMAT": "FULL_MATRIX",
        "CAPACITY": stops.capacity,
        "EDGE_WEIGHT_SECTION": durations.astype(int),
        "NODE_COORD_SECTION": xy,
        "DEMAND_SECTION": demand,
        "DEPOT_SECTION": [1, -1],
        "SERVICE_TIME_SECTION": [int(v) for v in service],
        "TIME_WINDOW_SECTION": [[int(a), int(b)] for a, b in windows],
    }
    folder = dest / "ortec"
    vrplib.write_instance(folder / f"{name}.txt", data)
    _write_solution(folder / f"{name}.sol", routes, f"{cost:.0f}")
    configs = [
        {"instance": f"{name}.txt", "instance_seed": 1, "static": True, "epoch_tlim": 1},
        {"instance": f"{name}.txt", "instance_seed": 7, "static": False, "epoch_tlim": 1},
    ]
    (folder / "configs.json").write_text(json.dumps(configs, indent=4) + "\n")


def write(dest: Path) -> Path:
    """Write every tiny instance, its optimal solution and the tables beside them under
    ``dest`` (solomon/, cvrp/, li_lim/ with bks.csv and bks_solutions/, ortec/ with
    configs.json); returns ``dest``."""
    for folder in ("solomon", "cvrp", "li_lim/bks_solutions", "ortec"):
        (dest / folder).mkdir(parents=True, exist_ok=True)
    solomon(dest, "tiny-c12", seed=1, clustered=True)
    solomon(dest, "tiny-r12", seed=2, clustered=False)
    cvrp(dest, "tiny-x12", seed=3)
    rows = [
        ("tiny-lc6", *li_lim(dest, "tiny-lc6", seed=4, tight=True)),
        ("tiny-lr6", *li_lim(dest, "tiny-lr6", seed=5, tight=False)),
    ]
    (dest / "li_lim" / "bks.csv").write_text(
        "instance,routes,distance\n" + "".join(f"{n},{v},{d:.4f}\n" for n, v, d in rows)
    )
    ortec(dest, "tiny-n12", seed=6)
    return dest


@functools.cache
def generated() -> Path:
    """The tiny instances, written once per test process into a temporary folder (under a
    second; removed when the process ends)."""
    folder = Path(tempfile.mkdtemp(prefix="doorstep-tiny-instances-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return write(folder)


if __name__ == "__main__":
    write(Path(sys.argv[1]))

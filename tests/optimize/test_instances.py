"""The instance readers and solution files: our tiny instances, the malformed files the
readers name a line for, and (with the public sets) the published best-known solutions."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from doorstep.optimize import InstanceFormatError, TimeWindow, check
from doorstep.optimize.instances import (
    Convention,
    read_instance,
    read_ortec,
    read_solution,
    write_solution,
)
from doorstep.optimize.suite import best_known

from .conftest import TINY


def _solution_file(instance: Path) -> Path:
    beside = instance.with_suffix(".sol")
    return beside if beside.is_file() else instance.parent / "bks_solutions" / beside.name


@pytest.mark.parametrize("name", sorted(TINY))
def test_tiny_optimal_solutions_pass_our_checker(name: str) -> None:
    inst = read_instance(TINY[name])
    sol = read_solution(_solution_file(TINY[name]), inst)
    report = check(inst.problem, sol)
    assert report.feasible, report.violations
    assert report.complete
    bks = best_known(TINY[name])
    assert bks is not None
    assert sol.num_vehicles == bks.vehicles
    assert inst.distance(sol) == pytest.approx(bks.distance, abs=1e-4)


def test_tiny_conventions_and_scales() -> None:
    c12 = read_instance(TINY["tiny-c12"])
    assert (c12.convention, c12.scale, c12.name) == (Convention.DIMACS, 10, "tiny-c12")
    assert len(c12.problem.jobs) == 12
    assert c12.problem.distances[0, 1] == 125  # 12.53 truncated to 12.5, in tenths
    first = c12.problem.jobs[0].stop
    assert first.service == 900  # SERVICE_TIME : 90, in tenths
    assert first.time_windows == (TimeWindow(3080, 3750),)  # 308..375
    assert c12.problem.locations[0].opening == TimeWindow(0, 12360)
    r12 = read_instance(TINY["tiny-r12"])
    assert r12.problem.jobs[0].stop.service == 100  # SERVICE_TIME_SECTION: 10
    assert r12.problem.distances[0, 1] == 403  # 40.36
    x12 = read_instance(TINY["tiny-x12"])
    assert (x12.convention, x12.scale) == (Convention.ROUNDED, 1)
    assert x12.problem.distances[0, 1] == 519  # 518.6 rounded, not truncated
    lc6 = read_instance(TINY["tiny-lc6"])
    assert (lc6.convention, lc6.scale) == (Convention.VEHICLES_THEN_DISTANCE, 1000)
    assert [s.id for s in lc6.problem.shipments] == [f"{p}-{p + 1}" for p in range(1, 12, 2)]
    assert lc6.problem.distances[0, 1] == 24597  # 24.5967 in thousandths
    n12 = read_instance(TINY["tiny-n12"])
    assert (n12.convention, n12.scale) == (Convention.DURATION, 1)
    assert len(n12.problem.jobs) == 12
    assert (n12.problem.distances[0, 1], n12.problem.distances[1, 0]) == (167, 152)
    assert n12.problem.vehicle_types[0].count == 2 * 5  # twice VEHICLES


def test_ortec_reads_the_same_gzipped(tmp_path: Path) -> None:
    plain = read_ortec(TINY["tiny-n12"])
    gzipped = tmp_path / "tiny-n12.txt.gz"
    gzipped.write_bytes(gzip.compress(TINY["tiny-n12"].read_bytes()))
    again = read_ortec(tmp_path / "tiny-n12.txt")  # configs name the .txt; only the .gz exists
    assert (again.name, again.capacity, again.vehicles) == ("tiny-n12", 40, 5)
    for field in ("durations", "time_windows", "service_times", "demands"):
        assert (getattr(again, field) == getattr(plain, field)).all()
    assert np.asarray(read_instance(gzipped).problem.distances).tolist() == plain.durations.tolist()


def test_tiny_best_known_lookup() -> None:
    c12 = best_known(TINY["tiny-c12"])  # from the .sol beside it
    assert c12 is not None
    assert (c12.vehicles, c12.distance) == (4, 378.3)
    lr6 = best_known(TINY["tiny-lr6"])  # from bks.csv in its folder
    assert lr6 is not None
    assert (lr6.vehicles, lr6.distance) == (2, 299.4268)


@pytest.mark.parametrize("name", ["tiny-c12", "tiny-x12", "tiny-n12"])
def test_solution_file_round_trip(tmp_path: Path, name: str) -> None:
    inst = read_instance(TINY[name])
    sol = read_solution(TINY[name].with_suffix(".sol"), inst)
    write_solution(tmp_path / "out.sol", inst, sol)
    assert (tmp_path / "out.sol").read_text() == TINY[name].with_suffix(".sol").read_text()
    assert read_solution(tmp_path / "out.sol", inst).routes == sol.routes


def test_unknown_customer_in_a_solution_names_its_line(tmp_path: Path) -> None:
    inst = read_instance(TINY["tiny-c12"])
    bad = tmp_path / "bad.sol"
    bad.write_text("Route #1: 1 7 4\nRoute #2: 8 6 99\nCost 1\n")
    with pytest.raises(InstanceFormatError, match="unknown customer 99") as info:
        read_solution(bad, inst)
    assert info.value.line == 2


SOLUTIONS = [
    ("solomon/C101.vrp", "solomon/C101.sol", 10, 827.3),
    ("solomon/RC201.vrp", "solomon/RC201.sol", None, None),
    ("gehring_homberger/GH200/C1_2_1.vrp", "gehring_homberger/GH200/C1_2_1.sol", 20, 2698.6),
    ("li_lim/pdp_100/lc101.txt", "li_lim/bks_solutions/lc101.10_828.9369.txt", 10, 828.9369),
    ("li_lim/pdp_100/lr201.txt", None, None, None),
    ("xxl/Leuven1.vrp", "xxl/Leuven1.sol", 203, 192848),
]


@pytest.mark.benchmark_data
@pytest.mark.parametrize(("instance", "solution", "vehicles", "cost"), SOLUTIONS)
def test_best_known_solutions_pass_our_checker(
    benchmarks: Path, instance: str, solution: str | None, vehicles: int | None, cost: float | None
) -> None:
    inst = read_instance(benchmarks / instance)
    sol_path = benchmarks / (solution or instance)
    if solution is None:
        sol_path = next((benchmarks / "li_lim/bks_solutions").glob(f"{inst.name}.*"))
    sol = read_solution(sol_path, inst)
    report = check(inst.problem, sol)
    assert report.feasible, report.violations
    assert report.complete
    if vehicles is not None and cost is not None:
        assert sol.num_vehicles == vehicles
        assert inst.distance(sol) == pytest.approx(cost, abs=0.01)


@pytest.mark.benchmark_data
def test_conventions_and_scales(benchmarks: Path) -> None:
    solomon = read_instance(benchmarks / "solomon/C101.vrp")
    assert (solomon.convention, solomon.scale) == (Convention.DIMACS, 10)
    assert len(solomon.problem.jobs) == 100
    assert solomon.problem.distances[0, 1] == 186  # 18.68 truncated to 18.6, in tenths
    lilim = read_instance(benchmarks / "li_lim/pdp_100/lc101.txt")
    assert lilim.convention is Convention.VEHICLES_THEN_DISTANCE
    assert len(lilim.problem.shipments) == 53
    ortec = read_instance(
        benchmarks / "ortec/qualification/ORTEC-VRPTW-ASYM-c170c387-d1-n238-k17.txt.gz"
    )
    assert ortec.convention is Convention.DURATION
    assert len(ortec.problem.jobs) == 238
    assert ortec.problem.distances[0, 1] == 2833
    assert ortec.problem.distances[1, 0] == 3199  # asymmetric


@pytest.mark.benchmark_data
def test_best_known_lookup(benchmarks: Path) -> None:
    c101 = best_known(benchmarks / "solomon/C101.vrp")
    assert c101 is not None
    assert c101.distance == 827.3
    lc103 = best_known(benchmarks / "li_lim/pdp_100/lc103.txt")
    assert lc103 is not None
    assert (lc103.vehicles, lc103.distance) == (9, 1035.3499)


@pytest.mark.benchmark_data
def test_c101_solution_file_round_trip(benchmarks: Path, tmp_path: Path) -> None:
    inst = read_instance(benchmarks / "solomon/C101.vrp")
    sol = read_solution(benchmarks / "solomon/C101.sol", inst)
    write_solution(tmp_path / "C101.sol", inst, sol)
    text = (tmp_path / "C101.sol").read_text()
    assert text.splitlines()[0] == "Route #1: 5 3 7 8 10 11 9 6 4 2 1 75"
    assert text.splitlines()[-1] == "Cost 827.3"
    again = read_solution(tmp_path / "C101.sol", inst)
    assert again.routes == sol.routes


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


VRP_OK = """NAME : tiny
TYPE : CVRPTW
DIMENSION : 3
VEHICLES : 2
CAPACITY : 10
EDGE_WEIGHT_TYPE : EUC_2D
NODE_COORD_SECTION
1 0 0
2 3 4
3 6 8
DEMAND_SECTION
1 0
2 1
3 2
TIME_WINDOW_SECTION
1 0 100
2 0 100
3 0 100
DEPOT_SECTION
1
-1
"""


def test_a_tiny_vrplib_file_reads(tmp_path: Path) -> None:
    inst = read_instance(_write(tmp_path, "tiny.vrp", VRP_OK))
    assert inst.problem.distances[0, 2] == 100


CVRP_OK = """NAME : cvrp
TYPE : CVRP
DIMENSION : 3
CAPACITY : 10
EDGE_WEIGHT_TYPE : EUC_2D
NODE_COORD_SECTION
1 0 0
2 1 1
3 2 3
DEMAND_SECTION
1 0
2 4
3 5
DEPOT_SECTION
1
-1
EOF
"""


def test_a_cvrp_file_has_no_time_and_rounds_every_arc(tmp_path: Path) -> None:
    inst = read_instance(_write(tmp_path, "cvrp.vrp", CVRP_OK))
    assert (inst.convention, inst.scale) == (Convention.ROUNDED, 1)
    assert np.asarray(inst.problem.distances).tolist() == [[0, 1, 4], [1, 0, 2], [4, 2, 0]]
    assert all(not job.stop.time_windows for job in inst.problem.jobs)
    assert [job.demand for job in inst.problem.jobs] == [(4,), (5,)]
    assert inst.problem.vehicle_types[0].count == 2  # no VEHICLES: one per customer


@pytest.mark.parametrize(
    ("broken", "line", "message"),
    [
        (VRP_OK.replace("2 3 4", "2 3 x"), 9, "not a number"),
        (VRP_OK.replace("3 6 8", "3 6"), 10, "expected 3 values"),
        (VRP_OK.replace("CAPACITY : 10", "CAPACITY 10"), 5, "KEY : value"),
        (VRP_OK.replace("3 2\n", ""), 13, "expected 3 rows"),
        (VRP_OK.replace("2 3 4\n3 6 8", "3 6 8\n2 3 4"), 9, "expected node id 2"),
    ],
)
def test_malformed_vrplib_reports_the_line(
    tmp_path: Path, broken: str, line: int, message: str
) -> None:
    with pytest.raises(InstanceFormatError, match=message) as info:
        read_instance(_write(tmp_path, "bad.vrp", broken))
    assert info.value.line == line
    assert f"bad.vrp:{line}" in str(info.value)


DEPOT_ONLY = """NAME : empty
TYPE : CVRP
DIMENSION : 1
CAPACITY : 10
EDGE_WEIGHT_TYPE : EUC_2D
NODE_COORD_SECTION
1 0 0
DEMAND_SECTION
1 0
DEPOT_SECTION
1
-1
EOF
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (DEPOT_ONLY, "DIMENSION 1: no customers, only the depot"),
        (CVRP_OK.replace("CAPACITY : 10", "CAPACITY : 10\nVEHICLES : 0"), "VEHICLES 0: "),
    ],
)
def test_a_file_with_nothing_to_route_or_nobody_to_route_it_says_so(
    tmp_path: Path, text: str, message: str
) -> None:
    # Regression: both failed with "vehicle_types.count: must be >= 1", which names
    # neither the file nor what in it was wrong.
    with pytest.raises(InstanceFormatError, match=message) as info:
        read_instance(_write(tmp_path, "odd.vrp", text))
    assert "odd.vrp" in str(info.value)


LILIM_OK = """2\t10\t1
0\t0\t0\t0\t0\t100\t0\t0\t0
1\t1\t0\t5\t0\t100\t1\t0\t2
2\t2\t0\t-5\t0\t100\t1\t1\t0
"""


def test_li_lim_reader_and_its_errors(tmp_path: Path) -> None:
    inst = read_instance(_write(tmp_path, "ok.txt", LILIM_OK))
    assert [s.id for s in inst.problem.shipments] == ["1-2"]
    with pytest.raises(InstanceFormatError) as info:
        read_instance(_write(tmp_path, "short.txt", LILIM_OK.replace("1\t1\t0\t5", "1\t1\t5")))
    assert info.value.line == 3
    with pytest.raises(InstanceFormatError) as info:
        read_instance(_write(tmp_path, "pair.txt", LILIM_OK.replace("1\t0\t2\n", "1\t0\t1\n")))
    assert info.value.line == 3
    with pytest.raises(InstanceFormatError):
        read_instance(tmp_path / "missing.txt")


def test_gzipped_matrix_with_wrong_size(tmp_path: Path) -> None:
    text = (
        VRP_OK.replace("EDGE_WEIGHT_TYPE : EUC_2D", "EDGE_WEIGHT_TYPE : EXPLICIT")
        .replace("TYPE : CVRPTW", "EDGE_WEIGHT_FORMAT : FULL_MATRIX")
        .replace("NODE_COORD_SECTION\n1 0 0\n2 3 4\n3 6 8\n", "EDGE_WEIGHT_SECTION\n0 1 2\n1 0 3\n")
    )
    path = tmp_path / "m.txt.gz"
    path.write_bytes(gzip.compress(text.encode()))
    with pytest.raises(InstanceFormatError, match="expected 9 values") as info:
        read_instance(path)
    assert info.value.line == 9

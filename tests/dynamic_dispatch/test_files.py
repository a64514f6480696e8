"""Instance and configs files: read in place, bad ones refused with the file and part named."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from doorstep.dynamic_dispatch.benchmark_files import ConfigsError, locate, read_dynamic_configs
from doorstep.optimize.errors import InstanceFormatError
from doorstep.optimize.instances import read_ortec
from tests.conftest import TINY_INSTANCES

from .conftest import TINY_ORTEC


def test_configs_keep_the_dynamic_entries_and_resolve_gzipped_instances(tmp_path: Path) -> None:
    configs = read_dynamic_configs(TINY_INSTANCES / "ortec" / "configs.json")
    assert [(c.seed, c.epoch_time_limit) for c in configs] == [(7, 1.0)]
    assert read_ortec(configs[0].instance).num_customers == 12
    # Configs name `.txt`; where only the `.txt.gz` exists, that is read.
    (tmp_path / "tiny-n12.txt.gz").write_bytes(gzip.compress(TINY_ORTEC.read_bytes()))
    entry = {"instance": "tiny-n12.txt", "instance_seed": 3, "static": False, "epoch_tlim": 2}
    (tmp_path / "configs.json").write_text(json.dumps([entry]))
    (gzipped,) = read_dynamic_configs(tmp_path / "configs.json")
    assert read_ortec(gzipped.instance).num_customers == 12


def test_relative_paths_resolve_under_the_benchmarks_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOORSTEP_BENCHMARKS_DIR", str(TINY_INSTANCES))
    assert locate(Path("ortec/configs.json")) == TINY_INSTANCES / "ortec" / "configs.json"
    with pytest.raises(FileNotFoundError, match=r"nowhere\.txt"):
        locate(Path("nowhere.txt"))


def test_a_configs_file_elsewhere_names_instances_in_the_benchmarks_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The project's own configs (held-out checks) live in `benchmarks/`, the data beside it.
    monkeypatch.setenv("DOORSTEP_BENCHMARKS_DIR", str(TINY_INSTANCES))
    entry = {"instance": "ortec/tiny-n12.txt", "instance_seed": 3, "static": False, "epoch_tlim": 2}
    (tmp_path / "configs.json").write_text(json.dumps([entry]))
    (config,) = read_dynamic_configs(tmp_path / "configs.json")
    assert config.instance == TINY_INSTANCES / "ortec" / "tiny-n12.txt"
    assert read_ortec(config.instance).num_customers == 12
    entry["instance"] = "ortec/nowhere.txt"
    (tmp_path / "configs.json").write_text(json.dumps([entry]))
    with pytest.raises(ConfigsError, match=r"entry 0: .*nowhere\.txt not found"):
        read_dynamic_configs(tmp_path / "configs.json")


@pytest.mark.benchmark_data
def test_qualification_configs_have_ten_dynamic_entries(ortec_dir: Path) -> None:
    configs = read_dynamic_configs(ortec_dir / "qualification" / "configs.json")
    assert len(configs) == 10
    assert all(c.epoch_time_limit == 60 for c in configs)
    # configs name `.txt`; the files are gzipped, and both resolve.
    first = configs[0]
    assert read_ortec(first.instance).num_customers > 0
    assert locate(Path("ortec/test/configs.json")).exists()


def test_bad_configs_are_named(tmp_path: Path) -> None:
    broken = tmp_path / "configs.json"
    broken.write_text("[{")
    with pytest.raises(ConfigsError, match="not valid JSON"):
        read_dynamic_configs(broken)
    broken.write_text(json.dumps([{"instance": "x.txt", "static": False}]))
    with pytest.raises(ConfigsError, match="entry 0"):
        read_dynamic_configs(broken)


def test_bad_instance_names_file_and_section(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    head = "NAME : bad\nDIMENSION : 2\nCAPACITY : 5\n"
    matrix = "EDGE_WEIGHT_TYPE : EXPLICIT\nEDGE_WEIGHT_FORMAT : FULL_MATRIX\n"
    bad.write_text(head + matrix + "EDGE_WEIGHT_SECTION\n0 1\n1 0\n")
    with pytest.raises(InstanceFormatError, match=r"bad\.txt: missing DEMAND_SECTION"):
        read_ortec(bad)
    bad.write_text(head + matrix + "EDGE_WEIGHT_SECTION\n0 1\n1\n")
    with pytest.raises(InstanceFormatError, match=r"bad\.txt:8: EDGE_WEIGHT_SECTION: expected 2"):
        read_ortec(bad)
    bad.write_text(head + "EDGE_WEIGHT_SECTION\n0 1\n1 0\n")
    with pytest.raises(InstanceFormatError, match="missing header EDGE_WEIGHT_TYPE"):
        read_ortec(bad)
    tiny = TINY_ORTEC.read_text()
    bad.write_text(tiny.replace("DEMAND_SECTION\n1\t0\n2\t14\n", "DEMAND_SECTION\n1\t0\n2\t1.5\n"))
    with pytest.raises(InstanceFormatError, match=r"bad\.txt:\d+: DEMAND_SECTION: not an integer"):
        read_ortec(bad)

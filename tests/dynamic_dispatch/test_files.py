"""Instance and configs files: read in place, bad ones refused with the file and part named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from doorstep.dynamic_dispatch.benchmark_files import ConfigsError, locate, read_dynamic_configs
from doorstep.dynamic_dispatch.ortec_instance import InstanceFormatError, read_ortec_instance


def test_qualification_configs_have_ten_dynamic_entries(ortec_dir: Path) -> None:
    configs = read_dynamic_configs(ortec_dir / "qualification" / "configs.json")
    assert len(configs) == 10
    assert all(c.epoch_time_limit == 60 for c in configs)
    # configs name `.txt`; the files are gzipped, and both resolve.
    first = configs[0]
    assert read_ortec_instance(first.instance).num_customers > 0


def test_relative_paths_resolve_under_the_benchmarks_folder(ortec_dir: Path) -> None:
    assert locate(Path("ortec/test/configs.json")).exists()
    with pytest.raises(FileNotFoundError, match=r"nowhere\.txt"):
        locate(Path("nowhere.txt"))


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
        read_ortec_instance(bad)
    bad.write_text(head + matrix + "EDGE_WEIGHT_SECTION\n0 1\n1\n")
    with pytest.raises(InstanceFormatError, match=r"bad\.txt:8: EDGE_WEIGHT_SECTION: expected 2"):
        read_ortec_instance(bad)
    bad.write_text(head + "EDGE_WEIGHT_SECTION\n0 1\n1 0\n")
    with pytest.raises(InstanceFormatError, match="missing header EDGE_WEIGHT_TYPE"):
        read_ortec_instance(bad)

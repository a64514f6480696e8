"""Where the ORTEC benchmark files are, and what their `configs.json` asks for.

Benchmark data is read in place (never copied into the project): `../shared/benchmarks` next to
the project root, or the folder named by `DOORSTEP_BENCHMARKS_DIR`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

_PROJECT_ROOT = Path(__file__).resolve().parents[3]


class ConfigsError(ValueError):
    """A `configs.json` that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class DynamicConfig:
    instance: Path
    seed: int
    epoch_time_limit: float


def benchmarks_dir() -> Path:
    configured = os.environ.get("DOORSTEP_BENCHMARKS_DIR")
    return Path(configured) if configured else _PROJECT_ROOT.parent / "shared" / "benchmarks"


def locate(path: Path, beside: Path | None = None) -> Path:
    """`path` as given (or in the folder ``beside``) if it exists (or its `.gz`), else
    relative to the benchmarks folder."""
    first = path if beside is None else beside / path
    for candidate in (first, benchmarks_dir() / path):
        if candidate.exists() or candidate.with_name(candidate.name + ".gz").exists():
            return candidate
    raise FileNotFoundError(f"{first} not found (also looked in {benchmarks_dir()})")


def read_dynamic_configs(path: Path) -> list[DynamicConfig]:
    """The dynamic entries (`"static": false`) of a competition `configs.json`, in file order.

    Instance names are resolved next to the configs file, else in the benchmarks folder
    (the project's own configs name the published instances so).
    """
    file = locate(path)
    try:
        entries = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigsError(f"{file}: not valid JSON ({exc})") from exc
    if not isinstance(entries, list):
        raise ConfigsError(f"{file}: expected a list of entries")
    configs: list[DynamicConfig] = []
    for index, entry in enumerate(entries):
        try:
            if entry["static"]:
                continue
            name = Path(str(entry["instance"]))
            seed = int(entry["instance_seed"])
            epoch_time_limit = float(entry["epoch_tlim"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigsError(f"{file}: entry {index} is missing or has a bad {exc}") from exc
        try:
            instance = locate(name, beside=file.parent)
        except FileNotFoundError as exc:
            raise ConfigsError(f"{file}: entry {index}: {exc.args[0]}") from exc
        configs.append(DynamicConfig(instance, seed, epoch_time_limit))
    return configs

"""Mutation testing, one mutmut run per mutated file, each with the tests of that file only.

mutmut 3 runs, for each mutant, the tests that called the mutated function in its first
(stats) run. With one run over every file, every ingest test covers the selector normalizers
and every report test the ingest, so a surviving mutant of ``selectors.py`` paid for the whole
ingest suite (10-30 s a mutant on the shared 2-core machine). Here each file gets its own
scratch folder ``mutation/<target>/`` (symlinks to ``src`` and ``tests``, and a copy of
pyproject.toml whose ``[tool.mutmut]`` names that file and its tests), so a mutant runs only
the focused, not-slow tests of its own file. The targets are ``[tool.lastmile.mutation.*]`` in
pyproject.toml.

    .venv/bin/python scripts/mutation.py                       # every target (hours)
    .venv/bin/python scripts/mutation.py selectors --children 2
    .venv/bin/python scripts/mutation.py compute --sample 150 --seed 1   # a random sample
    .venv/bin/python scripts/mutation.py selectors --retest-survivors   # after new tests
    .venv/bin/python scripts/mutation_summary.py               # the shares, per file

``--sample N`` tests N mutants drawn uniformly at random (seeded) from the file's mutants,
for when the full run does not fit the time at hand; the summary then gives the share with
its 95 % confidence interval. Results are cached in ``mutation/<target>/mutants``: a second
run tests only the mutants not yet tested (mutmut's own rule); delete the folder to start over.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "mutation"
MUTMUT = Path(sys.executable).parent / "mutmut"


def targets() -> dict[str, dict[str, list[str] | str]]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    found: dict[str, dict[str, list[str] | str]] = data["tool"]["lastmile"]["mutation"]
    return found


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def prepare(name: str, target: dict[str, list[str] | str]) -> Path:
    """The scratch folder of one target, with its own [tool.mutmut]."""
    folder = WORK / name
    folder.mkdir(parents=True, exist_ok=True)
    for link in ("src", "tests"):
        path = folder / link
        if not path.is_symlink():
            path.symlink_to(ROOT / link, target_is_directory=True)
    base = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["mutmut"]
    args = list(base["pytest_add_cli_args"])
    for test in target.get("deselect", []):
        args += ["--deselect", test]
    text = (ROOT / "pyproject.toml").read_text("utf-8")
    # Drop the root's [tool.mutmut] table (up to the next table header) and write this one.
    text = re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[)", "", text)
    text += (
        "\n[tool.mutmut]\n"
        f"source_paths = {_toml_list(base['source_paths'])}\n"
        f"only_mutate = {_toml_list([str(target['file'])])}\n"
        f"pytest_add_cli_args = {_toml_list(args)}\n"
        f"pytest_add_cli_args_test_selection = {_toml_list(list(target['tests']))}\n"
    )
    (folder / "pyproject.toml").write_text(text, "utf-8")
    return folder


def mutant_names(folder: Path, file: str) -> list[str]:
    """Every mutant of the file (generating them first, without running any test)."""
    meta = folder / "mutants" / f"{file}.meta"
    if not meta.exists():
        code = (
            "import os, sys\n"
            "from mutmut.__main__ import copy_src_dir, copy_also_copy_files, "
            "setup_source_paths, create_mutants\n"
            "os.makedirs('mutants', exist_ok=True)\n"
            "copy_src_dir(); copy_also_copy_files(); setup_source_paths(); create_mutants(1)\n"
        )
        subprocess.run([sys.executable, "-c", code], cwd=folder, check=True, capture_output=True)
    return sorted(json.loads(meta.read_text())["exit_code_by_key"])


def _codes(folder: Path, file: str) -> dict[str, int | None]:
    meta = folder / "mutants" / f"{file}.meta"
    codes: dict[str, int | None] = (
        json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
    )
    sample = folder / "sample.json"
    if sample.exists():
        chosen = set(json.loads(sample.read_text())["mutants"])
        codes = {k: v for k, v in codes.items() if k in chosen}
    return codes


def survivors(folder: Path, file: str) -> list[str]:
    """The mutants of a finished run (or sample) that no test killed (survived, or no test
    reaches)."""
    return sorted(k for k, code in _codes(folder, file).items() if code in (0, 5, 33))


def run(name: str, children: int, sample: int | None, seed: int, retest: bool) -> None:
    target = targets()[name]
    folder = prepare(name, target)
    names: list[str] = []
    if retest:
        names = survivors(folder, str(target["file"]))
        if not names:
            print(f"{name}: no survivor to test again")
            return
    elif sample is not None:
        # A seeded shuffle, cut at the sample size: a larger sample with the same seed holds
        # the smaller one, so a sample can be extended without testing its mutants again.
        every = mutant_names(folder, str(target["file"]))
        random.Random(seed).shuffle(every)
        chosen = sorted(every[:sample])
        (folder / "sample.json").write_text(
            json.dumps({"seed": seed, "size": len(chosen), "of": len(every), "mutants": chosen})
        )
        tested = {k for k, code in _codes(folder, str(target["file"])).items() if code is not None}
        names = [n for n in chosen if n not in tested]
        if not names:
            print(f"{name}: every mutant of the sample is tested")
            return
    env = {k: v for k, v in os.environ.items() if k != "LASTMILE_TEST_POSTGRES_URL"}
    command = ["nice", "-n", "10", str(MUTMUT), "run", "--max-children", str(children), *names]
    print(f"{name}: {' '.join(command[:6])} ({len(names) or 'all'} mutants) in {folder}")
    subprocess.run(command, cwd=folder, env=env, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", nargs="*", help="targets (default: all)")
    parser.add_argument("--children", type=int, default=2, help="mutants tested at once")
    parser.add_argument("--sample", type=int, help="test this many random mutants per file")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--retest-survivors",
        action="store_true",
        help="test again only the mutants that survived (after adding tests)",
    )
    options = parser.parse_args()
    for name in options.target or list(targets()):
        run(name, options.children, options.sample, options.seed, options.retest_survivors)


if __name__ == "__main__":
    main()

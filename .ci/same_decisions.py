#!/usr/bin/env python3
"""Compares `liveness check --json` reports of two builds (DIR/REC.aarch64.json against
DIR/REC.native.json): the decision (`live`, `reason`) must be the same; every other number
may differ in its last bits, and the largest relative difference is printed.
Exit 1 when a decision differs or a report is missing."""
import json
import pathlib
import sys


def numbers(value, path=""):
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, (int, float)):
        yield path, float(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from numbers(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from numbers(v, f"{path}[{i}]")


def main(folder):
    folder = pathlib.Path(folder)
    failed = False
    for arm_path in sorted(folder.glob("*.aarch64.json")):
        rec = arm_path.name[: -len(".aarch64.json")]
        native_path = folder / f"{rec}.native.json"
        try:
            arm = json.loads(arm_path.read_text())
            native = json.loads(native_path.read_text())
        except (OSError, ValueError) as e:
            print(f"{rec}: no report to compare ({e})")
            failed = True
            continue
        same = (arm.get("live"), arm.get("reason")) == (native.get("live"), native.get("reason"))
        a, n = dict(numbers(arm)), dict(numbers(native))
        worst, where = 0.0, ""
        for key in a.keys() & n.keys():
            d = abs(a[key] - n[key]) / max(abs(n[key]), 1e-12)
            if d > worst:
                worst, where = d, key
        shape = "same fields" if a.keys() == n.keys() else "different fields"
        print(
            f"{rec}: live {arm.get('live')} / {native.get('live')}, reason {arm.get('reason')} / "
            f"{native.get('reason')}: {'same decision' if same else 'DIFFERENT DECISION'}; "
            f"{shape}, largest relative difference {worst:.1e} ({where or '-'})"
        )
        failed |= not same
    if not any(folder.glob("*.aarch64.json")):
        print("no reports found")
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

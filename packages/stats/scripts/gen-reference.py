#!/usr/bin/env python3
"""Writes packages/stats/spec/*.json, the reference values the TypeScript tests compare against.

Run from anywhere: `python3 packages/stats/scripts/gen-reference.py` (numpy, scipy 1.17, mpmath).
The outputs are committed; rerunning must reproduce them byte for byte.
"""

import json
import pathlib
import sys

import scipy

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from gen_cases import analyze_reference  # noqa: E402
from gen_distributions import distribution_reference  # noqa: E402

SPEC = pathlib.Path(__file__).resolve().parent.parent / "spec"


def write(name, payload):
    payload = {"generator": "packages/stats/scripts/gen-reference.py", "scipy": scipy.__version__, **payload}
    # allow_nan=False: a NaN or infinity in a reference value is a bug in the generator
    (SPEC / name).write_text(json.dumps(payload, indent=1, allow_nan=False) + "\n")


def main():
    SPEC.mkdir(exist_ok=True)
    write("distributions.json", distribution_reference())
    write("analyze.json", analyze_reference())


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Writes test/fixtures/pymatgen-oxidation.json: pymatgen's default charge-balance verdict for every
structure of the candidate pool (data/candidates/open_li_pool_v1/cifs), the reference that
test/structure/oxidation.test.ts compares ionsieve's assignment with.

Run with Debian's pymatgen (apt-get install python3-pymatgen): /usr/bin/python3 scripts/pymatgen-oxidation-fixture.py

For each structure: `Structure.composition.reduced_composition.oxi_state_guesses()` with its
defaults (ICSD states, target charge 0, max_sites None). The reduced composition, as the issue's
figure (143 of 279 balance) was made; on the cell composition pymatgen enumerates
combinations_with_replacement(states, n) per element, which for the 56 P atoms of LiP7's cell
alone did not finish in 18 minutes. pymatgen refuses a composition
with non-integer amounts (partial occupancy) with a ValueError; the fixture records that error and,
as `scaled`, the verdict on the smallest integer multiple of the composition (what ionsieve does).
"""
import csv
import json
import os
import sys
import warnings
from fractions import Fraction

import pymatgen
from pymatgen.core import Composition, Structure

warnings.filterwarnings("ignore")
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
POOL = os.path.join(ROOT, "data", "candidates", "open_li_pool_v1")


def guess(comp):
    sols = comp.oxi_state_guesses()
    return {"balanced": len(sols) > 0, "states": {el: round(v, 6) for el, v in sols[0].items()} if sols else None}


def integer_multiple(comp):
    denominators = [Fraction(v).limit_denominator(1000).denominator for v in comp.values()]
    m = 1
    for d in denominators:
        m = m * d // __import__("math").gcd(m, d)
    return Composition({el: round(v * m) for el, v in comp.items()})


out = {"pymatgen": getattr(pymatgen, "__version__", "2022.11.7 (Debian python3-pymatgen)"), "structures": {}}
with open(os.path.join(POOL, "manifest.csv")) as f:
    rows = list(csv.DictReader(f))
for row in rows:
    s = Structure.from_file(os.path.join(POOL, "cifs", row["id"] + ".cif"))
    comp = s.composition.element_composition.reduced_composition
    entry = {"formula": comp.formula}
    try:
        entry.update(guess(comp))
    except ValueError as e:
        entry["error"] = str(e)
        entry["balanced"] = None
        entry["scaled"] = guess(integer_multiple(comp))
    out["structures"][row["id"]] = entry
    print(row["id"], entry.get("balanced"), file=sys.stderr)

with open(os.path.join(ROOT, "test", "fixtures", "pymatgen-oxidation.json"), "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
    f.write("\n")
n = sum(1 for e in out["structures"].values() if e["balanced"])
print(f"{n} of {len(out['structures'])} balance", file=sys.stderr)

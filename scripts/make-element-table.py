#!/usr/bin/env python3
"""One-off generator for data/elements/elements.json (Z = 1..100).

Sources (see data/elements/SOURCE.md):
  * pymatgen `core/periodic_table.json` (MIT, Debian python3-pymatgen 2022.11.7):
    Pauling electronegativity `X`, first ionisation energy (eV), electron affinity (eV),
    molar volume (cm^3/mol), atomic mass, Mendeleev number.
  * Pyykkö & Atsumi, "Molecular single-bond covalent radii for elements 1-118",
    Chem. Eur. J. 15 (2009) 186-197, doi:10.1002/chem.200800987 (pm).
  * Group, period, block and valence-electron count are derived from Z with the rules that
    reproduce CGCNN's atom_init.json (design/knagcn.md section 2.1).

Run:  python3 scripts/make-element-table.py [path/to/periodic_table.json] > data/elements/elements.json
"""
import json
import re
import sys

PYMATGEN_JSON = sys.argv[1] if len(sys.argv) > 1 else \
    '/usr/lib/python3/dist-packages/pymatgen/core/periodic_table.json'

# Pyykkö & Atsumi 2009 single-bond covalent radii in pm, index Z-1, Z = 1..100.
# These (not Cordero 2008) are the radii that reproduce CGCNN's covalent-radius bins: with Cordero
# values 57 elements fall into another bin (Ti 160 vs 136 pm, La 207 vs 180 pm, ...).
PYYKKO_2009_PM = [
    32, 46, 133, 102, 85, 75, 71, 63, 64, 67,                   # H..Ne
    155, 139, 126, 116, 111, 103, 99, 96,                       # Na..Ar
    196, 171, 148, 136, 134, 122, 119, 116, 111, 110,           # K..Ni
    112, 118, 124, 121, 121, 116, 114, 117,                     # Cu..Kr
    210, 185, 163, 154, 147, 138, 128, 125, 125, 120,           # Rb..Pd
    128, 136, 142, 140, 140, 136, 133, 131,                     # Ag..Xe
    232, 196, 180, 163, 176, 174, 173, 172, 168, 169,           # Cs..Gd
    168, 167, 166, 165, 164, 170, 162, 152, 146, 137,           # Tb..W
    131, 129, 122, 123, 124, 133, 144, 144, 151, 145,           # Re..Po
    147, 142, 223, 201, 186, 175, 169, 170, 171, 172,           # At..Pu
    166, 166, 168, 168, 165, 167,                               # Am..Fm
]
assert len(PYYKKO_2009_PM) == 100

PERIOD_STARTS = [1, 3, 11, 19, 37, 55, 87, 119]


def period_of(z):
    for p in range(7):
        if PERIOD_STARTS[p] <= z < PERIOD_STARTS[p + 1]:
            return p + 1
    raise ValueError(z)


def is_f_block(z):
    # La..Yb and Ac..No are f-block in CGCNN's table (Lu and Lr are group-3 d-block).
    return 57 <= z <= 70 or 89 <= z <= 102


def group_of(z):
    """IUPAC group 1..18; 0 for the f-block rows (CGCNN convention)."""
    if is_f_block(z):
        return 0
    if z == 1:
        return 1
    if z == 2:
        return 18
    p = period_of(z)
    offset = z - PERIOD_STARTS[p - 1]  # 0-based position in the period
    if p in (2, 3):
        return offset + 1 if offset < 2 else offset + 11
    if p in (4, 5):
        return offset + 1
    # periods 6 and 7: 2 s-elements, 14 f-elements (group 0), then Lu/Lr = group 3
    return offset + 1 if offset < 2 else offset - 13


def block_of(z):
    if is_f_block(z):
        return 'f'
    g = group_of(z)
    if z == 2 or g <= 2:
        return 's'
    if g <= 12:
        return 'd'
    return 'p'


def valence_electrons(z):
    """CGCNN's count: s/d-block = group, p-block = group - 10 (He -> 2), f-block = 2."""
    if is_f_block(z):
        return 2
    if z == 2:
        return 2
    g = group_of(z)
    return g if g <= 12 else g - 10


def number(value):
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    m = re.match(r'\s*(-?[0-9.]+(?:[eE]-?[0-9]+)?)', str(value))
    return float(m.group(1)) if m else None


def main():
    with open(PYMATGEN_JSON) as f:
        table = json.load(f)
    by_z = {int(v['Atomic no']): (sym, v) for sym, v in table.items()}
    rows = []
    for z in range(1, 101):
        sym, v = by_z[z]
        ies = v.get('Ionization energies') or []
        rows.append({
            'Z': z,
            'symbol': sym,
            'group': group_of(z),
            'period': period_of(z),
            'block': block_of(z),
            'valenceElectrons': valence_electrons(z),
            'electronegativityPauling': number(v.get('X')),
            'covalentRadiusPm': float(PYYKKO_2009_PM[z - 1]),
            'firstIonizationEnergyEv': number(ies[0]) if ies else None,
            'electronAffinityEv': number(v.get('Electron affinity')),
            'molarVolumeCm3PerMol': number(v.get('Molar volume')),
            'atomicMassU': number(v.get('Atomic mass')),
            'mendeleevNumber': number(v.get('Mendeleev no')),
        })
    doc = {
        'description': 'Element properties for ionsieve atom features (Z = 1..100). null = not available.',
        'sources': {
            'pymatgen': 'pymatgen/core/periodic_table.json, Debian python3-pymatgen 2022.11.7 (MIT)',
            'covalentRadiusPm': 'Pyykko & Atsumi, Chem. Eur. J. 15 (2009) 186, single-bond radii',
            'derived': 'group, period, block, valenceElectrons derived from Z (CGCNN conventions)',
        },
        'elements': rows,
    }
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()

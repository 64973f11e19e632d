/**
 * Continuous (not binned) element descriptors, for composition-only baselines (Magpie-like
 * occupancy-weighted statistics are formed by the caller).
 *
 * Missing values (e.g. Pauling EN of He/Ne/Ar, covalent radius beyond Cm) are imputed with the
 * median of that property over Z = 1..100, so every vector is finite; the imputation is part of
 * the feature definition and changes with the table hash.
 */
import { elementProperties, elementPropertiesByZ, MAX_ELEMENT_Z, type ElementProperties } from './element-table.js';

/** Names (with units) of the entries of `elementPropertyVector`, in order. */
export const ELEMENT_PROPERTY_NAMES = [
  'atomic_number',
  'atomic_mass_u',
  'group',
  'period',
  'mendeleev_number',
  'electronegativity_pauling',
  'covalent_radius_pm',
  'valence_electrons',
  'first_ionization_energy_ev',
  'electron_affinity_ev',
  'molar_volume_cm3_per_mol',
  'block_s',
  'block_p',
  'block_d',
  'block_f',
] as const;

function rawVector(e: ElementProperties): number[] {
  return [
    e.Z,
    e.atomicMassU,
    e.group,
    e.period,
    e.mendeleevNumber,
    e.electronegativityPauling,
    e.covalentRadiusPm,
    e.valenceElectrons,
    e.firstIonizationEnergyEv,
    e.electronAffinityEv,
    e.molarVolumeCm3PerMol,
    e.block === 's' ? 1 : 0,
    e.block === 'p' ? 1 : 0,
    e.block === 'd' ? 1 : 0,
    e.block === 'f' ? 1 : 0,
  ];
}

let medians: number[] | undefined;

function propertyMedians(): number[] {
  if (medians) return medians;
  const columns: number[][] = ELEMENT_PROPERTY_NAMES.map(() => []);
  for (let Z = 1; Z <= MAX_ELEMENT_Z; Z++) {
    rawVector(elementPropertiesByZ(Z)).forEach((v, i) => {
      if (Number.isFinite(v)) columns[i]!.push(v);
    });
  }
  medians = columns.map((c) => {
    const s = [...c].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  });
  return medians;
}

/** Continuous descriptor vector of an element (length ELEMENT_PROPERTY_NAMES.length, all finite). */
export function elementPropertyVector(symbol: string): Float32Array {
  const m = propertyMedians();
  return Float32Array.from(rawVector(elementProperties(symbol)), (v, i) => (Number.isFinite(v) ? v : m[i]!));
}

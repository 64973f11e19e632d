/** Inputs of the material queries and mutations. */
import { Field, Float, InputType, Int, registerEnumType } from 'type-graphql';
import type { AddMaterialInput as ServiceAddMaterialInput, MaterialFilter } from '../../services/materials.js';
import { StructureInput, toServiceStructure } from '../structure/structure.input.js';

export enum LabelFilterValue {
  FAST = 'FAST',
  POOR = 'POOR',
  UNLABELLED = 'UNLABELLED',
}

registerEnumType(LabelFilterValue, {
  name: 'LabelFilter',
  description: 'Filter on the current label of a material.',
  valuesConfig: {
    FAST: { description: 'Current label is FAST.' },
    POOR: { description: 'Current label is POOR.' },
    UNLABELLED: { description: 'No current label (never labelled, or every label retracted).' },
  },
});

@InputType('PropertyRange', { description: 'A numeric property within [min, max]; a bound left null is open. A material without the property does not match.' })
export class PropertyRangeInput {
  @Field(() => String, { description: 'Property name, e.g. "band_gap_ev".' })
  name!: string;

  @Field(() => Float, { nullable: true })
  min?: number | null;

  @Field(() => Float, { nullable: true })
  max?: number | null;
}

@InputType('PropertyInput', { description: 'A numeric property to set; value null removes it.' })
export class PropertyInputType {
  @Field(() => String, { description: 'Lower-case letters, digits and _, e.g. "band_gap_ev" or a provider-prefixed "_mp_band_gap".' })
  name!: string;

  @Field(() => Float, { nullable: true })
  value!: number | null;

  @Field(() => String, { nullable: true, description: 'Unit, e.g. "eV"; ionsieve\'s own names (band_gap_ev, …) carry theirs and refuse another.' })
  unit?: string | null;

  @Field(() => String, { nullable: true, description: 'Where the value comes from, e.g. "Materials Project r2024.11" or a DOI.' })
  source?: string | null;
}

@InputType('MaterialFilter', { description: 'All given conditions must hold (AND). Names follow OPTIMADE filters.' })
export class MaterialFilterInput {
  @Field(() => [String], { nullable: true, description: 'Contains every one of these elements (OPTIMADE `elements HAS ALL`).' })
  elementsHasAll?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Contains no element outside this set (OPTIMADE `elements HAS ONLY`).' })
  elementsHasOnly?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Contains at least one of these elements (OPTIMADE `elements HAS ANY`).' })
  elementsHasAny?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Contains none of these elements (OPTIMADE `NOT elements HAS ANY`), e.g. ["Fe", "Co"].' })
  elementsHasNone?: string[] | null;

  @Field(() => Int, { nullable: true, description: 'At least this many distinct elements.' })
  nelementsMin?: number | null;

  @Field(() => Int, { nullable: true, description: 'At most this many distinct elements.' })
  nelementsMax?: number | null;

  @Field(() => LabelFilterValue, { nullable: true })
  label?: LabelFilterValue | null;

  @Field(() => String, { nullable: true, description: 'Same reduced formula as this one, e.g. "Li3PS4" (any multiple matches).' })
  formula?: string | null;

  @Field(() => [PropertyRangeInput], {
    nullable: true,
    description: 'Every range must hold, e.g. [{ name: "band_gap_ev", min: 1 }]; a material without the property matches no range.',
  })
  properties?: PropertyRangeInput[] | null;

  @Field(() => Int, { nullable: true, description: 'Space-group number (1–230) as found by moyo.' })
  spaceGroupNumber?: number | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'true: some assignment of ICSD oxidation states balances charge (Material.chargeBalanced); false: none does or it was not assessed.',
  })
  chargeBalanced?: boolean | null;

  @Field(() => Boolean, { nullable: true, description: 'Holds (true) or lacks (false) an anion-forming element (Material.hasAnion).' })
  hasAnion?: boolean | null;

  @Field(() => Boolean, { nullable: true, description: 'Holds (true) or lacks (false) a reducible transition metal (Material.hasReducibleTransitionMetal).' })
  hasReducibleTransitionMetal?: boolean | null;

  @Field(() => Boolean, { nullable: true, description: 'true: only retired materials; false: none. `screen` always leaves retired ones out.' })
  retired?: boolean | null;

  @Field(() => String, {
    nullable: true,
    description:
      'An OPTIMADE filter (AND with the other fields): elements HAS / HAS ALL / HAS ANY / HAS ONLY "Li","S"; nelements and nsites ' +
      'comparisons; chemical_formula_reduced / chemical_formula_descriptive = "…"; numeric properties (_mp_band_gap > 1); AND, OR, NOT, ' +
      'parentheses. E.g. `elements HAS "S" AND NOT elements HAS ANY "Fe","Co"`.',
  })
  optimade?: string | null;
}

@InputType('AddMaterialInput', { description: 'Exactly one of `structure` or `composition`.' })
export class AddMaterialInput {
  @Field(() => StructureInput, { nullable: true })
  structure?: StructureInput | null;

  @Field(() => String, { nullable: true, description: 'A chemical formula, e.g. "Li7La3Zr2O12", for a material without a known structure.' })
  composition?: string | null;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true, description: 'Dataset or origin, e.g. a DOI.' })
  source?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    defaultValue: false,
    description: 'Store a structure whose density is outside [0.1, 25] g/cm³ (refused otherwise, as a cell in the wrong unit or with atoms missing).',
  })
  allowUnusualDensity?: boolean | null;
}

/** GraphQL null means "not given" for every filter field. */
export function toServiceFilter(filter: MaterialFilterInput | null | undefined): MaterialFilter {
  if (!filter) return {};
  const serviceFilter: MaterialFilter = {};
  if (filter.elementsHasAll != null) serviceFilter.elementsHasAll = filter.elementsHasAll;
  if (filter.elementsHasOnly != null) serviceFilter.elementsHasOnly = filter.elementsHasOnly;
  if (filter.elementsHasAny != null) serviceFilter.elementsHasAny = filter.elementsHasAny;
  if (filter.elementsHasNone != null) serviceFilter.elementsHasNone = filter.elementsHasNone;
  if (filter.nelementsMin != null) serviceFilter.nelementsMin = filter.nelementsMin;
  if (filter.nelementsMax != null) serviceFilter.nelementsMax = filter.nelementsMax;
  if (filter.label != null) serviceFilter.label = filter.label;
  if (filter.formula != null) serviceFilter.formula = filter.formula;
  if (filter.properties != null) serviceFilter.properties = filter.properties.map((r) => ({ name: r.name, min: r.min ?? null, max: r.max ?? null }));
  if (filter.spaceGroupNumber != null) serviceFilter.spaceGroupNumber = filter.spaceGroupNumber;
  if (filter.chargeBalanced != null) serviceFilter.chargeBalanced = filter.chargeBalanced;
  if (filter.hasAnion != null) serviceFilter.hasAnion = filter.hasAnion;
  if (filter.hasReducibleTransitionMetal != null) serviceFilter.hasReducibleTransitionMetal = filter.hasReducibleTransitionMetal;
  if (filter.retired != null) serviceFilter.retired = filter.retired;
  if (filter.optimade != null) serviceFilter.optimade = filter.optimade;
  return serviceFilter;
}

/** The exactly-one-of rule is checked by the service, which names the failing input index. */
export function toServiceAddMaterialInput(input: AddMaterialInput): ServiceAddMaterialInput {
  return {
    structure: input.structure ? toServiceStructure(input.structure) : undefined,
    composition: input.composition ?? undefined,
    name: input.name ?? null,
    source: input.source ?? null,
    allowUnusualDensity: input.allowUnusualDensity ?? false,
  };
}

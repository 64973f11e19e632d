/**
 * A material: either a crystal structure or only a composition. The root value is a service
 * `MaterialRecord`; `@Field({ name })` maps unit-suffixed record properties to public field names.
 * Fields computed from the structure (lattice, sites, cif, json) and the label fields are resolved in
 * `material.resolver.ts`.
 */
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from '../scalars.js';

export enum MaterialKindValue {
  STRUCTURE = 'STRUCTURE',
  COMPOSITION = 'COMPOSITION',
}

registerEnumType(MaterialKindValue, {
  name: 'MaterialKind',
  valuesConfig: {
    STRUCTURE: { description: 'A full crystal structure (lattice and sites).' },
    COMPOSITION: { description: 'Only a chemical formula; structure fields are null.' },
  },
});

@ObjectType('MaterialAlias', { description: 'Another name under which the same structure was given.' })
export class MaterialAliasType {
  @Field(() => String, { nullable: true })
  name!: string | null;

  @Field(() => String, { nullable: true })
  source!: string | null;

  @Field(() => String, { nullable: true })
  sourceId!: string | null;

  @Field(() => String, { nullable: true, description: 'Who gave it (API token or importer name).' })
  createdBy!: string | null;

  @Field(() => DateTimeScalar)
  createdAt!: Date;
}

@ObjectType('MaterialProperty', { description: 'A numeric property of a material.' })
export class MaterialPropertyType {
  @Field(() => String)
  name!: string;

  @Field(() => Float)
  value!: number;

  @Field(() => String, { nullable: true })
  unit!: string | null;

  @Field(() => String, { nullable: true, description: 'Where the value comes from.' })
  source!: string | null;

  @Field(() => String, { nullable: true, description: "Who set it: an API token's name, an importer, or \"seed\"." })
  setBy!: string | null;

  @Field(() => DateTimeScalar)
  setAt!: Date;
}

@ObjectType('OxidationState', { description: 'The average oxidation state of an element in the best charge-balancing assignment.' })
export class OxidationStateType {
  @Field(() => String)
  element!: string;

  @Field(() => Float, { description: 'Average over the atoms of the element, e.g. -0.1667 for C in LiC6.' })
  state!: number;

  @Field(() => String, { description: 'The same as a fraction, e.g. "-1/6" (or "2" when whole).' })
  fraction!: string;
}

@ObjectType('Material', {
  description: 'A material: a crystal structure, or a composition alone (then every structure field is null).',
})
export class MaterialType {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  name!: string | null;

  @Field(() => String, { nullable: true, description: 'Dataset or origin, e.g. "obelix".' })
  source!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Identifier in the source dataset or database, e.g. an OBELiX id or a Materials Project id ("mp-1222772").',
  })
  sourceId!: string | null;

  @Field(() => String, { nullable: true, description: "Link to the record at its provider (e.g. its Materials Project page), when it has one." })
  sourceUrl!: string | null;

  @Field(() => [MaterialAliasType], {
    description: "Other names of the same structure: a pool's own ids, and the name and source of each later upload of it.",
  })
  aliases!: MaterialAliasType[];

  @Field(() => Int, { nullable: true, description: 'Space-group number (1–230) found by moyo with a 0.1 Å tolerance; null for a composition.' })
  spaceGroupNumber!: number | null;

  @Field(() => String, { nullable: true, description: 'Short Hermann–Mauguin symbol of `spaceGroupNumber`, e.g. "Fm-3m".' })
  spaceGroupSymbol!: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'Whether some assignment of ICSD oxidation states balances charge, as pymatgen’s Composition.oxi_state_guesses() ' +
      'by default (mixed valence and partial occupancy included; README "Chemical plausibility"). Null when not assessed.',
  })
  chargeBalanced!: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Holds an anion-forming element: H or a group 15–17 non-metal (N, P, As, O, S, Se, Te, F, Cl, Br, I).',
  })
  hasAnion!: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'Holds a transition metal that ICSD commonly finds in two or more positive oxidation states (Ti, V, Cr, Mn, Fe, Co, Ni, Cu, ' +
      'Nb, Mo, Ru, Rh, Re, Ir, Hg, Tc, Os, Pt, Au), which lithium metal can reduce.',
  })
  hasReducibleTransitionMetal!: boolean | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When a curator retired it (left out of every ranking); null unless retired.' })
  retiredAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Who retired it (API token name).' })
  retiredBy!: string | null;

  @Field(() => String, { nullable: true, description: 'Why it was retired.' })
  retiredReason!: string | null;

  @Field(() => String, { nullable: true, description: 'Structural family, e.g. "garnet", when known.' })
  family!: string | null;

  @Field(() => MaterialKindValue)
  kind!: MaterialKindValue;

  @Field(() => String, { description: 'Formula of the cell (occupancy-weighted), e.g. "Li7La3Zr2O12".' })
  formula!: string;

  @Field(() => String, { description: 'Formula divided by the greatest common factor.' })
  reducedFormula!: string;

  @Field(() => [String], { description: 'Element symbols, sorted.' })
  elements!: string[];

  @Field(() => Int)
  nelements!: number;

  @Field(() => Int, { nullable: true, description: 'Sites in the cell (a disordered site counts once); null without a structure.' })
  nsites!: number | null;

  @Field(() => Float, { description: 'Occupancy-weighted number of atoms in the cell (or in the formula).' })
  natoms!: number;

  @Field(() => Boolean, { nullable: true, description: 'False when any site is partially occupied; null without a structure.' })
  isOrdered!: boolean | null;

  @Field(() => Float, { name: 'volume', nullable: true, description: 'Cell volume, in Å³.' })
  volumeA3!: number | null;

  @Field(() => Float, { name: 'density', nullable: true, description: 'Density, in g/cm³.' })
  densityGPerCm3!: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'Canonical structure hash: equal for the same structure given in another format or site order.',
  })
  structureHash!: string | null;

  @Field(() => String, { nullable: true, description: 'Name of the API token that added it (or the importer given to `ionsieve import --actor`).' })
  createdBy!: string | null;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => ID, {
    nullable: true,
    description:
      'Only in addMaterials results: when the input was already stored (same structure, or same source record), the id of ' +
      'that material — this one; its name and source were kept as an alias. Null otherwise.',
  })
  duplicateOf?: string | null;
}

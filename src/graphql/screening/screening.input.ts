/** Inputs of the screening queries. */
import { Field, ID, InputType, Int } from 'type-graphql';
import type { ReferenceSpec, SimilarMaterialsInput as ServiceSimilarMaterialsInput } from '../../services/screening.js';
import { LabelFilterValue, MaterialFilterInput, toServiceFilter } from '../material/material.input.js';
import { StructureInput, toServiceStructure } from '../structure/structure.input.js';
import { ReferenceModeValue } from './screening.type.js';

@InputType('ReferenceInput', { description: 'Which references R is computed against.' })
export class ReferenceInput {
  @Field(() => ReferenceModeValue, { defaultValue: ReferenceModeValue.ALL })
  mode!: ReferenceModeValue;

  @Field(() => Int, { nullable: true, description: 'NEAREST only (required there): references of each class, 1–100.' })
  k?: number | null;
}

@InputType('SimilarMaterialsInput', { description: 'Exactly one of `materialId` or `structure`.' })
export class SimilarMaterialsInput {
  @Field(() => ID, { nullable: true, description: 'A stored material (left out of its own neighbours).' })
  materialId?: string | null;

  @Field(() => StructureInput, { nullable: true, description: 'A structure not in the store: parsed and embedded on the fly.' })
  structure?: StructureInput | null;

  @Field(() => Int, { defaultValue: 10, description: 'Neighbours to return, 1–100.' })
  k!: number;

  @Field(() => LabelFilterValue, {
    nullable: true,
    description: 'Only neighbours with this current label (FAST/POOR: exact; UNLABELLED: HNSW with iterative scan).',
  })
  label?: LabelFilterValue | null;

  @Field(() => ID, { nullable: true, description: 'Defaults to the active model.' })
  modelId?: string | null;

  @Field(() => MaterialFilterInput, {
    nullable: true,
    description: 'Only neighbours matching this filter (its `label` is refused: use `label` above).',
  })
  filter?: MaterialFilterInput | null;
}

export function toServiceReference(input: ReferenceInput | null | undefined): ReferenceSpec | null {
  if (!input) return null;
  return { mode: input.mode ?? ReferenceModeValue.ALL, k: input.k ?? null };
}

export function toServiceSimilarInput(input: SimilarMaterialsInput): ServiceSimilarMaterialsInput {
  return {
    materialId: input.materialId ?? null,
    structure: input.structure ? toServiceStructure(input.structure) : null,
    k: input.k,
    label: input.label ?? null,
    modelId: input.modelId ?? null,
    filter: input.filter ? toServiceFilter(input.filter) : null,
  };
}

/**
 * A label: an experimental verdict on a material's Li-ion conductivity (fast or poor), with its provenance.
 * The root value is a service `LabelRecord`; `@Field({ name })` maps unit-suffixed record properties to
 * the public field names. Retraction rows are bookkeeping and never appear as a Label: a retracted label
 * shows `retracted: true` instead. `Label.material` is resolved in `label.resolver.ts`.
 */
import { Field, Float, ID, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from '../scalars.js';

export enum LabelClassValue {
  FAST = 'FAST',
  POOR = 'POOR',
}

registerEnumType(LabelClassValue, {
  name: 'LabelClass',
  description: 'Conductivity class of a label.',
  valuesConfig: {
    FAST: { description: 'Fast Li-ion conductor (room-temperature σ ≥ 1e-4 S/cm in the shipped data).' },
    POOR: { description: 'Poor Li-ion conductor.' },
  },
});

@ObjectType('LabelRetraction', { description: 'Who retracted a label, when and why.' })
export class LabelRetractionType {
  @Field(() => String, { nullable: true, description: 'The reason given to retractLabel.' })
  reason!: string | null;

  @Field(() => String, { nullable: true, description: 'The API token (name) that retracted it.' })
  createdBy!: string | null;

  @Field(() => DateTimeScalar)
  createdAt!: Date;
}

@ObjectType('Label', { description: 'An experimental conductivity label on a material.' })
export class LabelType {
  @Field(() => ID)
  id!: string;

  @Field(() => LabelClassValue, { name: 'class' })
  class!: LabelClassValue;

  @Field(() => Float, { name: 'conductivity', nullable: true, description: 'Measured ionic conductivity, in S/cm.' })
  conductivitySPerCm!: number | null;

  @Field(() => Float, { name: 'temperature', nullable: true, description: 'Temperature of the measurement, in K.' })
  temperatureK!: number | null;

  @Field(() => String, { nullable: true, description: 'Where the label comes from (paper DOI, dataset name, …).' })
  source!: string | null;

  @Field(() => String, { nullable: true, description: 'Free-text justification.' })
  reason!: string | null;

  @Field(() => String, { nullable: true, description: 'Who added the label.' })
  createdBy!: string | null;

  @Field(() => DateTimeScalar)
  createdAt!: Date;

  @Field(() => Boolean, { description: 'True when the label was retracted; it then no longer counts as the current label.' })
  retracted!: boolean;

  @Field(() => LabelRetractionType, { nullable: true, description: 'Who retracted it, when and why; null while it stands.' })
  retraction!: LabelRetractionType | null;
}

/** Inputs of the label mutations. */
import { Field, Float, ID, InputType } from 'type-graphql';
import { LabelClassValue } from './label.type.js';

@InputType('LabelMaterialInput')
export class LabelMaterialInput {
  @Field(() => ID)
  materialId!: string;

  @Field(() => LabelClassValue)
  class!: LabelClassValue;

  @Field(() => Float, { nullable: true, description: 'Measured ionic conductivity, in S/cm (≥ 0).' })
  conductivity?: number | null;

  @Field(() => Float, { nullable: true, description: 'Temperature of the measurement, in K (0 < T ≤ 2000).' })
  temperature?: number | null;

  @Field(() => String, { nullable: true, description: 'Where the label comes from (paper DOI, dataset name, …).' })
  source?: string | null;

  @Field(() => String, { nullable: true, description: 'Free-text justification.' })
  reason?: string | null;
}

/** How a client sends a crystal structure: the file text and its format. Reused wherever a structure is passed. */
import { Field, InputType, registerEnumType } from 'type-graphql';
import type { StructureFormat } from '../../structure/structure.js';

export enum StructureFormatValue {
  CIF = 'CIF',
  POSCAR = 'POSCAR',
  JSON = 'JSON',
}

registerEnumType(StructureFormatValue, {
  name: 'StructureFormat',
  description: 'Text format of a structure.',
  valuesConfig: {
    CIF: { description: 'Crystallographic Information File (CIF 1.1); symmetry is expanded to the full cell.' },
    POSCAR: { description: 'VASP POSCAR/CONTCAR.' },
    JSON: { description: 'A pymatgen Structure dict or an OPTIMADE structure entry.' },
  },
});

@InputType('StructureInput', { description: 'A structure given as text. Text is sent inline (no file upload).' })
export class StructureInput {
  @Field(() => StructureFormatValue, { defaultValue: StructureFormatValue.CIF, description: 'Format of `text`.' })
  format!: StructureFormatValue;

  @Field(() => String, { description: 'The file contents.' })
  text!: string;
}

/** Service-side shape of a StructureInput (format defaults to CIF when a client sends null). */
export function toServiceStructure(input: StructureInput): { format: StructureFormat; text: string } {
  return { format: input.format ?? StructureFormatValue.CIF, text: input.text };
}

/** Output types describing a crystal structure (lattice and sites), shared by every type that has one. */
import { Field, Float, ObjectType } from 'type-graphql';

@ObjectType('SpeciesOccupancy', { description: 'One element on a site and the fraction of the site it holds.' })
export class SpeciesOccupancyType {
  @Field(() => String, { description: 'Element symbol, e.g. "Li".' })
  element!: string;

  @Field(() => Float, { description: 'Fraction of the site held by this element, 0 < occupancy ≤ 1.' })
  occupancy!: number;
}

@ObjectType('Site', {
  description: 'A site of the cell. A disordered site lists several species; 1 − Σ occupancy is vacancy.',
})
export class SiteType {
  @Field(() => [SpeciesOccupancyType])
  species!: SpeciesOccupancyType[];

  @Field(() => [Float], { description: 'Fractional coordinates [x, y, z], wrapped into [0, 1).' })
  frac!: number[];

  @Field(() => [Float], { description: 'Cartesian coordinates [x, y, z] in Å (frac · lattice vectors).' })
  cart!: number[];

  @Field(() => String, { nullable: true, description: 'Site label from the source file, e.g. "Li1".' })
  label!: string | null;
}

@ObjectType('Lattice', { description: 'The unit cell.' })
export class LatticeType {
  @Field(() => [[Float]], { description: 'Lattice vectors a, b, c as rows [[ax, ay, az], [bx, by, bz], [cx, cy, cz]], in Å.' })
  vectors!: number[][];

  @Field(() => Float, { description: 'Length of a, in Å.' })
  a!: number;

  @Field(() => Float, { description: 'Length of b, in Å.' })
  b!: number;

  @Field(() => Float, { description: 'Length of c, in Å.' })
  c!: number;

  @Field(() => Float, { description: 'Angle between b and c, in degrees.' })
  alpha!: number;

  @Field(() => Float, { description: 'Angle between a and c, in degrees.' })
  beta!: number;

  @Field(() => Float, { description: 'Angle between a and b, in degrees.' })
  gamma!: number;
}

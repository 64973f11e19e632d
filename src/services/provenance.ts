/**
 * Links to a material's record at its provider, from the record id alone. Only providers with a
 * stable public page per id are listed; anything else gets no link (never a guessed one).
 */

/** Materials Project material ids, "mp-1234" (not its "mvc-…" ids: no page for them was confirmed). */
const MATERIALS_PROJECT_ID = /^mp-\d+$/;

/** The page of a record id at its provider, or null when none is known. */
export function providerUrl(sourceId: string | null | undefined): string | null {
  if (!sourceId) return null;
  if (MATERIALS_PROJECT_ID.test(sourceId)) return `https://next-gen.materialsproject.org/materials/${sourceId}`;
  return null;
}

/**
 * The provider record of a row of the shipped candidate pool (data/candidates/open_li_pool_v1):
 * its manifest's `source_id` is the MP id for MP-20 rows, `<mp- or wbm-id>|<matcalc id>` for the
 * matcalc rows, and a JSON key path inside `source_file` for the pymatgen test files (not unique
 * alone, so the file is kept with it).
 */
export function poolRecordId(entry: { source?: string; source_id?: string; source_file?: string; id?: string }): string {
  const sourceId = (entry.source_id ?? '').trim();
  if (entry.source === 'pymatgen-test-files') return `${entry.source_file ?? ''}#${sourceId}`;
  if (entry.source === 'matcalc_li_subset') return sourceId.split('|')[0]!;
  return sourceId || (entry.id ?? '');
}

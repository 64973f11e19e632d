/**
 * Candidates: unlabelled materials ranked by score R under the active model (`Query.screen`),
 * with filters in the URL (`#/candidates?elements=S,P&minScore=1.1`), keyset paging and CSV export.
 * Without a model that can screen, it lists the materials unranked and says why.
 */
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { ApiError, asApiError, request } from '../api/client.js';
import { has, useCapabilities, useQuery } from '../api/hooks.js';
import { MATERIALS, SCREEN } from '../api/queries.js';
import type { Connection, LabelFilter, MaterialSummary, ScreenEdge } from '../api/types.js';
import { ClassBadge, ErrorBox, Loading, MaterialLink, MissingApi, NeighborChips, ScoreBar, ProviderLink } from '../components/common.js';
import { downloadText, toCsv } from '../lib/csv.js';
import { fixed } from '../lib/format.js';
import { navigate, type Route } from '../router.js';
import { ActiveDecision } from '../components/decision.js';

const PAGE_SIZES = [25, 50, 100, 200];
/** Nearest known FAST conductors shown per row. */
const NEAREST_K = 3;
/** Rows fetched per request while exporting (the API's largest page). */
const EXPORT_PAGE = 200;
const EXPORT_MAX_ROWS = 1_000_000;
const ELEMENT_SYMBOL = /^[A-Z][a-z]?$/;

export interface CandidateFilter {
  elements: string[];
  only: boolean;
  minScore: number | null;
  label: LabelFilter | null;
  /** Only chemically plausible materials (charge-balanced, with an anion); on unless the URL says `plausible=0`. */
  plausible: boolean;
}

export function filterFromParams(params: URLSearchParams): CandidateFilter {
  const minScore = params.get('minScore');
  const label = params.get('label');
  return {
    elements: parseElements(params.get('elements') ?? ''),
    only: params.get('only') === '1',
    minScore: minScore !== null && minScore !== '' && Number.isFinite(Number(minScore)) ? Number(minScore) : null,
    label: label === 'FAST' || label === 'POOR' || label === 'UNLABELLED' ? label : null,
    plausible: params.get('plausible') !== '0',
  };
}

/** "li, s p" → ["Li", "S", "P"] (symbols capitalised; anything else kept for the server to reject). */
export function parseElements(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .filter(Boolean)
    .map((token) => token.charAt(0).toUpperCase() + token.slice(1).toLowerCase());
}

function screenVariables(filter: CandidateFilter, first: number, after: string | null) {
  return {
    elementsHasAll: filter.elements.length && !filter.only ? filter.elements : null,
    elementsHasOnly: filter.elements.length && filter.only ? filter.elements : null,
    label: filter.label,
    chargeBalanced: filter.plausible ? true : null,
    hasAnion: filter.plausible ? true : null,
    minScore: filter.minScore,
    first,
    after,
    nearestK: NEAREST_K,
  };
}

function materialsVariables(filter: CandidateFilter, first: number, after: string | null) {
  return {
    elementsHasAll: filter.elements.length && !filter.only ? filter.elements : null,
    elementsHasOnly: filter.elements.length && filter.only ? filter.elements : null,
    label: filter.label ?? 'UNLABELLED',
    chargeBalanced: filter.plausible ? true : null,
    hasAnion: filter.plausible ? true : null,
    first,
    after,
  };
}

export function CandidatesView({ route }: { route: Route }) {
  const { caps, loaded } = useCapabilities();
  const filter = useMemo(() => filterFromParams(route.params), [route.params]);
  const pageSize = PAGE_SIZES.includes(Number(route.params.get('size'))) ? Number(route.params.get('size')) : 50;
  const canScreen = has(caps, 'Query.screen');
  // Keyset paging: the cursors of the pages before this one (for "Previous"), reset with the filter.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const filterKey = JSON.stringify([filter, pageSize]);
  useEffect(() => setCursors([null]), [filterKey]);
  const after = cursors[cursors.length - 1] ?? null;

  const screen = useQuery(SCREEN, screenVariables(filter, pageSize, after), { skip: !loaded || !canScreen });
  const fallback = !canScreen || Boolean(screen.error);
  const materials = useQuery(MATERIALS, materialsVariables(filter, pageSize, after), { skip: !loaded || !fallback });

  const connection = fallback ? materials.data?.materials : screen.data?.screen;
  const loading = !loaded || (fallback ? materials.loading : screen.loading);
  const offset = (cursors.length - 1) * pageSize;

  return (
    <section className="view">
      <header className="view-head">
        <h1>Candidates</h1>
        <p className="muted">
          {fallback ? 'Materials (not ranked)' : 'Unlabelled materials ranked by R = mean distance to known poor ÷ mean distance to known fast conductors; higher is more conductor-like.'}
        </p>
      </header>
      {!fallback && <ActiveDecision />}
      <FilterForm filter={filter} pageSize={pageSize} ranked={!fallback} />
      {!canScreen && <MissingApi fields={['Query.screen']}>Showing stored materials without scores.</MissingApi>}
      {canScreen && screen.error && (
        <>
          <ErrorBox error={screen.error} title="The ranking could not be loaded" onRetry={screen.reload} />
          <p className="muted">Showing stored materials without scores instead.</p>
        </>
      )}
      {fallback && materials.error && <ErrorBox error={materials.error} onRetry={materials.reload} />}
      <div className="toolbar">
        <span aria-live="polite" data-testid="row-range">
          {connection ? (connection.totalCount === 0 ? 'No matching materials' : `Rows ${offset + 1}–${offset + connection.edges.length} of ${connection.totalCount.toLocaleString()}`) : ''}
        </span>
        {loading && <Loading what="Loading rows" />}
        <span className="spacer" />
        <button type="button" disabled={cursors.length <= 1 || loading} onClick={() => setCursors((c) => c.slice(0, -1))}>
          ← Previous
        </button>
        <button type="button" disabled={!connection?.pageInfo.hasNextPage || loading} onClick={() => setCursors((c) => [...c, connection!.pageInfo.endCursor])}>
          Next →
        </button>
        <ExportButton filter={filter} ranked={!fallback} total={connection?.totalCount ?? 0} />
      </div>
      {connection && !fallback && <RankedTable edges={connection.edges as ScreenEdge[]} />}
      {connection && fallback && <UnrankedTable edges={connection.edges as { node: MaterialSummary }[]} offset={offset} />}
    </section>
  );
}

function FilterForm({ filter, pageSize, ranked }: { filter: CandidateFilter; pageSize: number; ranked: boolean }) {
  const [elements, setElements] = useState(filter.elements.join(', '));
  const [only, setOnly] = useState(filter.only);
  const [minScore, setMinScore] = useState(filter.minScore === null ? '' : String(filter.minScore));
  const [label, setLabel] = useState(filter.label ?? '');
  const [plausible, setPlausible] = useState(filter.plausible);
  const [size, setSize] = useState(pageSize);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    setElements(filter.elements.join(', '));
    setOnly(filter.only);
    setMinScore(filter.minScore === null ? '' : String(filter.minScore));
    setLabel(filter.label ?? '');
    setPlausible(filter.plausible);
    setSize(pageSize);
  }, [filter, pageSize]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const symbols = parseElements(elements);
    const bad = symbols.filter((s) => !ELEMENT_SYMBOL.test(s));
    if (bad.length) return setProblem(`Not element symbols: ${bad.join(', ')}`);
    if (minScore !== '' && !Number.isFinite(Number(minScore))) return setProblem('Minimum score must be a number');
    setProblem(null);
    navigate('candidates', { elements: symbols.join(','), only: only && symbols.length ? '1' : undefined, minScore: minScore || undefined, label: label || undefined, plausible: plausible ? undefined : '0', size: size !== 50 ? size : undefined });
  };

  return (
    <form className="filters" onSubmit={submit} aria-label="Filter candidates">
      <label>
        Elements
        <input name="elements" value={elements} onChange={(e) => setElements(e.target.value)} placeholder="e.g. S, P" autoComplete="off" size={14} />
      </label>
      <label className="check">
        <input type="checkbox" checked={only} onChange={(e) => setOnly(e.target.checked)} /> only these elements
      </label>
      <label className="check" title="Only materials whose composition balances charge with ICSD oxidation states and holds an anion (H, N, P, As, O, S, Se, Te, halogens): leaves out intermetallics such as Li3Al and Li–C compounds such as LiC6">
        <input type="checkbox" name="plausible" checked={plausible} onChange={(e) => setPlausible(e.target.checked)} /> plausible only
      </label>
      <label>
        Min score
        <input name="minScore" value={minScore} onChange={(e) => setMinScore(e.target.value)} inputMode="decimal" placeholder="R ≥" size={6} disabled={!ranked} />
      </label>
      <label>
        Label
        <select name="label" value={label} onChange={(e) => setLabel(e.target.value as LabelFilter | '')}>
          <option value="">{ranked ? 'candidates' : 'unlabelled'}</option>
          <option value="UNLABELLED">unlabelled</option>
          <option value="FAST">FAST</option>
          <option value="POOR">POOR</option>
        </select>
      </label>
      <label>
        Rows
        <select value={size} onChange={(e) => setSize(Number(e.target.value))}>
          {PAGE_SIZES.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className="primary">
        Apply
      </button>
      {(filter.elements.length > 0 || filter.minScore !== null || filter.label || !filter.plausible) && (
        <button type="button" onClick={() => navigate('candidates')}>
          Clear
        </button>
      )}
      {problem && (
        <span className="field-error" role="alert">
          {problem}
        </span>
      )}
    </form>
  );
}

function RankedTable({ edges }: { edges: ScreenEdge[] }) {
  const maxScore = Math.max(...edges.map((e) => e.score));
  const minScore = Math.min(...edges.map((e) => e.score));
  return (
    <div className="table-wrap">
      <table className="grid candidates" data-testid="candidates-table">
        <thead>
          <tr>
            <th className="num">Rank</th>
            <th>Formula</th>
            <th className="num">Score R</th>
            <th>Predicted</th>
            <th className="num hide-sm" title="Mean distance to known fast conductors">⟨d⟩ fast</th>
            <th className="num hide-sm" title="Mean distance to known poor conductors">⟨d⟩ poor</th>
            <th>Nearest known fast conductors (distance)</th>
          </tr>
        </thead>
        <tbody>
          {edges.map((edge) => (
            <tr key={edge.node.id} data-material-id={edge.node.id}>
              <td className="num">{edge.rank}</td>
              <td>
                <MaterialLink id={edge.node.id} formula={edge.node.formula} title={edge.node.name} />{' '}
                <small className="muted"><ProviderLink sourceId={edge.node.sourceId} sourceUrl={edge.node.sourceUrl} /></small>
              </td>
              <td className="num" data-testid="score">
                <ScoreBar score={edge.score} min={minScore} max={maxScore} />
              </td>
              <td>
                <ClassBadge value={edge.predictedClass} predicted />
              </td>
              <td className="num hide-sm">{fixed(edge.meanDistanceToFast, 3)}</td>
              <td className="num hide-sm">{fixed(edge.meanDistanceToPoor, 3)}</td>
              <td>
                <NeighborChips neighbors={edge.nearestFast} />
              </td>
            </tr>
          ))}
          {edges.length === 0 && (
            <tr>
              <td colSpan={7} className="muted">
                No candidates match this filter.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

function UnrankedTable({ edges, offset }: { edges: { node: MaterialSummary }[]; offset: number }) {
  return (
    <div className="table-wrap">
      <table className="grid candidates" data-testid="candidates-table">
        <thead>
          <tr>
            <th className="num">#</th>
            <th>Formula</th>
            <th>Label</th>
            <th>Elements</th>
            <th className="num hide-sm">Sites</th>
            <th className="hide-sm">Kind</th>
          </tr>
        </thead>
        <tbody>
          {edges.map(({ node }, i) => (
            <tr key={node.id} data-material-id={node.id}>
              <td className="num">{offset + i + 1}</td>
              <td>
                <MaterialLink id={node.id} formula={node.formula} title={node.name} />{' '}
                <small className="muted"><ProviderLink sourceId={node.sourceId} sourceUrl={node.sourceUrl} /></small>
              </td>
              <td>
                <ClassBadge value={node.label?.class} />
              </td>
              <td>{node.elements.join(' ')}</td>
              <td className="num hide-sm">{node.nsites ?? '—'}</td>
              <td className="hide-sm">{node.kind === 'COMPOSITION' ? 'composition only' : 'structure'}</td>
            </tr>
          ))}
          {edges.length === 0 && (
            <tr>
              <td colSpan={6} className="muted">
                No materials match this filter.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

/** Downloads every row of the current filter (all pages, not just the visible one) as CSV. */
function ExportButton({ filter, ranked, total }: { filter: CandidateFilter; ranked: boolean; total: number }) {
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const run = async () => {
    setError(null);
    setProgress(0);
    try {
      const rows: unknown[][] = [];
      let after: string | null = null;
      for (;;) {
        if (ranked) {
          const data: { screen: Connection<ScreenEdge> } = await request(SCREEN, screenVariables(filter, EXPORT_PAGE, after));
          for (const e of data.screen.edges)
            rows.push([e.rank, e.node.id, e.node.formula, e.node.reducedFormula, e.score, e.predictedClass, e.meanDistanceToFast, e.meanDistanceToPoor, e.nearestFast.map((n) => `${n.material.formula}:${n.distance.toFixed(4)}`).join('; '), e.node.elements.join(' '), e.node.source ?? '', e.node.sourceId ?? '', e.node.sourceUrl ?? '', e.node.chargeBalanced ?? '']);
          after = data.screen.pageInfo.hasNextPage ? data.screen.pageInfo.endCursor : null;
        } else {
          const data: { materials: Connection<{ node: MaterialSummary }> } = await request(MATERIALS, materialsVariables(filter, EXPORT_PAGE, after));
          for (const { node } of data.materials.edges) rows.push([rows.length + 1, node.id, node.formula, node.reducedFormula, node.label?.class ?? '', node.elements.join(' '), node.nsites ?? '', node.kind, node.source ?? '', node.sourceId ?? '', node.sourceUrl ?? '', node.chargeBalanced ?? '']);
          after = data.materials.pageInfo.hasNextPage ? data.materials.pageInfo.endCursor : null;
        }
        setProgress(rows.length);
        if (!after || rows.length >= EXPORT_MAX_ROWS) break;
      }
      const header = ranked
        ? ['rank', 'id', 'formula', 'reduced_formula', 'score', 'predicted_class', 'mean_distance_fast', 'mean_distance_poor', `nearest_fast_k${NEAREST_K}`, 'elements', 'source', 'source_id', 'source_url', 'charge_balanced']
        : ['row', 'id', 'formula', 'reduced_formula', 'label', 'elements', 'nsites', 'kind', 'source', 'source_id', 'source_url', 'charge_balanced'];
      const parts = ['ionsieve', ranked ? 'candidates' : 'materials', filter.elements.join('-'), filter.minScore !== null ? `R${filter.minScore}` : '', filter.label ?? '', filter.plausible ? '' : 'all'].filter(Boolean);
      downloadText(`${parts.join('_')}.csv`, toCsv(header, rows));
    } catch (caught) {
      setError(asApiError(caught));
    } finally {
      setProgress(null);
    }
  };
  return (
    <>
      <button type="button" onClick={run} disabled={progress !== null || total === 0} data-testid="export-csv">
        {progress !== null ? `Exporting ${progress.toLocaleString()} / ${total.toLocaleString()}…` : 'Export CSV'}
      </button>
      {error && <ErrorBox error={error} title="Export failed" />}
    </>
  );
}

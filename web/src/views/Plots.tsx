/**
 * Plots: the score distribution of known fast vs known poor conductors vs candidates, and a 2-D PCA
 * map of the active model's embedding space coloured by label (hover: formula, click: open).
 * PCA runs in the browser on the embeddings the API returns (`Material.embedding`).
 */
import { useEffect, useMemo, useState } from 'react';
import { ApiError, asApiError, request } from '../api/client.js';
import { missing, useCapabilities } from '../api/hooks.js';
import { ACTIVE_MODEL, ACTIVE_OUT_OF_FOLD, EMBEDDINGS, LABELLED_SCORES, SCREEN_SCORES } from '../api/queries.js';
import type { Connection, LabelClass } from '../api/types.js';
import { ActiveDecision } from '../components/decision.js';
import { Histogram, ScatterMap, SERIES_COLORS, type ScatterPoint } from '../components/charts.js';
import { ErrorBox, Loading, MissingApi } from '../components/common.js';
import { pca2 } from '../lib/pca.js';
import { navigate } from '../router.js';

const PAGE = 200;
/** Candidates fetched for the histogram (the top of the ranking when there are more). */
const CANDIDATE_LIMIT = 20_000;
/** Points on the embedding map. */
const MAP_LIMIT = 5_000;

/** Follows `after` cursors until the end or `limit` edges; `pick` finds the connection in the data. */
async function fetchAll<TData, TEdge>(document: string, variables: Record<string, unknown>, pick: (data: TData) => Connection<TEdge>, limit: number, onProgress?: (done: number, total: number) => void): Promise<{ edges: TEdge[]; total: number }> {
  const edges: TEdge[] = [];
  let after: string | null = null;
  let total = 0;
  for (;;) {
    const connection: Connection<TEdge> = pick(await request<TData>(document, { ...variables, first: PAGE, after }));
    total = connection.totalCount;
    edges.push(...connection.edges);
    onProgress?.(edges.length, total);
    if (!connection.pageInfo.hasNextPage || !connection.pageInfo.endCursor || edges.length >= limit) break;
    after = connection.pageInfo.endCursor;
  }
  return { edges: edges.slice(0, limit), total };
}

export function PlotsView() {
  const { caps, loaded } = useCapabilities();
  const scoreLacking = missing(caps, 'Query.screen', 'Material.screening');
  const mapLacking = missing(caps, 'Material.embedding');
  return (
    <section className="view">
      <header className="view-head">
        <h1>Plots</h1>
        <p className="muted">Under the active model. Scores R &gt; threshold are predicted FAST.</p>
      </header>
      <div className="panel">
        <h2>Score distribution</h2>
        {!loaded ? <Loading /> : scoreLacking.length ? <MissingApi fields={scoreLacking} /> : <ScoreHistogram />}
        {loaded && <ActiveDecision />}
      </div>
      <div className="panel">
        <h2>Embedding space (PCA)</h2>
        {!loaded ? (
          <Loading />
        ) : mapLacking.length ? (
          <MissingApi fields={['Material.embedding(modelId: ID): [Float!]']}>The map needs each material&apos;s embedding vector under a model; PCA is then computed here in the browser.</MissingApi>
        ) : (
          <EmbeddingMap />
        )}
      </div>
    </section>
  );
}

interface ScoreEdge {
  node: { id: string; formula: string; screening: { score: number } | null };
}

function ScoreHistogram() {
  const [state, setState] = useState<{ fast: number[]; poor: number[]; candidates: number[]; candidateTotal: number; threshold: number | null; outOfFold: boolean } | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [progress, setProgress] = useState('');
  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        // Known materials are shown by their out-of-fold scores (each from a fold model that did not
        // train on it) when the model has them: their in-sample scores look perfectly separated.
        const oof = await request(ACTIVE_OUT_OF_FOLD).catch(() => null);
        const scores = oof?.activeModel?.outOfFoldScores ?? [];
        let threshold = oof?.activeModel?.threshold ?? null;
        if (threshold == null) {
          const active = await request(ACTIVE_MODEL).catch(() => null);
          const metrics = active?.activeModel?.metrics;
          threshold = metrics?.find((m) => m.threshold != null)?.threshold ?? 1;
        }
        if (scores.length > 0) {
          const candidates = await fetchAll<{ screen: Connection<{ score: number }> }, { score: number }>(SCREEN_SCORES, {}, (d) => d.screen, CANDIDATE_LIMIT, (done, total) => setProgress(`candidates: ${done} / ${total}`));
          if (!cancelled)
            setState({
              fast: scores.filter((s) => s.label === 'FAST').map((s) => s.score),
              poor: scores.filter((s) => s.label === 'POOR').map((s) => s.score),
              candidates: candidates.edges.map((e) => e.score),
              candidateTotal: candidates.total,
              threshold,
              outOfFold: true,
            });
          return;
        }
        const labelled = async (label: LabelClass) => {
          const { edges } = await fetchAll<{ materials: Connection<ScoreEdge> }, ScoreEdge>(LABELLED_SCORES, { label }, (d) => d.materials, Infinity, (done, total) => setProgress(`known ${label}: ${done} / ${total}`));
          return edges.map((e) => e.node.screening?.score).filter((s): s is number => typeof s === 'number');
        };
        const fast = await labelled('FAST');
        const poor = await labelled('POOR');
        const candidates = await fetchAll<{ screen: Connection<{ score: number }> }, { score: number }>(SCREEN_SCORES, {}, (d) => d.screen, CANDIDATE_LIMIT, (done, total) => setProgress(`candidates: ${done} / ${total}`));
        if (!cancelled) setState({ fast, poor, candidates: candidates.edges.map((e) => e.score), candidateTotal: candidates.total, threshold, outOfFold: false });
      } catch (caught) {
        if (!cancelled) setError(asApiError(caught));
      }
    })();
    return () => {
      cancelled = true;
    };
  }, []);
  if (error) return <ErrorBox error={error} title="Scores could not be loaded" />;
  if (!state) return <Loading what={`Loading scores${progress ? ` (${progress})` : ''}`} />;
  return (
    <div data-testid="score-histogram">
      <Histogram
        xLabel="score R (mean distance to poor ÷ mean distance to fast)"
        threshold={state.threshold}
        series={[
          { name: state.outOfFold ? 'known fast (out-of-fold)' : 'known fast (in-sample)', color: SERIES_COLORS.FAST, values: state.fast },
          { name: state.outOfFold ? 'known poor (out-of-fold)' : 'known poor (in-sample)', color: SERIES_COLORS.POOR, values: state.poor },
          { name: 'candidates', color: SERIES_COLORS.candidate, values: state.candidates },
        ]}
      />
      {state.candidateTotal > state.candidates.length && (
        <p className="muted small">
          Candidates: the top {state.candidates.length.toLocaleString()} of {state.candidateTotal.toLocaleString()} by score.
        </p>
      )}
      {state.outOfFold ? (
        <p className="muted small" data-testid="known-scores-note">
          Known materials: out-of-fold scores (each scored by the fold model of the held-out evaluation that did not train on it). Each curve is normalised to unit area.
        </p>
      ) : (
        <p className="small notice" data-testid="known-scores-note">
          Known materials: in-sample scores (Material.screening) — this model has no out-of-fold scores, and it trained on these materials, so their classes look better separated than new materials&apos; will. Each curve is normalised to unit area.
        </p>
      )}
    </div>
  );
}

interface EmbeddingEdge {
  node: { id: string; formula: string; label: { class: LabelClass } | null; embedding: number[] | null };
}

function EmbeddingMap() {
  const [edges, setEdges] = useState<EmbeddingEdge[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [progress, setProgress] = useState('');
  useEffect(() => {
    let cancelled = false;
    fetchAll<{ materials: Connection<EmbeddingEdge> }, EmbeddingEdge>(EMBEDDINGS, {}, (d) => d.materials, MAP_LIMIT, (done, total) => setProgress(`${done} / ${total}`)).then(
      (result) => !cancelled && setEdges(result.edges),
      (caught) => !cancelled && setError(asApiError(caught)),
    );
    return () => {
      cancelled = true;
    };
  }, []);
  const map = useMemo(() => {
    if (!edges) return null;
    const withVectors = edges.filter((e) => Array.isArray(e.node.embedding) && e.node.embedding.length > 0);
    const { points, explained } = pca2(withVectors.map((e) => e.node.embedding!));
    const scatter: ScatterPoint[] = withVectors.map((e, i) => {
      const group = e.node.label?.class ?? 'candidate';
      return { id: e.node.id, x: points[i]![0], y: points[i]![1], group, color: group === 'FAST' ? SERIES_COLORS.FAST : group === 'POOR' ? SERIES_COLORS.POOR : SERIES_COLORS.candidate, title: `${e.node.formula} (#${e.node.id})` };
    });
    return { scatter, explained, without: edges.length - withVectors.length };
  }, [edges]);
  if (error) return <ErrorBox error={error} title="Embeddings could not be loaded" />;
  if (!map) return <Loading what={`Loading embeddings${progress ? ` (${progress})` : ''}`} />;
  return (
    <div data-testid="embedding-map">
      <ScatterMap
        points={map.scatter}
        groups={[
          { name: 'candidate', color: SERIES_COLORS.candidate },
          { name: 'POOR', color: SERIES_COLORS.POOR },
          { name: 'FAST', color: SERIES_COLORS.FAST },
        ]}
        xLabel={`PC1 (${(map.explained[0] * 100).toFixed(1)} % of variance)`}
        yLabel={`PC2 (${(map.explained[1] * 100).toFixed(1)} %)`}
        onSelect={(id) => navigate(`material/${id}`)}
      />
      {map.without > 0 && <p className="muted small">{map.without} materials have no embedding under this model (composition only) and are not shown.</p>}
    </div>
  );
}

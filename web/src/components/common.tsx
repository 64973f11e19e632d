/** Small shared pieces: errors in words, loading states, formulas, label badges, neighbour lists. */
import type { ReactNode } from 'react';
import type { ApiError } from '../api/client.js';
import type { LabelClass, Neighbor, ScreeningResult } from '../api/types.js';
import { ApiTokenField } from './ApiTokenField.js';
import { conductivity, fixed, formulaParts } from '../lib/format.js';
import { href } from '../router.js';

/**
 * An API error as the server worded it, with its `extensions.code` (and request id for the logs).
 * A refusal for want of a token (UNAUTHENTICATED, FORBIDDEN) offers the token field, unless the form
 * around it has one (`tokenField={false}`).
 */
export function ErrorBox({ error, title = 'The request failed', onRetry, tokenField = true }: { error: ApiError; title?: string; onRetry?: () => void; tokenField?: boolean }) {
  const denied = error.entries.some((entry) => entry.code === 'UNAUTHENTICATED' || entry.code === 'FORBIDDEN');
  return (
    <div className="error-box" role="alert">
      <strong>{title}</strong>
      <ul>
        {error.entries.map((entry, i) => (
          <li key={i}>
            {entry.message} <code className="code">{entry.code}</code>
            {entry.path && entry.path.length > 0 && <span className="muted"> at {entry.path.join('.')}</span>}
            {entry.requestId && <span className="muted"> · request {entry.requestId}</span>}
          </li>
        ))}
      </ul>
      {denied && tokenField && <ApiTokenField />}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {what}…
    </div>
  );
}

/** Says which API fields a view needs and the server does not offer yet. */
export function MissingApi({ fields, children }: { fields: string[]; children?: ReactNode }) {
  return (
    <div className="notice" role="note" data-testid="missing-api">
      <strong>Not available on this server yet.</strong> This needs {fields.map((field, i) => (
        <span key={field}>
          {i > 0 && (i === fields.length - 1 ? ' and ' : ', ')}
          <code>{field}</code>
        </span>
      ))}{' '}
      in the GraphQL API. {children}
    </div>
  );
}

export function Formula({ formula }: { formula: string }) {
  return (
    <span className="formula">
      {formulaParts(formula).map((part, i) => (part.sub ? <sub key={i}>{part.text}</sub> : <span key={i}>{part.text}</span>))}
    </span>
  );
}

export function ClassBadge({ value, predicted = false }: { value: LabelClass | null | undefined; predicted?: boolean }) {
  if (!value) return <span className="badge none">unlabelled</span>;
  return (
    <span className={`badge ${value === 'FAST' ? 'fast' : 'poor'}${predicted ? ' predicted' : ''}`} title={predicted ? 'predicted by the model' : 'current label'}>
      {value}
    </span>
  );
}

export function MaterialLink({ id, formula, title }: { id: string; formula: string; title?: string | null }) {
  return (
    <a href={href(`material/${id}`)} className="material-link" title={title ? `${title} (#${id})` : `#${id}`}>
      <Formula formula={formula} />
    </a>
  );
}

/** Neighbours as compact chips: formula and distance in embedding space. */
export function NeighborChips({ neighbors }: { neighbors: Neighbor[] }) {
  if (neighbors.length === 0) return <span className="muted">—</span>;
  return (
    <span className="chips">
      {neighbors.map((n) => (
        <a key={`${n.rank}-${n.material.id}`} className="chip" href={href(`material/${n.material.id}`)} title={`rank ${n.rank}, distance ${n.distance.toFixed(4)}`}>
          <Formula formula={n.material.reducedFormula || n.material.formula} /> <span className="dist">{n.distance.toFixed(2)}</span>
        </a>
      ))}
    </span>
  );
}

/** Neighbours as a table, for the Material and Try pages. */
export function NeighborTable({ neighbors, caption }: { neighbors: Neighbor[]; caption?: string }) {
  return (
    <div className="table-wrap">
      <table className="grid" data-testid="neighbor-table">
        {caption && <caption>{caption}</caption>}
        <thead>
          <tr>
            <th className="num">#</th>
            <th>Material</th>
            <th className="num">Distance</th>
            <th>Label</th>
            <th className="num">σ (S/cm)</th>
          </tr>
        </thead>
        <tbody>
          {neighbors.map((n) => (
            <tr key={`${n.rank}-${n.material.id}`}>
              <td className="num">{n.rank}</td>
              <td>
                <MaterialLink id={n.material.id} formula={n.material.formula} />
              </td>
              <td className="num">{fixed(n.distance, 4)}</td>
              <td>
                <ClassBadge value={n.material.label?.class} />
              </td>
              <td className="num">{conductivity(n.material.label?.conductivity)}</td>
            </tr>
          ))}
          {neighbors.length === 0 && (
            <tr>
              <td colSpan={5} className="muted">
                No neighbours.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

/** A score R with a bar showing where it lies between the lowest and highest score on the page. */
export function ScoreBar({ score, min, max }: { score: number; min: number; max: number }) {
  const width = 6 + 94 * (max > min ? Math.max(0, Math.min(1, (score - min) / (max - min))) : 1);
  return (
    <span className="score" title={`R = ${score.toFixed(4)}; bar: position between the lowest (${min.toFixed(3)}) and highest (${max.toFixed(3)}) score on this page`}>
      <span className="score-value">{score.toFixed(3)}</span>
      <span className="score-bar" aria-hidden="true">
        <span style={{ width: `${width}%` }} />
      </span>
    </span>
  );
}

/** Says when the query lies outside the labelled data (its nearest reference beyond the model's domain radius). */
export function DomainNote({ result }: { result: Pick<ScreeningResult, 'outOfDomain' | 'nearestReferenceDistance' | 'domainRadius'> }) {
  if (!result.outOfDomain) return null;
  return (
    <p className="notice" role="note" data-testid="out-of-domain">
      Outside the labelled data: the nearest labelled material is at distance {fixed(result.nearestReferenceDistance ?? Number.NaN, 3)}, beyond the
      model’s domain radius {fixed(result.domainRadius ?? Number.NaN, 3)}. Treat this score as an extrapolation.
    </p>
  );
}

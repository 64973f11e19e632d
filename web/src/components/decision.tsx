/**
 * What a predicted class is worth: the active model's decision threshold with the precision,
 * recall and false-positive rate to expect at it, named by the scores they were measured on
 * (out-of-fold, or — without a held-out evaluation — the model's fit to its own training data).
 */
import { ACTIVE_DECISION } from '../api/queries.js';
import { useQuery } from '../api/hooks.js';
import type { ModelDecision, OperatingPoint } from '../api/types.js';
import { fixed } from '../lib/format.js';

const percent = (value: number | null | undefined) => (value == null || !Number.isFinite(value) ? '—' : `${Math.round(value * 100)} %`);

export function DecisionSummary({ decision, threshold, noHeldOutReason }: { decision: ModelDecision | null | undefined; threshold?: number | null; noHeldOutReason?: string | null }) {
  if (!decision)
    return (
      <p className="small decision warn" data-testid="decision-summary">
        Predicted FAST when R &gt; {fixed(threshold ?? 1, 3)}. No expected precision or recall is recorded for this model
        {noHeldOutReason ? `; no held-out estimate: ${noHeldOutReason}` : ''}.
      </p>
    );
  return (
    <p className={`small decision ${decision.heldOut ? '' : 'warn'}`} data-testid="decision-summary">
      Predicted FAST when R &gt; {fixed(decision.threshold, 3)}: expect precision <strong data-testid="decision-precision">{percent(decision.precision)}</strong>, recall{' '}
      <strong data-testid="decision-recall">{percent(decision.recall)}</strong>, false-positive rate <strong data-testid="decision-fpr">{percent(decision.falsePositiveRate)}</strong>{' '}
      <span className="muted">
        ({decision.heldOut ? 'measured on out-of-fold scores' : 'measured on the training data itself — optimistic'}
        {!decision.heldOut && noHeldOutReason ? `; no held-out estimate: ${noHeldOutReason}` : ''}; {decision.label})
      </span>
    </p>
  );
}

/** The active model's decision, fetched here (Candidates, material pages). */
export function ActiveDecision() {
  const active = useQuery(ACTIVE_DECISION, {});
  const model = active.data?.activeModel;
  if (!model) return null;
  return <DecisionSummary decision={model.decision} threshold={model.threshold} noHeldOutReason={model.noHeldOutReason} />;
}

export function OperatingPointsTable({ points, chosen }: { points: OperatingPoint[]; chosen: number }) {
  return (
    <div className="table-wrap">
      <table className="grid" data-testid="operating-points">
        <thead>
          <tr>
            <th className="num">Threshold on R</th>
            <th className="num">Precision</th>
            <th className="num">Recall</th>
            <th className="num">False-positive rate</th>
            <th className="num">Predicted FAST</th>
          </tr>
        </thead>
        <tbody>
          {points.map((p) => (
            <tr key={p.threshold} className={p.threshold === chosen ? 'selected' : undefined}>
              <td className="num">
                {fixed(p.threshold, 3)}
                {p.threshold === chosen ? ' (chosen)' : p.threshold === 1 ? ' (paper)' : ''}
              </td>
              <td className="num">{fixed(p.precision, 3)}</td>
              <td className="num">{fixed(p.recall, 3)}</td>
              <td className="num">{fixed(p.falsePositiveRate, 3)}</td>
              <td className="num">{percent(p.predictedFastRate)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

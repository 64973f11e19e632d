/**
 * Models: the registry (status, backend, label counts, metrics), one model's training curve that
 * grows live through `Subscription.trainingProgress` (polling when subscriptions are unavailable),
 * its metrics per evaluation protocol, and buttons to activate, cancel and train.
 */
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { ApiError, asApiError, request, subscribe } from '../api/client.js';
import { has, missing, useCapabilities, useQuery } from '../api/hooks.js';
import { leafSelection, subscriptionPayloadType } from '../api/introspect.js';
import { ACTIVATE_MODEL, CANCEL_TRAINING, DISTANCES, EVALUATIONS, MODELS, modelDocument, trainModelDocument, trainingProgressDocument } from '../api/queries.js';
import type { CurvePoint, ModelDetail, ModelMetrics, ModelStatus, ModelSummary } from '../api/types.js';
import { LineChart, SERIES_COLORS } from '../components/charts.js';
import { ApiTokenField } from '../components/ApiTokenField.js';
import { ErrorBox, Loading, MissingApi } from '../components/common.js';
import { DecisionSummary, OperatingPointsTable } from '../components/decision.js';
import { dateTime, duration, fixed } from '../lib/format.js';
import { href, navigate } from '../router.js';

const RUNNING: ModelStatus[] = ['QUEUED', 'TRAINING'];
const POLL_MS = 3000;
const FALLBACK_PROGRESS_SELECTION = '{ epoch maxEpochs trainLoss validationLoss etaSeconds }';

/** Held-out estimates first, then the fit to the training data (older servers send one object). */
export function metricsList(metrics: ModelSummary['metrics']): ModelMetrics[] {
  if (!metrics) return [];
  const list = Array.isArray(metrics) ? metrics : [metrics];
  return [...list].sort((a, b) => Number(isHeldOut(b)) - Number(isHeldOut(a)));
}

/** What isHeldOut and protocolLabel read of a metrics object (Model.metrics entries and Model.heldOutMetrics). */
type ProtocolOf = Pick<ModelMetrics, 'protocol' | 'label'> & { heldOut?: boolean | null };

export function isHeldOut(m: ProtocolOf): boolean {
  return m.heldOut ?? (m.protocol != null && m.protocol !== 'TRAIN');
}

/** The protocol in words, as the server names it (or from the protocol alone). */
export function protocolLabel(m: ProtocolOf): string {
  if (m.label) return m.label;
  return isHeldOut(m) ? `held out: ${m.protocol}` : 'fit to the training data (not held out)';
}

/** The loss the curve shows: the model's objective. */
export function lossName(hyperparameters: unknown): string {
  const objective = hyperparameters && typeof hyperparameters === 'object' ? (hyperparameters as Record<string, unknown>).objective : undefined;
  if (objective === 'CROSS_ENTROPY') return 'cross-entropy loss';
  if (objective === 'JOINT') return 'contrastive + cross-entropy loss';
  if (objective === 'CONTRASTIVE') return 'contrastive loss';
  return 'loss';
}

export function ModelsView({ selectedId }: { selectedId: string | null }) {
  const { caps, loaded } = useCapabilities();
  const lacking = missing(caps, 'Query.models', 'Query.model');
  const models = useQuery(MODELS, {}, { skip: !loaded || lacking.length > 0 });
  const list = models.data?.models ?? [];
  const selected = selectedId ?? list.find((m) => m.isActive)?.id ?? list[0]?.id ?? null;
  const anyRunning = list.some((m) => RUNNING.includes(m.status));

  // The list refreshes itself while something trains, so statuses move without a reload.
  useEffect(() => {
    if (!anyRunning) return;
    const timer = setInterval(models.reload, POLL_MS * 2);
    return () => clearInterval(timer);
  }, [anyRunning, models.reload]);

  if (loaded && lacking.length > 0)
    return (
      <section className="view">
        <header className="view-head">
          <h1>Models</h1>
        </header>
        <MissingApi fields={lacking} />
      </section>
    );

  return (
    <section className="view">
      <header className="view-head">
        <h1>Models</h1>
        <p className="muted">Siamese k-NAGCN models trained on the labels as they were when training started. The active model scores candidates.</p>
      </header>
      {models.error && <ErrorBox error={models.error} onRetry={models.reload} />}
      {!models.data && !models.error && <Loading what="Loading models" />}
      {models.data && (
        <div className="table-wrap">
          <table className="grid" data-testid="models-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th className="hide-sm">Backend</th>
                <th className="num hide-sm">Labels F / P</th>
                <th className="num">Epoch</th>
                <th className="num">Held-out ROC-AUC</th>
                <th className="hide-sm">Created</th>
              </tr>
            </thead>
            <tbody>
              {list.map((m) => (
                <tr key={m.id} className={m.id === selected ? 'selected' : undefined}>
                  <td>
                    <a href={href(`models/${m.id}`)}>{m.name || `model ${m.id}`}</a> {m.isActive && <span className="badge active">active</span>}
                  </td>
                  <td>
                    <StatusBadge status={m.status} />
                  </td>
                  <td className="hide-sm">{m.backend ?? '—'}</td>
                  <td className="num hide-sm">{m.labelCounts ? `${m.labelCounts.fast} / ${m.labelCounts.poor}` : '—'}</td>
                  <td className="num">{m.progress?.epoch != null ? `${m.progress.epoch}${m.progress.maxEpochs ? ` / ${m.progress.maxEpochs}` : ''}` : '—'}</td>
                  <td className="num" data-testid="model-estimate">
                    <HeldOutCell model={m} />
                  </td>
                  <td className="hide-sm small">{dateTime(m.createdAt)}</td>
                </tr>
              ))}
              {list.length === 0 && (
                <tr>
                  <td colSpan={7} className="muted">
                    No models yet. Train one below.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      )}
      {selected && <ModelDetailPanel key={selected} id={selected} onChanged={models.reload} />}
      <TrainForm onQueued={(id) => { models.reload(); navigate(`models/${id}`); }} disabled={!has(caps, 'Mutation.trainModel')} />
    </section>
  );
}

/** The held-out ROC-AUC with its protocol; never a training-set figure. */
function HeldOutCell({ model }: { model: ModelSummary }) {
  const heldOut = model.heldOutMetrics ?? metricsList(model.metrics).find(isHeldOut) ?? null;
  if (!heldOut) {
    if (model.status !== 'READY') return <span className="muted">—</span>;
    return <span className="muted small" title={model.noHeldOutReason ?? undefined}>no held-out estimate</span>;
  }
  return (
    <span>
      {fixed(heldOut.rocAuc, 3)}
      {heldOut.rocAucSd != null && <span className="muted"> ± {fixed(heldOut.rocAucSd, 3)}</span>}
      <br />
      <span className="muted small">{protocolLabel(heldOut)}</span>
    </span>
  );
}

function StatusBadge({ status }: { status: ModelStatus }) {
  return <span className={`badge status-${status.toLowerCase()}`}>{status}</span>;
}

function ModelDetailPanel({ id, onChanged }: { id: string; onChanged(): void }) {
  const { caps } = useCapabilities();
  const [document, setDocument] = useState<ReturnType<typeof modelDocument> | null>(null);
  useEffect(() => {
    const field = caps.modelFields?.get('hyperparameters');
    if (field?.kind === 'OBJECT' && field.name) leafSelection(field.name).then((sel) => setDocument(modelDocument(sel ?? '')), () => setDocument(modelDocument('')));
    else setDocument(modelDocument(''));
  }, [caps]);
  const model = useQuery(document ?? modelDocument(''), { id }, { skip: !document });
  const m = model.data?.model ?? null;
  const [live, setLive] = useState<{ points: CurvePoint[]; progress: Partial<ModelDetail['progress'] & object>; status?: ModelStatus; error?: ApiError }>({ points: [], progress: {} });
  const running = m ? RUNNING.includes(m.status) : false;
  const [actionError, setActionError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  // Live progress while the model is queued or training.
  useEffect(() => {
    if (!running) return;
    if (!has(caps, 'Subscription.trainingProgress')) {
      const timer = setInterval(model.reload, POLL_MS);
      return () => clearInterval(timer);
    }
    let stop: (() => void) | undefined;
    let cancelled = false;
    (async () => {
      const typeName = await subscriptionPayloadType('trainingProgress');
      const selection = (typeName && (await leafSelection(typeName).catch(() => null))) || FALLBACK_PROGRESS_SELECTION;
      if (cancelled) return;
      stop = subscribe<{ trainingProgress: Record<string, unknown> }>(trainingProgressDocument(selection), { modelId: id }, {
        next(data) {
          const payload = data.trainingProgress ?? {};
          const progress = ((payload.progress as Record<string, unknown> | undefined) ?? payload) as Record<string, number | null>;
          const status = payload.status as ModelStatus | undefined;
          setLive((previous) => {
            const points = [...previous.points];
            if (typeof progress.epoch === 'number' && !points.some((p) => p.epoch === progress.epoch) && (progress.trainLoss != null || progress.validationLoss != null))
              points.push({ epoch: progress.epoch, trainLoss: progress.trainLoss ?? null, validationLoss: progress.validationLoss ?? null });
            return { points, progress, status: status ?? previous.status };
          });
          if (status && !RUNNING.includes(status)) {
            model.reload();
            onChanged();
          }
        },
        error(error) {
          setLive((previous) => ({ ...previous, error }));
        },
        complete() {
          model.reload();
          onChanged();
        },
      });
    })();
    return () => {
      cancelled = true;
      stop?.();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [running, id, caps]);

  const curve = useMemo(() => {
    const byEpoch = new Map<number, CurvePoint>();
    for (const p of m?.trainingCurve ?? []) byEpoch.set(p.epoch, p);
    for (const p of live.points) if (!byEpoch.has(p.epoch)) byEpoch.set(p.epoch, p);
    return [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  }, [m, live.points]);

  const act = async (document: string) => {
    setBusy(true);
    setActionError(null);
    try {
      await request(document, { id });
      model.reload();
      onChanged();
    } catch (caught) {
      setActionError(asApiError(caught));
    } finally {
      setBusy(false);
    }
  };

  if (model.error && !m) return <ErrorBox error={model.error} title={`Model ${id} could not be loaded`} onRetry={model.reload} />;
  if (!m) return model.data ? <div className="notice">There is no model with id {id}.</div> : <Loading what="Loading model" />;
  const progress = { ...(m.progress ?? {}), ...live.progress };
  const status = live.status ?? m.status;

  return (
    <div className="panel" data-testid="model-detail">
      <div className="row wrap">
        <h2>
          {m.name || `model ${m.id}`} <StatusBadge status={status} /> {m.isActive && <span className="badge active">active</span>}
        </h2>
        <span className="spacer" />
        {status === 'READY' && !m.isActive && (
          <button type="button" className="primary" disabled={busy || !has(caps, 'Mutation.activateModel')} onClick={() => act(ACTIVATE_MODEL)}>
            Activate
          </button>
        )}
        {RUNNING.includes(status) && (
          <button type="button" disabled={busy || !has(caps, 'Mutation.cancelTraining')} onClick={() => act(CANCEL_TRAINING)}>
            Cancel training
          </button>
        )}
      </div>
      {actionError && <ErrorBox error={actionError} />}
      {m.error && (
        <div className="error-box" role="alert">
          <strong>Training failed:</strong> {m.error}
        </div>
      )}
      {RUNNING.includes(status) && (
        <div className="progress-line" data-testid="training-progress">
          <progress max={progress.maxEpochs ?? 1} value={progress.epoch ?? 0} />
          <span>
            {progress.phase === 'EVALUATING' ? `held-out fold ${progress.fold ?? 0} / ${progress.folds ?? '?'} · ` : progress.phase && progress.phase !== 'TRAINING' ? `${progress.phase.toLowerCase()} · ` : ''}
            epoch {progress.epoch ?? 0}
            {progress.maxEpochs ? ` / ${progress.maxEpochs}` : ''} · train loss {fixed(progress.trainLoss, 4)} · validation loss {fixed(progress.validationLoss, 4)} · about {duration(progress.etaSeconds)} left
          </span>
          {live.error && <ErrorBox error={live.error} title="Live updates stopped" />}
        </div>
      )}
      <div className="columns">
        <div>
          <h3>Training curve</h3>
          <LineChart
            xLabel="epoch"
            yLabel={lossName(m.hyperparameters)}
            series={[
              { name: 'training', color: SERIES_COLORS.train, points: curve.filter((p) => p.trainLoss != null).map((p) => ({ x: p.epoch, y: p.trainLoss! })) },
              { name: 'validation', color: SERIES_COLORS.validation, points: curve.filter((p) => p.validationLoss != null).map((p) => ({ x: p.epoch, y: p.validationLoss! })) },
            ]}
          />
        </div>
        <div>
          <h3>Facts</h3>
          <dl className="facts">
            <dt>Backend</dt>
            <dd>{m.backend ?? '—'}</dd>
            <dt>Score</dt>
            <dd data-testid="model-score-rule" title="R = mean distance to POOR references / mean distance to FAST references">
              {m.distanceScale != null ? `R of bounded distances 1 − exp(−d/${fixed(m.distanceScale, 3)})` : 'R of plain distances'}
            </dd>
            <dt>Labels</dt>
            <dd>{m.labelCounts ? `${m.labelCounts.fast} fast, ${m.labelCounts.poor} poor` : '—'}</dd>
            <dt>Created</dt>
            <dd>{dateTime(m.createdAt)}</dd>
            <dt>Started</dt>
            <dd>{dateTime(m.startedAt)}</dd>
            <dt>Finished</dt>
            <dd>{dateTime(m.finishedAt)}</dd>
          </dl>
          <h3>Hyperparameters</h3>
          <Hyperparameters value={m.hyperparameters} />
        </div>
      </div>
      <h3>Held-out estimate</h3>
      <HeldOutNotice model={m} />
      <MetricsTable metrics={metricsList(m.metrics)} />
      <h3>Decision threshold</h3>
      <DecisionSummary decision={m.decision} threshold={m.threshold} noHeldOutReason={m.noHeldOutReason} />
      {m.decision?.operatingPoints && m.decision.operatingPoints.length > 0 && (
        <details>
          <summary>Other thresholds ({m.decision.heldOut ? 'out-of-fold scores' : 'training scores'})</summary>
          <OperatingPointsTable points={m.decision.operatingPoints} chosen={m.decision.threshold} />
        </details>
      )}
    </div>
  );
}

function HeldOutNotice({ model }: { model: ModelDetail }) {
  const heldOut = metricsList(model.metrics).find(isHeldOut);
  if (heldOut)
    return (
      <p className="small" data-testid="held-out-notice">
        <strong>{protocolLabel(heldOut)}</strong>
        {heldOut.source ? <span className="muted"> · {heldOut.source}</span> : null}
      </p>
    );
  return (
    <div className="notice" data-testid="held-out-notice">
      <strong>No held-out estimate.</strong> {model.noHeldOutReason ?? ''} The figures below are the fit to the training data, not the model&apos;s accuracy on new materials.
    </div>
  );
}

/** A two-column list (name, value) whose values wrap at spaces, never one character per line. */
function Hyperparameters({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <p className="muted">—</p>;
  const entries = typeof value === 'object' ? Object.entries(value as Record<string, unknown>).filter(([key]) => key !== '__typename') : [['value', value]];
  const show = (v: unknown) =>
    v !== null && typeof v === 'object' ? Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}: ${String(x)}`).join(', ') : String(v);
  return (
    <dl className="facts hyperparameters" data-testid="hyperparameters">
      {entries.map(([key, v]) => (
        <div key={String(key)} className="hp-row">
          <dt>{String(key)}</dt>
          <dd className="mono">{show(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

function MetricsTable({ metrics }: { metrics: ModelMetrics[] }) {
  if (metrics.length === 0) return <p className="muted">Not evaluated.</p>;
  return (
    <div className="table-wrap">
      <table className="grid" data-testid="metrics-table">
        <thead>
          <tr>
            <th>Protocol</th>
            <th>What it is</th>
            <th className="num">Accuracy</th>
            <th className="num">Sensitivity</th>
            <th className="num">Specificity</th>
            <th className="num">ROC-AUC</th>
            <th className="num">PR-AUC</th>
            <th className="num">Threshold</th>
          </tr>
        </thead>
        <tbody>
          {metrics.map((row, i) => (
            <tr key={`${row.protocol}-${i}`} className={isHeldOut(row) ? undefined : 'fit-row'} data-testid={isHeldOut(row) ? 'metrics-held-out' : 'metrics-fit'}>
              <td>{row.protocol ?? '—'}</td>
              <td className="small">{isHeldOut(row) ? protocolLabel(row) : `${protocolLabel(row)} — not the model's accuracy`}</td>
              <td className="num">{fixed(row.accuracy, 3)}</td>
              <td className="num">{fixed(row.sensitivity, 3)}</td>
              <td className="num">{fixed(row.specificity, 3)}</td>
              <td className="num">
                {fixed(row.rocAuc, 3)}
                {row.rocAucSd != null ? ` ± ${fixed(row.rocAucSd, 3)}` : ''}
              </td>
              <td className="num">{fixed(row.prAuc, 3)}</td>
              <td className="num">{fixed(row.threshold, 3)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function TrainForm({ onQueued, disabled }: { onQueued(id: string): void; disabled: boolean }) {
  const [name, setName] = useState('');
  const [k, setK] = useState(12);
  const [distance, setDistance] = useState<(typeof DISTANCES)[number]>('EUCLIDEAN');
  const [evaluation, setEvaluation] = useState<(typeof EVALUATIONS)[number]>('GROUP_KFOLD');
  const [maxEpochs, setMaxEpochs] = useState('50');
  const [patience, setPatience] = useState('15');
  const [seed, setSeed] = useState('1');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const int = (text: string) => (text.trim() === '' ? null : Number.parseInt(text, 10));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const data = await request(trainModelDocument(distance, evaluation), {
        name: name.trim(),
        k,
        maxEpochs: int(maxEpochs),
        patience: int(patience),
        seed: int(seed),
      });
      onQueued(data.trainModel.id);
    } catch (caught) {
      setError(asApiError(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <details className="panel" open={false}>
      <summary>
        <h2>Train a new model</h2>
      </summary>
      {disabled && <MissingApi fields={['Mutation.trainModel']} />}
      <form className="filters" onSubmit={submit} aria-label="Train a model">
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. k8-cosine" size={14} required />
        </label>
        <label>
          k
          <select value={k} onChange={(e) => setK(Number(e.target.value))}>
            {[4, 8, 12].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label>
          Distance
          <select value={distance} onChange={(e) => setDistance(e.target.value as (typeof DISTANCES)[number])}>
            {DISTANCES.map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
        </label>
        <label>
          Evaluation
          <select value={evaluation} onChange={(e) => setEvaluation(e.target.value as (typeof EVALUATIONS)[number])}>
            {EVALUATIONS.map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
        </label>
        <label>
          Max epochs
          <input value={maxEpochs} onChange={(e) => setMaxEpochs(e.target.value)} inputMode="numeric" size={4} />
        </label>
        <label>
          Patience
          <input value={patience} onChange={(e) => setPatience(e.target.value)} inputMode="numeric" size={4} />
        </label>
        <label>
          Seed
          <input value={seed} onChange={(e) => setSeed(e.target.value)} inputMode="numeric" size={4} />
        </label>
        <ApiTokenField need="admin" />
        <button type="submit" className="primary" disabled={busy || disabled}>
          {busy ? 'Queuing…' : 'Train'}
        </button>
      </form>
      {error && <ErrorBox error={error} title="Training was not queued" tokenField={false} />}
    </details>
  );
}

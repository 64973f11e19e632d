/**
 * One material: its 3-D structure, facts, score under the active model, nearest known conductors,
 * label history (with retraction) and a form that adds a label through `labelMaterial`.
 */
import { Fragment, useState, type FormEvent } from 'react';
import { ApiError, asApiError, request } from '../api/client.js';
import { has, missing, useCapabilities, useQuery } from '../api/hooks.js';
import { LABEL_MATERIAL, MATERIAL, MATERIAL_CIF, MATERIAL_SCREENING, RETRACT_LABEL } from '../api/queries.js';
import type { Label, LabelClass, LabelRetraction, MaterialDetail } from '../api/types.js';
import { ApiTokenField } from '../components/ApiTokenField.js';
import { ClassBadge, DomainNote, ErrorBox, Formula, Loading, MissingApi, NeighborTable, ProviderLink } from '../components/common.js';
import { isPartial, SiteDescription, StructureViewer } from '../components/StructureViewer.js';
import { downloadText } from '../lib/csv.js';
import { conductivity, dateTime, fixed } from '../lib/format.js';
import { ActiveDecision } from '../components/decision.js';

const NEIGHBOURS_K = 8;
/** Room temperature, the default temperature of a new label (K). */
const ROOM_TEMPERATURE_K = 298.15;

export function MaterialPage({ id }: { id: string }) {
  const { caps, loaded } = useCapabilities();
  const material = useQuery(MATERIAL, { id });
  const screeningMissing = missing(caps, 'Material.screening', 'Material.similar');
  const screening = useQuery(
    MATERIAL_SCREENING,
    { id, k: NEIGHBOURS_K },
    { skip: !loaded || screeningMissing.length > 0 },
  );

  if (material.error && !material.data) return <ErrorBox error={material.error} title={`Material ${id} could not be loaded`} onRetry={material.reload} />;
  if (!material.data) return <Loading what="Loading material" />;
  const m = material.data.material;
  if (!m)
    return (
      <div className="notice" role="alert">
        There is no material with id <code>{id}</code>.
      </div>
    );
  const onLabelled = () => {
    material.reload();
    screening.reload();
  };
  const result = screening.data?.material?.screening ?? null;

  return (
    <section className="view material-page" data-testid="material-page">
      <header className="view-head">
        <h1>
          <Formula formula={m.formula} /> <span className="muted id">#{m.id}</span>
        </h1>
        <p>
          <ClassBadge value={m.label?.class} /> {m.name && <span>{m.name}</span>} {m.family && <span className="muted">· {m.family}</span>} {m.source && <span className="muted">· {m.source}</span>} {m.sourceId && <ProviderLink sourceId={m.sourceId} sourceUrl={m.sourceUrl} />}
          {m.aliases.length > 0 && (
            <span className="muted" data-testid="aliases">
              {' '}· also known as {m.aliases.map((a) => [a.name, a.sourceId && `${a.source ?? ''} ${a.sourceId}`.trim()].filter(Boolean).join(' ')).join('; ')}
            </span>
          )}
        </p>
        {m.retiredAt && (
          <p className="muted" data-testid="retired">
            Retired {dateTime(m.retiredAt)}
            {m.retiredBy ? ` by ${m.retiredBy}` : ''}: {m.retiredReason} — left out of the rankings.
          </p>
        )}
      </header>
      <div className="columns">
        <div className="col-main">
          {m.lattice && m.sites ? (
            <div className="panel">
              <h2>Structure</h2>
              <StructureViewer lattice={m.lattice.vectors} sites={m.sites} />
              <CifDownload id={m.id} formula={m.reducedFormula} />
            </div>
          ) : (
            <div className="panel notice">Known by composition only: no crystal structure has been stored for this material.</div>
          )}
        </div>
        <div className="col-side">
          <div className="panel">
            <h2>Score</h2>
            {screeningMissing.length > 0 && <MissingApi fields={screeningMissing} />}
            {screening.loading && <Loading what="Scoring" />}
            {screening.error && <ErrorBox error={screening.error} title="No score" />}
            {result && (
              <dl className="facts" data-testid="material-score">
                <dt>Score R</dt>
                <dd className="big">{fixed(result.score, 3)}</dd>
                <dt>Predicted</dt>
                <dd>
                  <ClassBadge value={result.predictedClass} predicted />
                </dd>
                <dt>⟨d⟩ to fast</dt>
                <dd>{fixed(result.meanDistanceToFast, 4)}</dd>
                <dt>⟨d⟩ to poor</dt>
                <dd>{fixed(result.meanDistanceToPoor, 4)}</dd>
              </dl>
            )}
            {result && <DomainNote result={result} />}
            {result && <ActiveDecision />}
            {screening.data && !result && !screening.error && <p className="muted">No score: this material has no embedding under the active model.</p>}
          </div>
          <Facts material={m} />
        </div>
      </div>
      {screeningMissing.length === 0 && screening.data?.material && (
        <div className="columns">
          <div className="panel">
            <h2>Nearest known fast conductors</h2>
            <NeighborTable neighbors={result?.nearestFast ?? []} />
          </div>
          <div className="panel">
            <h2>Most similar materials</h2>
            <NeighborTable neighbors={screening.data.material.similar ?? []} />
          </div>
        </div>
      )}
      <div className="columns">
        <div className="panel">
          <h2>Labels</h2>
          <LabelHistory labels={m.labels} onChanged={onLabelled} />
        </div>
        <div className="panel">
          <h2>Add a label</h2>
          <LabelForm materialId={m.id} onDone={onLabelled} />
          {!has(caps, 'Mutation.labelMaterial') && <MissingApi fields={['Mutation.labelMaterial']} />}
        </div>
      </div>
      {m.sites && <SiteTable sites={m.sites} />}
    </section>
  );
}

function Facts({ material: m }: { material: MaterialDetail }) {
  return (
    <div className="panel">
      <h2>Facts</h2>
      <dl className="facts" data-testid="material-facts">
        <dt>Formula</dt>
        <dd>
          <Formula formula={m.formula} />
        </dd>
        <dt>Reduced</dt>
        <dd>
          <Formula formula={m.reducedFormula} />
        </dd>
        <dt>Elements</dt>
        <dd>{m.elements.join(' ')}</dd>
        <dt>Atoms / cell</dt>
        <dd>{fixed(m.natoms, 2)}</dd>
        {m.spaceGroupNumber !== null && (
          <>
            <dt>Space group</dt>
            <dd>
              {m.spaceGroupSymbol} ({m.spaceGroupNumber})
            </dd>
          </>
        )}
        <dt>Charge balance</dt>
        <dd data-testid="charge-balance">
          {m.chargeBalanced === null
            ? 'not assessed'
            : m.chargeBalanced
              ? `yes: ${(m.oxidationStates ?? []).map((s) => `${s.element} ${s.fraction}`).join(', ')}`
              : 'no: no combination of common oxidation states balances'}
        </dd>
        <dt>Anion</dt>
        <dd>{m.hasAnion ? 'yes' : 'none'}</dd>
        <dt>Reducible TM</dt>
        <dd>{m.hasReducibleTransitionMetal ? 'yes' : 'none'}</dd>
        {m.properties.map((p) => (
          <Fragment key={p.name}>
            <dt title={p.source ?? undefined}>{p.name}</dt>
            <dd>
              {p.value} {p.unit ?? ''}
            </dd>
          </Fragment>
        ))}
        {m.nsites !== null && (
          <>
            <dt>Sites</dt>
            <dd>{m.nsites}</dd>
            <dt>Ordered</dt>
            <dd>{m.isOrdered ? 'yes' : 'no (partial occupancies)'}</dd>
          </>
        )}
        {m.lattice && (
          <>
            <dt>a, b, c</dt>
            <dd>
              {fixed(m.lattice.a, 3)}, {fixed(m.lattice.b, 3)}, {fixed(m.lattice.c, 3)} Å
            </dd>
            <dt>α, β, γ</dt>
            <dd>
              {fixed(m.lattice.alpha, 2)}°, {fixed(m.lattice.beta, 2)}°, {fixed(m.lattice.gamma, 2)}°
            </dd>
          </>
        )}
        {m.volume !== null && (
          <>
            <dt>Volume</dt>
            <dd>{fixed(m.volume, 2)} Å³</dd>
          </>
        )}
        {m.density !== null && (
          <>
            <dt>Density</dt>
            <dd>{fixed(m.density, 3)} g/cm³</dd>
          </>
        )}
        <dt>Added</dt>
        <dd>{dateTime(m.createdAt)}</dd>
        {m.structureHash && (
          <>
            <dt>Hash</dt>
            <dd className="mono small" title={m.structureHash}>
              {m.structureHash.slice(0, 16)}…
            </dd>
          </>
        )}
      </dl>
    </div>
  );
}

function LabelHistory({ labels, onChanged }: { labels: Label[]; onChanged(): void }) {
  const [error, setError] = useState<ApiError | null>(null);
  const retract = async (label: Label) => {
    const reason = window.prompt(`Retract the ${label.class} label? Reason (optional):`, '');
    if (reason === null) return;
    setError(null);
    try {
      await request(RETRACT_LABEL, { id: label.id, reason: reason || null });
      onChanged();
    } catch (caught) {
      setError(asApiError(caught));
    }
  };
  if (labels.length === 0) return <p className="muted">Never labelled.</p>;
  return (
    <>
      {error && <ErrorBox error={error} title="Retraction failed" />}
      <div className="table-wrap">
        <table className="grid" data-testid="label-history">
          <thead>
            <tr>
              <th>Class</th>
              <th className="num">σ (S/cm)</th>
              <th className="num">T (K)</th>
              <th>Source / reason</th>
              <th>By</th>
              <th>When</th>
              <th>Retraction</th>
            </tr>
          </thead>
          <tbody>
            {labels.map((label) => (
              <tr key={label.id} className={label.retracted ? 'retracted' : undefined}>
                <td>
                  <ClassBadge value={label.class} /> {label.retracted && <span className="muted small">retracted</span>}
                </td>
                <td className="num">{conductivity(label.conductivity)}</td>
                <td className="num">{label.temperature === null ? '—' : String(Number(label.temperature.toFixed(2)))}</td>
                <td className="small">
                  {label.source && <SourceLink source={label.source} />}
                  {label.reason && <div className="muted">{label.reason}</div>}
                </td>
                <td className="small">{label.createdBy ?? '—'}</td>
                <td className="small">{dateTime(label.createdAt)}</td>
                <td className="small">
                  {label.retracted ? (
                    <RetractionNote retraction={label.retraction} />
                  ) : (
                    <button type="button" className="small-button" onClick={() => retract(label)}>
                      Retract
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** Who retracted a label, when and why (the row itself is struck through; this cell is not). */
function RetractionNote({ retraction }: { retraction: LabelRetraction | null }) {
  if (!retraction) return <span className="muted">retracted</span>;
  return (
    <div data-testid="label-retraction">
      <div>
        Retracted by {retraction.createdBy ?? 'an unknown author'}, <time dateTime={retraction.createdAt}>{dateTime(retraction.createdAt)}</time>
      </div>
      <div className="muted">{retraction.reason ? `Reason: ${retraction.reason}` : 'No reason given.'}</div>
    </div>
  );
}

function SourceLink({ source }: { source: string }) {
  const doi = source.match(/^(?:https?:\/\/(?:dx\.)?doi\.org\/)?(10\.\d{4,9}\/\S+)$/i)?.[1];
  return doi ? (
    <a href={`https://doi.org/${doi}`} target="_blank" rel="noreferrer">
      doi:{doi}
    </a>
  ) : (
    <span>{source}</span>
  );
}

function LabelForm({ materialId, onDone }: { materialId: string; onDone(): void }) {
  const [labelClass, setLabelClass] = useState<LabelClass>('FAST');
  const [sigma, setSigma] = useState('');
  const [temperature, setTemperature] = useState(String(ROOM_TEMPERATURE_K));
  const [source, setSource] = useState('');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const number = (text: string) => (text.trim() === '' ? null : Number(text));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setDone(null);
    const conductivityValue = number(sigma);
    const temperatureValue = number(temperature);
    if ((conductivityValue !== null && !Number.isFinite(conductivityValue)) || (temperatureValue !== null && !Number.isFinite(temperatureValue))) {
      setError(new ApiError([{ message: 'Conductivity and temperature must be numbers (e.g. 1.2e-3 and 298.15)', code: 'CLIENT_VALIDATION' }]));
      return;
    }
    setBusy(true);
    try {
      await request(LABEL_MATERIAL, {
        input: { materialId, class: labelClass, conductivity: conductivityValue, temperature: temperatureValue, source: source.trim() || null, reason: reason.trim() || null },
      });
      setDone(`Labelled ${labelClass}.`);
      setSigma('');
      setReason('');
      onDone();
    } catch (caught) {
      setError(asApiError(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="stack" onSubmit={submit} aria-label="Add a label" data-testid="label-form">
      <fieldset className="radios">
        <legend>Class</legend>
        {(['FAST', 'POOR'] as const).map((value) => (
          <label key={value} className="check">
            <input type="radio" name="class" value={value} checked={labelClass === value} onChange={() => setLabelClass(value)} /> {value === 'FAST' ? 'FAST (σ ≥ 10⁻⁴ S/cm)' : 'POOR'}
          </label>
        ))}
      </fieldset>
      <div className="row">
        <label>
          Conductivity σ (S/cm)
          <input name="conductivity" value={sigma} onChange={(e) => setSigma(e.target.value)} placeholder="e.g. 1.2e-3" inputMode="decimal" />
        </label>
        <label>
          Temperature (K)
          <input name="temperature" value={temperature} onChange={(e) => setTemperature(e.target.value)} inputMode="decimal" />
        </label>
      </div>
      <label>
        Source (DOI or note)
        <input name="source" value={source} onChange={(e) => setSource(e.target.value)} placeholder="10.1021/…" />
      </label>
      <label>
        Reason
        <input name="reason" value={reason} onChange={(e) => setReason(e.target.value)} placeholder="e.g. impedance measurement" />
      </label>
      <ApiTokenField need="curator" />
      <div className="row">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Add label'}
        </button>
        {done && (
          <span className="ok" role="status">
            {done}
          </span>
        )}
      </div>
      {error && <ErrorBox error={error} title="The label was not added" tokenField={false} />}
    </form>
  );
}

function CifDownload({ id, formula }: { id: string; formula: string }) {
  const [error, setError] = useState<ApiError | null>(null);
  const download = async () => {
    setError(null);
    try {
      const data = await request(MATERIAL_CIF, { id });
      if (data.material?.cif) downloadText(`${formula}_${id}.cif`, data.material.cif, 'chemical/x-cif');
    } catch (caught) {
      setError(asApiError(caught));
    }
  };
  return (
    <div className="row">
      <button type="button" onClick={download}>
        Download CIF
      </button>
      {error && <ErrorBox error={error} />}
    </div>
  );
}

function SiteTable({ sites }: { sites: NonNullable<MaterialDetail['sites']> }) {
  const partial = sites.filter(isPartial).length;
  return (
    <details className="panel">
      <summary>
        <h2>Sites ({sites.length}{partial ? `, ${partial} partially occupied` : ''})</h2>
      </summary>
      <div className="site-grid">
        {sites.map((site, i) => (
          <div key={i} className={`site-card${isPartial(site) ? ' partial' : ''}`}>
            <SiteDescription site={site} />
          </div>
        ))}
      </div>
    </details>
  );
}

/**
 * Try a structure: paste or drop a CIF / POSCAR / JSON file → its score and most similar known
 * conductors (`scoreStructure` + `similarMaterials`, nothing stored); "Store it" adds it (`addMaterials`).
 */
import { useState, type DragEvent, type FormEvent } from 'react';
import { ApiError, asApiError, request } from '../api/client.js';
import { missing, useCapabilities } from '../api/hooks.js';
import { ADD_MATERIALS, SCORE_COMPOSITION, SCORE_STRUCTURE } from '../api/queries.js';
import type { Neighbor, ScreeningResult } from '../api/types.js';
import { ClassBadge, DomainNote, ErrorBox, Loading, MaterialLink, MissingApi, NeighborTable } from '../components/common.js';
import { fixed } from '../lib/format.js';

type Format = 'CIF' | 'POSCAR' | 'JSON';
const NEIGHBOURS_K = 10;
/** Larger files are refused before sending (the server's own limit is IONSIEVE_MAX_TEXT_BYTES). */
const MAX_FILE_BYTES = 5 * 1024 * 1024;

/** Guesses the format from a file name and its text. */
export function guessFormat(text: string, fileName = ''): Format {
  const name = fileName.toLowerCase();
  if (name.endsWith('.cif')) return 'CIF';
  if (name.endsWith('.json')) return 'JSON';
  if (/(^|[./])(poscar|contcar)/i.test(name) || name.endsWith('.vasp')) return 'POSCAR';
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) return 'JSON';
  if (/^\s*data_/m.test(text) || /_cell_length_a/.test(text)) return 'CIF';
  return 'POSCAR';
}

export function TryStructureView() {
  const { caps, loaded } = useCapabilities();
  const [text, setText] = useState('');
  const [format, setFormat] = useState<Format | 'auto'>('auto');
  const [fileName, setFileName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [result, setResult] = useState<{ scoreStructure: ScreeningResult; similarMaterials: Neighbor[] } | null>(null);
  const [stored, setStored] = useState<{ id: string; formula: string } | null>(null);
  const [dragging, setDragging] = useState(false);
  const lacking = missing(caps, 'Query.scoreStructure', 'Query.similarMaterials');
  const [formula, setFormula] = useState('');
  const [formulaResult, setFormulaResult] = useState<ScreeningResult | null>(null);
  const [formulaError, setFormulaError] = useState<ApiError | null>(null);
  const lackingFormula = missing(caps, 'Query.scoreComposition');

  const scoreFormula = async (event: FormEvent) => {
    event.preventDefault();
    setFormulaError(null);
    setFormulaResult(null);
    if (!formula.trim()) {
      setFormulaError(new ApiError([{ message: 'Type a formula first, e.g. Li6PS5Cl', code: 'CLIENT_VALIDATION' }]));
      return;
    }
    try {
      const data = await request(SCORE_COMPOSITION, { formula: formula.trim(), k: NEIGHBOURS_K });
      setFormulaResult(data.scoreComposition);
    } catch (caught) {
      setFormulaError(asApiError(caught));
    }
  };
  const effectiveFormat: Format = format === 'auto' ? guessFormat(text, fileName) : format;

  const loadFile = async (file: File) => {
    setError(null);
    if (file.size > MAX_FILE_BYTES) {
      setError(new ApiError([{ message: `${file.name} is ${(file.size / 1048576).toFixed(1)} MiB; the limit is ${MAX_FILE_BYTES / 1048576} MiB`, code: 'CLIENT_VALIDATION' }]));
      return;
    }
    setText(await file.text());
    setFileName(file.name);
    setResult(null);
    setStored(null);
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const file = event.dataTransfer.files[0];
    if (file) void loadFile(file);
  };

  const score = async (event: FormEvent) => {
    event.preventDefault();
    if (!text.trim()) {
      setError(new ApiError([{ message: 'Paste a structure or choose a file first', code: 'CLIENT_VALIDATION' }]));
      return;
    }
    setBusy(true);
    setError(null);
    setResult(null);
    setStored(null);
    try {
      setResult(await request(SCORE_STRUCTURE, { structure: { format: effectiveFormat, text }, k: NEIGHBOURS_K }));
    } catch (caught) {
      setError(asApiError(caught));
    } finally {
      setBusy(false);
    }
  };

  const store = async () => {
    setBusy(true);
    setError(null);
    try {
      const data = await request(ADD_MATERIALS, {
        inputs: [{ structure: { format: effectiveFormat, text }, name: fileName || null, source: 'dashboard upload' }],
      });
      setStored(data.addMaterials[0] ?? null);
    } catch (caught) {
      setError(asApiError(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="view">
      <header className="view-head">
        <h1>Try a structure</h1>
        <p className="muted">Scores a structure against the labelled conductors without storing it. Store it afterwards if it is worth keeping.</p>
      </header>
      {loaded && lacking.length > 0 && <MissingApi fields={lacking}>You can still store the structure.</MissingApi>}
      <form className="stack" onSubmit={score} aria-label="Structure to score">
        <div
          className={`dropzone${dragging ? ' dragging' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
        >
          <textarea
            name="structure"
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              setResult(null);
              setStored(null);
            }}
            placeholder="Paste a CIF, POSCAR or OPTIMADE JSON here, or drop a file on this box"
            spellCheck={false}
            rows={14}
            aria-label="Structure text"
          />
        </div>
        <div className="row wrap">
          <label className="file-button">
            Choose file…
            <input type="file" accept=".cif,.vasp,.json,.txt,*" onChange={(e) => e.target.files?.[0] && void loadFile(e.target.files[0])} data-testid="structure-file" />
          </label>
          {fileName && <span className="muted small">{fileName}</span>}
          <label>
            Format
            <select value={format} onChange={(e) => setFormat(e.target.value as Format | 'auto')}>
              <option value="auto">auto ({guessFormat(text, fileName)})</option>
              <option value="CIF">CIF</option>
              <option value="POSCAR">POSCAR</option>
              <option value="JSON">JSON</option>
            </select>
          </label>
          <button type="submit" className="primary" disabled={busy || lacking.length > 0}>
            Score and find neighbours
          </button>
          <button type="button" onClick={store} disabled={busy || !text.trim()} data-testid="store-structure">
            Store it
          </button>
          {busy && <Loading what="Working" />}
        </div>
      </form>
      {error && <ErrorBox error={error} title="The structure was not accepted" />}
      {stored && (
        <p className="ok" role="status" data-testid="stored">
          Stored as <MaterialLink id={stored.id} formula={stored.formula} /> (#{stored.id}).
        </p>
      )}
      {result && (
        <div className="columns" data-testid="try-result">
          <div className="panel">
            <h2>Score</h2>
            <dl className="facts">
              <dt>Score R</dt>
              <dd className="big" data-testid="try-score">
                {fixed(result.scoreStructure.score, 3)}
              </dd>
              <dt>Predicted</dt>
              <dd>
                <ClassBadge value={result.scoreStructure.predictedClass} predicted />
              </dd>
              <dt>⟨d⟩ to fast</dt>
              <dd>{fixed(result.scoreStructure.meanDistanceToFast, 4)}</dd>
              <dt>⟨d⟩ to poor</dt>
              <dd>{fixed(result.scoreStructure.meanDistanceToPoor, 4)}</dd>
            </dl>
            <DomainNote result={result.scoreStructure} />
            <h3>Nearest known fast conductors</h3>
            <NeighborTable neighbors={result.scoreStructure.nearestFast} />
          </div>
          <div className="panel">
            <h2>Most similar stored materials</h2>
            <NeighborTable neighbors={result.similarMaterials} />
          </div>
        </div>
      )}
      <h2>Only a formula?</h2>
      <p className="muted">Materials known only by their composition are scored through the model’s composition pathway, in the same embedding space.</p>
      <form className="row wrap" onSubmit={scoreFormula} aria-label="Formula to score">
        <input value={formula} onChange={(e) => setFormula(e.target.value)} placeholder="e.g. Li6PS5Cl" aria-label="Formula" data-testid="formula-input" />
        <button type="submit" disabled={lackingFormula.length > 0}>
          Score the formula
        </button>
      </form>
      {formulaError && <ErrorBox error={formulaError} title="The formula was not accepted" />}
      {formulaResult && (
        <div className="panel" data-testid="formula-result">
          <dl className="facts">
            <dt>Score R</dt>
            <dd className="big" data-testid="formula-score">
              {fixed(formulaResult.score, 3)}
            </dd>
            <dt>Predicted</dt>
            <dd>
              <ClassBadge value={formulaResult.predictedClass} predicted />
            </dd>
          </dl>
          <DomainNote result={formulaResult} />
          <h3>Nearest known fast conductors</h3>
          <NeighborTable neighbors={formulaResult.nearestFast} />
        </div>
      )}
    </section>
  );
}


/** The shell: header with navigation and the active model, then the view the hash route names. */
import { useEffect, useState } from 'react';
import { CapabilitiesContext, has, loadCapabilities, UNKNOWN_CAPABILITIES, useQuery, type Capabilities } from './api/hooks.js';
import { ACTIVE_MODEL } from './api/queries.js';
import { href, useRoute } from './router.js';
import { CandidatesView } from './views/Candidates.js';
import { MaterialPage } from './views/MaterialPage.js';
import { ModelsView } from './views/Models.js';
import { PlotsView } from './views/Plots.js';
import { TryStructureView } from './views/TryStructure.js';

const NAV = [
  { path: 'candidates', label: 'Candidates' },
  { path: 'plots', label: 'Plots' },
  { path: 'models', label: 'Models' },
  { path: 'try', label: 'Try a structure' },
];

export function App() {
  const route = useRoute();
  const [caps, setCaps] = useState<{ caps: Capabilities; loaded: boolean }>({ caps: UNKNOWN_CAPABILITIES, loaded: false });
  useEffect(() => {
    loadCapabilities().then((loadedCaps) => setCaps({ caps: loadedCaps, loaded: true }));
  }, []);
  const [section = 'candidates', param] = route.segments;

  useEffect(() => {
    const titles: Record<string, string> = { candidates: 'Candidates', plots: 'Plots', models: 'Models', try: 'Try a structure', material: `Material ${param ?? ''}` };
    document.title = `${titles[section] ?? 'ionsieve'} · ionsieve`;
  }, [section, param]);

  let view;
  if (section === 'material' && param) view = <MaterialPage key={param} id={param} />;
  else if (section === 'plots') view = <PlotsView />;
  else if (section === 'models') view = <ModelsView selectedId={param ?? null} />;
  else if (section === 'try') view = <TryStructureView />;
  else view = <CandidatesView route={route} />;

  return (
    <CapabilitiesContext.Provider value={caps}>
      <header className="topbar">
        <a className="brand" href={href('candidates')}>
          <span className="logo" aria-hidden="true" />
          ionsieve
        </a>
        <nav aria-label="Views">
          {NAV.map((item) => (
            <a key={item.path} href={href(item.path)} className={section === item.path ? 'active' : undefined} aria-current={section === item.path ? 'page' : undefined}>
              {item.label}
            </a>
          ))}
        </nav>
        <span className="spacer" />
        <GoToMaterial />
        <ActiveModel enabled={caps.loaded && has(caps.caps, 'Query.activeModel')} />
      </header>
      <main>{view}</main>
    </CapabilitiesContext.Provider>
  );
}

function ActiveModel({ enabled }: { enabled: boolean }) {
  const active = useQuery(ACTIVE_MODEL, {}, { skip: !enabled });
  if (!enabled) return null;
  if (active.error) return <span className="model-pill error" title={active.error.message}>model: error</span>;
  const model = active.data?.activeModel;
  if (active.data && !model)
    return (
      <a className="model-pill none" href={href('models')}>
        no active model
      </a>
    );
  if (!model) return null;
  return (
    <a className="model-pill" href={href(`models/${model.id}`)} title={`Active model ${model.id} (${model.status})`} data-testid="active-model">
      model: {model.name || model.id}
    </a>
  );
}

function GoToMaterial() {
  const [value, setValue] = useState('');
  return (
    <form
      className="goto"
      role="search"
      onSubmit={(event) => {
        event.preventDefault();
        const id = value.trim().replace(/^#/, '');
        if (id) window.location.hash = href(`material/${encodeURIComponent(id)}`);
        setValue('');
      }}
    >
      <input value={value} onChange={(e) => setValue(e.target.value)} placeholder="Material #id" aria-label="Open material by id" size={11} />
    </form>
  );
}

/**
 * The API token used by this browser: writes (labels, materials, training) need one, reads do not
 * unless the server requires it. Kept in localStorage and sent as `Authorization: Bearer …`; checked
 * with `viewer` so the person sees whose name their writes will carry.
 */
import { useEffect, useState } from 'react';
import { asApiError, getToken, request, setToken } from '../api/client.js';
import { VIEWER } from '../api/queries.js';

type Check = { state: 'none' } | { state: 'checking' } | { state: 'ok'; name: string; role: string } | { state: 'error'; message: string };

async function checkToken(): Promise<Check> {
  if (!getToken()) return { state: 'none' };
  try {
    const { viewer } = await request(VIEWER);
    return viewer.authenticated ? { state: 'ok', name: viewer.name ?? '', role: (viewer.role ?? '').toLowerCase() } : { state: 'none' };
  } catch (error) {
    return { state: 'error', message: asApiError(error).message };
  }
}

export function ApiTokenField({ need }: { need?: 'reader' | 'curator' | 'admin' }) {
  const [value, setValue] = useState(getToken());
  const [check, setCheck] = useState<Check>({ state: getToken() ? 'checking' : 'none' });
  useEffect(() => {
    if (getToken()) checkToken().then(setCheck);
  }, []);
  const save = () => {
    if (value.trim() === getToken()) return;
    setToken(value);
    setCheck({ state: 'checking' });
    checkToken().then(setCheck);
  };
  return (
    <div className="api-token" data-testid="api-token">
      <label>
        API token <span className="muted small">({need ? `${need} or higher; ` : ''}kept in this browser)</span>
        <input
          name="apiToken"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={value}
          placeholder="isv_…"
          onChange={(e) => setValue(e.target.value)}
          onBlur={save}
          onKeyDown={(e) => {
            // Enter keeps the token; it must not also submit the form around the field.
            if (e.key === 'Enter') {
              e.preventDefault();
              save();
            }
          }}
        />
      </label>
      <span className="small muted" role="status" data-testid="api-token-status">
        {check.state === 'none' && 'No token: reads only. `ionsieve token create --role curator --name you` makes one.'}
        {check.state === 'checking' && 'Checking the token…'}
        {check.state === 'ok' && `Acting as “${check.name}” (${check.role}).`}
        {check.state === 'error' && <span className="error-text">{check.message}</span>}
      </span>
    </div>
  );
}

import { useState, type FormEvent } from 'react';
import { session } from '../api/client';

/** `sluice server` asks for a token: one made with `sluice token create`, kept in this tab only. */
export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const res = await fetch('/api/v1/me', { headers: { authorization: `Bearer ${token.trim()}` } });
    if (!res.ok) {
      const p = (await res.json().catch(() => ({}))) as { detail?: string };
      setError(p.detail ?? `HTTP ${res.status}`);
      return;
    }
    session.signIn(token.trim());
    onSignedIn();
  };
  return (
    <main className="sign-in">
      <h1>Sign in to Sluice</h1>
      <form onSubmit={submit}>
        <label htmlFor="token">API token</label>
        <input id="token" type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} required />
        <p className="hint">Create one with <code>sluice token create --role view</code>.</p>
        {error ? <p role="alert" className="error">{error}</p> : null}
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}

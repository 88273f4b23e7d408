import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, data } from '../api/client';
import { ErrorNote } from '../components/error-note';
import { RequireRole } from '../components/require-role';
import { when } from '../components/status';

type Role = 'view' | 'edit' | 'admin';

/** API tokens (admin): create one (its secret is shown here once), list, revoke. */
export function TokensPage() {
  return (
    <section>
      <h1>Tokens</h1>
      <RequireRole role="admin" what="Managing tokens">
        <Tokens />
      </RequireRole>
    </section>
  );
}

function Tokens() {
  const queryClient = useQueryClient();
  const tokens = useQuery({ queryKey: ['tokens'], queryFn: () => data(api.GET('/api/v1/tokens')) });
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('view');
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['tokens'] });
  const create = useMutation({ mutationFn: () => data(api.POST('/api/v1/tokens', { body: { role, ...(name ? { name } : {}) } })), onSuccess: refresh });
  const revoke = useMutation({ mutationFn: (id: string) => data(api.DELETE('/api/v1/tokens/{idOrName}', { params: { path: { idOrName: id } } })), onSuccess: refresh });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <>
      <form className="filters" onSubmit={submit} aria-label="create a token">
        <label>Name <input value={name} onChange={(e) => setName(e.target.value)} placeholder="optional" /></label>
        <label>Role{' '}
          <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
            <option value="view">view</option><option value="edit">edit</option><option value="admin">admin</option>
          </select>
        </label>
        <button type="submit" disabled={create.isPending}>Create token</button>
      </form>
      {create.error ? <ErrorNote error={create.error} /> : null}
      {create.data ? (
        <div role="status" aria-label="new token" className="broken">
          <p>Token <b>{create.data.name}</b> ({create.data.role}) — copy it now, it is not shown again:</p>
          <pre>{create.data.token}</pre>
        </div>
      ) : null}
      {revoke.error ? <ErrorNote error={revoke.error} /> : null}
      <table aria-label="tokens">
        <thead><tr><th>Name</th><th>Role</th><th>Created</th><th>Last used</th><th>State</th><th /></tr></thead>
        <tbody>
          {tokens.data?.items.map((t) => (
            <tr key={t.id}>
              <td>{t.name}</td><td>{t.role}</td><td>{when(t.createdAt)}</td><td>{when(t.lastUsedAt)}</td>
              <td>{t.revokedAt ? `revoked ${when(t.revokedAt)}` : 'active'}</td>
              <td>{t.revokedAt ? null : <button type="button" onClick={() => revoke.mutate(t.id)} aria-label={`Revoke ${t.name}`}>Revoke</button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

import type { ReactNode } from 'react';
import { RANK, useMe } from '../api/me';

/** What a page behind a role shows a caller without it: why, instead of a control that would be refused. */
export function RequireRole({ role, what, children }: { role: keyof typeof RANK; what: string; children: ReactNode }) {
  const me = useMe();
  if (!me) return <p>Checking your access…</p>;
  if (RANK[me.role] >= RANK[role]) return <>{children}</>;
  return (
    <p role="alert" className="error">
      {what} needs the {role} role; you are signed in as {me.name} with the {me.role} role.
    </p>
  );
}

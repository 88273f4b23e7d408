import { useEffect, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { NavLink, Outlet } from 'react-router';
import { session, whenUnauthorized } from '../api/client';
import { useMe } from '../api/me';
import { SignIn } from '../pages/sign-in';

const NAV: { to: string; label: string; end?: boolean; admin?: boolean }[] = [
  { to: '/', label: 'Overview', end: true },
  { to: '/pipelines', label: 'Pipelines' },
  { to: '/runs', label: 'Runs' },
  { to: '/assets', label: 'Assets' },
  { to: '/streams', label: 'Streams' },
  { to: '/quality', label: 'Quality' },
  { to: '/sql', label: 'SQL' },
  { to: '/workers', label: 'Workers' },
  { to: '/tokens', label: 'Tokens', admin: true },
];

/** The frame of every page; a 401 from any call replaces the page with the sign-in form. */
export function Layout() {
  const [signedOut, setSignedOut] = useState(false);
  const queryClient = useQueryClient();
  useEffect(() => whenUnauthorized(() => setSignedOut(true)), []);
  const me = useMe();
  if (signedOut) {
    return (
      <SignIn
        onSignedIn={() => {
          setSignedOut(false);
          void queryClient.invalidateQueries();
        }}
      />
    );
  }
  return (
    <div className="shell">
      <nav className="sidebar" aria-label="main">
        <div className="brand">Sluice</div>
        <ul>
          {NAV.filter((n) => !n.admin || me?.role === 'admin').map((n) => (
            <li key={n.to}>
              <NavLink to={n.to} end={n.end}>{n.label}</NavLink>
            </li>
          ))}
        </ul>
        <div className="identity">
          {me ? <span>{me.name} · {me.role}</span> : null}
          {session.token() ? (
            <button type="button" className="link" onClick={() => { session.signOut(); setSignedOut(true); }}>Sign out</button>
          ) : null}
        </div>
      </nav>
      <main className="content">
        <Outlet />
      </main>
    </div>
  );
}

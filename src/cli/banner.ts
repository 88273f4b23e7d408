export interface BannerInfo {
  readonly mode: 'dev' | 'server';
  readonly url: string;
  readonly home: string;
  /** The log file, or null when the logs go to stderr as JSON lines. */
  readonly logFile: string | null;
  readonly verbose: boolean;
  /** What the demo data is doing (dev only), e.g. `loaded (20 days)`. */
  readonly demo: string | null;
  /** The live stream demo (dev only). */
  readonly live?: string | null;
  readonly pid: number;
  /** Why there is no web UI; null when it is served at the URL. */
  readonly ui: string | null;
}

/**
 * What `npm start` shows a person: where the server is, where its state and logs are, the
 * demo data, and what to type next. The first line is what tests and tools wait for.
 */
export function formatBanner(b: BannerInfo): string {
  const dev = b.mode === 'dev';
  const rows: [string, string][] = [
    ['UI', b.ui === null ? `${b.url}/` : `not available: ${b.ui}`],
    ['API', `${b.url}/api/v1 (OpenAPI document: ${b.url}/api/v1/openapi.json)`],
    ['logs', b.logFile === null ? 'stderr, as JSON lines' : `${b.logFile}${b.verbose ? ' and this terminal' : ' (warnings and errors also on this terminal; --verbose for everything)'}`],
  ];
  if (b.demo !== null) rows.push(['demo data', b.demo]);
  if (b.live) rows.push(['live stream', b.live]);
  rows.push(dev
    ? ['access', 'local-dev mode: listening on loopback only, requests without a token act as admin']
    : ['access', 'every API call needs "Authorization: Bearer <token>" (sluice token create)']);
  const next = dev
    ? ['npx sluice demo                                 # waits for the demo data, then shows the quality tables', 'npx sluice run retail --partition 2010-12-01    # one run, with live progress', 'npx sluice streams                              # the live market stream: state, lag, rows written']
    : ['SLUICE_TOKEN=<token> npx sluice pipelines', 'SLUICE_TOKEN=<token> npx sluice runs'];
  const pad = Math.max(...rows.map(([k]) => k.length));
  return [
    `Sluice ${dev ? 'dev server' : 'server'} on ${b.url} (state: ${b.home})`,
    '',
    ...rows.map(([k, v]) => `  ${k.padEnd(pad)}  ${v}`),
    '',
    'Try:',
    ...next.map((n) => `  ${n}`),
    '',
    `Ctrl-C (or kill ${b.pid}) stops the server and its workers.`,
  ].join('\n');
}

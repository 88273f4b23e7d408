import { readFileSync } from 'node:fs';
import { CAPTURE, SNAPSHOTS } from './binance-data.ts';

type Level = [string, string];
interface Depth { s: string; U: number; u: number; b: Level[]; a: Level[] }

/** The recorded spot capture's messages, in order: `{ stream, data }`. */
export function captureMessages(): { stream: string; data: Record<string, unknown> }[] {
  return readFileSync(CAPTURE, 'utf8').trim().split('\n').slice(1).map((line) => JSON.parse(line.slice(line.indexOf(': ') + 2)));
}

/**
 * Each symbol's book after the whole capture, computed independently of market-live: the
 * recorded REST snapshot, then every diff whose last update id is past it, in order (spot
 * rules). Top `depth` levels, bids best first, asks best first.
 */
export function referenceBooks(depth = 20): Map<string, { lastUpdateId: number; bids: Level[]; asks: Level[] }> {
  const snapshots = new Map<string, { lastUpdateId: number; bids: Level[]; asks: Level[] }>();
  for (const line of readFileSync(SNAPSHOTS, 'utf8').trim().split('\n')) {
    const symbol = /symbol=([A-Z]+)/.exec(line)![1]!;
    snapshots.set(symbol, JSON.parse(line.slice(line.indexOf(': ') + 2)));
  }
  const out = new Map<string, { lastUpdateId: number; bids: Level[]; asks: Level[] }>();
  for (const [symbol, snap] of snapshots) {
    const bids = new Map(snap.bids);
    const asks = new Map(snap.asks);
    let last = snap.lastUpdateId;
    for (const m of captureMessages()) {
      const d = m.data as unknown as Depth;
      if ((m.data.e !== 'depthUpdate') || d.s !== symbol || d.u <= last) continue;
      for (const [p, q] of d.b) if (Number(q) === 0) bids.delete(p); else bids.set(p, q);
      for (const [p, q] of d.a) if (Number(q) === 0) asks.delete(p); else asks.set(p, q);
      last = d.u;
    }
    const sorted = (m: Map<string, string>, desc: boolean) => [...m].sort((x, y) => (desc ? Number(y[0]) - Number(x[0]) : Number(x[0]) - Number(y[0]))).slice(0, depth);
    out.set(symbol, { lastUpdateId: last, bids: sorted(bids, true), asks: sorted(asks, false) });
  }
  return out;
}

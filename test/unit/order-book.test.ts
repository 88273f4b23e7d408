import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OrderBook, type DepthEvent } from '../../pipelines/market-live/order-book.ts';
import { readCapture, readDepthSnapshots } from '../../src/replay/binance/capture.ts';
import { CAPTURE, SNAPSHOTS } from '../helpers/binance-data.ts';

const capture = readCapture(CAPTURE);
const snapshots = readDepthSnapshots(SNAPSHOTS);

const depthOf = (symbol: string) => capture.messages.filter((m) => m.data.e === 'depthUpdate' && m.data.s === symbol).map((m) => m.data as unknown as DepthEvent);

// The reference: the snapshot, then every diff after it, level by level, in a plain object.
function reference(symbol: string): { bids: [string, string][]; asks: [string, string][] } {
  const snap = snapshots.find((s) => s.symbol === symbol)!.body;
  const bids: Record<string, string> = Object.fromEntries(snap.bids);
  const asks: Record<string, string> = Object.fromEntries(snap.asks);
  for (const e of depthOf(symbol).filter((x) => x.u > snap.lastUpdateId)) {
    for (const [p, q] of e.b) { if (Number(q) === 0) delete bids[p]; else bids[p] = q; }
    for (const [p, q] of e.a) { if (Number(q) === 0) delete asks[p]; else asks[p] = q; }
  }
  const sorted = (o: Record<string, string>, desc: boolean) => Object.entries(o).sort((a, b) => (desc ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0]))).slice(0, 20);
  return { bids: sorted(bids, true), asks: sorted(asks, false) };
}

describe('OrderBook (the exchange\'s local order book rules)', () => {
  it('spot, on the recorded capture: buffered events, the snapshot joined at lastUpdateId + 1, then every diff; equal to the reference', () => {
    for (const symbol of ['NKNUSDT', 'LRCBTC', 'BLZETH']) {
      const book = new OrderBook('spot');
      const events = depthOf(symbol);
      const snap = snapshots.find((s) => s.symbol === symbol)!;
      // The stream first, the snapshot when it was taken, the rest after.
      const before = capture.messages.filter((m) => m.data.e === 'depthUpdate' && m.data.s === symbol && m.at <= snap.at).length;
      for (const e of events.slice(0, before)) assert.equal(book.onEvent(e), 'buffered');
      assert.equal(book.onSnapshot(snap.body), true, symbol);
      for (const e of events.slice(before)) assert.notEqual(book.onEvent(e), 'resync', symbol);
      assert.equal(book.live, true);
      assert.equal(book.lastUpdateId, events.at(-1)!.u);
      assert.deepEqual(book.top(20), reference(symbol), symbol);
      assert.equal(book.resyncs, 0);
    }
  });

  it('a missing diff is a resync, never a wrong book; a new snapshot brings it back', () => {
    const book = new OrderBook('spot');
    const snap = snapshots.find((s) => s.symbol === 'NKNUSDT')!.body;
    const events = depthOf('NKNUSDT');
    assert.equal(book.onSnapshot(snap), true);
    const after = events.filter((e) => e.u > snap.lastUpdateId);
    let resynced = 0;
    after.forEach((e, i) => {
      if (i === 30) return; // the replay server's skip-depth fault
      if (book.onEvent(e) === 'resync') resynced++;
    });
    assert.equal(resynced, 1);
    assert.equal(book.live, false);
    assert.match(book.lastResync, /event U \d+ after u \d+/);
    // An old snapshot cannot join the buffer that starts after the gap.
    assert.equal(book.onSnapshot(snap), false);
  });

  it('USD-M futures: drops u < lastUpdateId, joins at U <= lastUpdateId <= u, then chains on pu', () => {
    const book = new OrderBook('futures');
    const ev = (U: number, u: number, pu: number, b: [string, string][] = [], a: [string, string][] = []): DepthEvent => ({ U, u, pu, b, a });
    book.onEvent(ev(90, 95, 89, [['10.0', '1']]));
    book.onEvent(ev(96, 105, 95, [['10.1', '2']]));
    book.onEvent(ev(106, 110, 105, [['10.0', '0']], [['10.5', '3']]));
    assert.equal(book.onSnapshot({ lastUpdateId: 100, bids: [['10.0', '5'], ['9.9', '1']], asks: [['10.6', '1']] }), true);
    assert.equal(book.lastUpdateId, 110);
    assert.deepEqual(book.top(5), { bids: [['10.1', '2'], ['9.9', '1']], asks: [['10.5', '3'], ['10.6', '1']] });
    assert.equal(book.onEvent(ev(111, 112, 110, [], [['10.5', '0']])), 'applied');
    assert.equal(book.onEvent(ev(114, 115, 113)), 'resync', 'pu 113 is not the previous u 112');
    assert.equal(book.resyncs, 1);
  });
});

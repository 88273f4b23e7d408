import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { createPromMetrics } from '../../src/adapters/prometheus/prom-metrics.ts';
import { createPushgatewayPusher } from '../../src/adapters/prometheus/pushgateway-pusher.ts';
import type { Metrics } from '../../src/ports/metrics.ts';
import { sampleValue } from '../contract/metrics.contract.ts';
import { service } from '../helpers/services.ts';
import { until } from '../helpers/until.ts';

const uniqueJob = (what: string) => `sluice_it_${what}_${process.pid}_${Date.now().toString(36)}`;

async function scrape(url: string): Promise<string> {
  const response = await fetch(`${url}/metrics`);
  assert.equal(response.status, 200);
  return response.text();
}

describe('Pushgateway pusher against a real pushgateway', () => {
  it('pushes gauges, replaces them on the next push, and deletes the group', async (t) => {
    const url = await service('pushgateway', t);
    if (!url) return;
    const pusher = createPushgatewayPusher({ url });
    const job = uniqueJob('replace');
    t.after(() => pusher.delete(job));

    const first = createPromMetrics();
    first.setGauge('anomaly_unit_price_count', 'Rows with an anomalous unit price', { pipeline: 'retail' }, 9);
    first.setGauge('anomaly_quantity_count', 'Rows with an anomalous quantity', { pipeline: 'retail' }, 2);
    await pusher.push(first, job);
    let text = await scrape(url);
    assert.equal(sampleValue(text, 'anomaly_unit_price_count', { job, pipeline: 'retail' }), 9);
    assert.equal(sampleValue(text, 'anomaly_quantity_count', { job, pipeline: 'retail' }), 2);

    // A second push replaces the whole group: the metric it no longer has disappears.
    const second = createPromMetrics();
    second.setGauge('anomaly_unit_price_count', 'Rows with an anomalous unit price', { pipeline: 'retail' }, 4);
    await pusher.push(second, job);
    text = await scrape(url);
    assert.equal(sampleValue(text, 'anomaly_unit_price_count', { job, pipeline: 'retail' }), 4);
    assert.equal(sampleValue(text, 'anomaly_quantity_count', { job, pipeline: 'retail' }), undefined);

    await pusher.delete(job);
    // The gateway answers a DELETE with 202 and applies it a moment later.
    await until('the group deleted', async () => sampleValue(await scrape(url), 'anomaly_unit_price_count', { job }) === undefined, 10_000);
  });

  it('keeps groups apart by grouping labels, including values with / and spaces', async (t) => {
    const url = await service('pushgateway', t);
    if (!url) return;
    const pusher = createPushgatewayPusher({ url });
    const job = uniqueJob('grouping');
    const a = { partition: '2024-01/01 part' };
    const b = { partition: 'plain' };
    t.after(async () => {
      await pusher.delete(job, a);
      await pusher.delete(job, b);
    });

    const metrics = createPromMetrics();
    metrics.setGauge('rows_loaded', 'Rows', {}, 10);
    await pusher.push(metrics, job, a);
    metrics.setGauge('rows_loaded', 'Rows', {}, 20);
    await pusher.push(metrics, job, b);

    const text = await scrape(url);
    assert.equal(sampleValue(text, 'rows_loaded', { job, ...a }), 10);
    assert.equal(sampleValue(text, 'rows_loaded', { job, ...b }), 20);
  });

  it('reports what the gateway refused, with its URL and HTTP status', async (t) => {
    const url = await service('pushgateway', t);
    if (!url) return;
    const pusher = createPushgatewayPusher({ url });
    const garbage: Metrics = { ...createPromMetrics(), render: async () => 'this is { not exposition format\n' };
    await assert.rejects(pusher.push(garbage, uniqueJob('garbage')), (err: Error) => {
      assert.ok(err.message.includes(url), err.message);
      assert.match(err.message, /HTTP 400/);
      return true;
    });
  });
});

describe('Pushgateway pusher errors', () => {
  async function fakeGateway(t: TestContext, respond: (res: ServerResponse) => void): Promise<string> {
    const server = createServer((_req, res) => respond(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      server.closeAllConnections();
      server.close();
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('says the URL and status when the gateway answers with an error', async (t) => {
    const url = await fakeGateway(t, (res) => res.writeHead(503).end('overloaded'));
    const pusher = createPushgatewayPusher({ url });
    await assert.rejects(pusher.push(createPromMetrics(), 'job1', { run: 'r1' }), (err: Error) => {
      assert.ok(err.message.includes(`${url}/metrics/job/job1/run/r1`), err.message);
      assert.match(err.message, /HTTP 503/);
      assert.match(err.message, /overloaded/);
      return true;
    });
  });

  it('says the URL when the gateway does not answer in time', async (t) => {
    const url = await fakeGateway(t, () => undefined);
    const pusher = createPushgatewayPusher({ url, timeoutMs: 200 });
    await assert.rejects(pusher.push(createPromMetrics(), 'job1'), (err: Error) => {
      assert.ok(err.message.includes(url), err.message);
      assert.match(err.message, /timed out after 200 ms/);
      return true;
    });
  });

  it('says the URL when nothing listens there', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await new Promise((resolve) => server.close(resolve));
    await assert.rejects(createPushgatewayPusher({ url }).push(createPromMetrics(), 'job1'), (err: Error) => {
      assert.ok(err.message.includes(url), err.message);
      assert.match(err.message, /ECONNREFUSED/);
      return true;
    });
  });

  it('refuses invalid grouping label names before sending anything', async () => {
    const pusher = createPushgatewayPusher({ url: 'http://127.0.0.1:1' });
    await assert.rejects(pusher.push(createPromMetrics(), 'job1', { 'bad-name': 'x' }), /bad-name/);
    await assert.rejects(pusher.push(createPromMetrics(), 'job1', { job: 'x' }), /job/);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCampaign } from '../chaos/campaign.ts';
import { formatReport } from '../chaos/report.ts';
import { service } from '../helpers/services.ts';

// Short fault campaigns (`npm run chaos` runs long ones): SIGKILL of workers, of the control
// plane and of the broker at seeded points of retail and dummy runs; every run must end as
// asked, the warehouse must hold the reference totals with no row twice, and every run's
// history must be consistent. The checks themselves are tested in test/unit/chaos-checks.test.ts.

test('embedded preset: 20 injections (workers, control plane) leave no violation', { timeout: 300_000 }, async (t) => {
  const r = await runCampaign({ seed: 2, injections: 20, bus: 'memory', checkpointEvery: 10, settleScale: 0.25 });
  t.diagnostic(formatReport(r));
  assert.equal(r.injections.length, 20);
  assert.deepEqual(r.violations, []);
  assert.ok(r.injections.some((i) => i.target === 'control-plane') && r.injections.some((i) => i.target === 'worker'));
});

// A restart on Kafka takes seconds more (the dead coordinator's group session must expire)
// and a start published while the broker is down waits out the 60 s start timeout: few here.
test('PostgreSQL + Kafka: 3 injections (control plane, broker, worker) leave no violation', { timeout: 400_000 }, async (t) => {
  if (!(await service('postgres', t)) || !(await service('kafka', t))) return;
  const r = await runCampaign({ seed: 42, injections: 3, bus: 'kafka', brokerKills: true, settleScale: 0.25 });
  t.diagnostic(formatReport(r));
  assert.equal(r.injections.length, 3);
  assert.deepEqual(r.violations, []);
  assert.ok(r.injections.some((i) => i.target === 'broker'), 'the broker was killed at least once');
});

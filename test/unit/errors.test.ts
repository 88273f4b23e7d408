import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromWireError, toWireError } from '../../src/adapters/ipc/protocol.ts';
import { ConflictError, ERROR_CODES, SluiceError, UnavailableError, errorCodeOf } from '../../src/core/errors.ts';
import { toProblem } from '../../src/server/problem.ts';

test('codes from outside the process are narrowed to the closed set: unknown ones are internal', () => {
  assert.equal(errorCodeOf('conflict'), 'conflict');
  assert.equal(errorCodeOf('ENOENT'), 'internal');
  assert.equal(errorCodeOf(42), 'internal');
  const back = fromWireError({ name: 'Weird', message: 'm', code: 'no_such_code', retryable: false });
  assert.equal(back.code, 'internal');
  assert.equal(fromWireError(toWireError(new ConflictError('taken'))).code, 'conflict');
  // A plain error crossing the bridge is internal and retryable, as a step boundary treats it.
  assert.deepEqual({ ...toWireError(Object.assign(new Error('x'), { code: 'ENOENT' })) }, { name: 'Error', message: 'x', code: 'internal', retryable: true });
});

test('every code has an HTTP status and a title; a SluiceError keeps its message, anything else hides it', () => {
  for (const code of ERROR_CODES) {
    const p = toProblem(new SluiceError(code, `m-${code}`));
    assert.ok(p.status >= 400 && p.status < 600, `${code}: ${p.status}`);
    assert.equal(p.code, code);
    assert.equal(p.detail, `m-${code}`);
  }
  assert.equal(toProblem(new UnavailableError('bus gone')).status, 503);
  assert.deepEqual([toProblem(new Error('secret path /etc')).detail, toProblem(new Error('x')).status], ['internal error; see the server log', 500]);
});

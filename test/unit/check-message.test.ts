import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkMessage } from '../../src/runtime/check-message.ts';

test('a check result carries its value in its message, once', () => {
  assert.equal(checkMessage({ passed: false, value: 10000 }), 'value 10000');
  assert.equal(checkMessage({ passed: false, value: 10000, message: 'limit 5000' }), 'value 10000, limit 5000');
  assert.equal(checkMessage({ passed: true, value: 3108, message: '3108 rows' }), '3108 rows');
  assert.equal(checkMessage({ passed: true, value: 0.25, message: 'ratio = 0.25 (limit 0.5)' }), 'ratio = 0.25 (limit 0.5)');
  assert.equal(checkMessage({ passed: true, value: 1, message: '10 rows' }), 'value 1, 10 rows');
  assert.equal(checkMessage({ passed: true, value: 5, message: 'worst 2.5' }), 'value 5, worst 2.5');
  assert.equal(checkMessage({ passed: true, value: -3, message: 'delta -3' }), 'delta -3');
  assert.equal(checkMessage({ passed: true }), 'passed');
  assert.equal(checkMessage({ passed: false, value: null, message: '' }), 'failed');
});

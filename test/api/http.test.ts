import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../helpers/server.ts';

test('protected routes answer 401/problem+json without a key and never echo the key', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  const anonymous = await fetch(`${server.url}/api/system`);
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.headers.get('content-type'), 'application/problem+json; charset=utf-8');
  const body = await anonymous.json();
  assert.equal(body.title, 'Unauthorized');
  const wrong = await fetch(`${server.url}/api/system`, { headers: { authorization: 'Bearer not-the-key-at-all-123' } });
  assert.equal(wrong.status, 401);
  assert.ok(!JSON.stringify(await wrong.json()).includes('not-the-key'));
  const ok = await server.api('/api/system');
  assert.equal(ok.status, 200);
  assert.ok(!JSON.stringify(server.logs.lines).includes(server.config.adminKey!), 'admin key must never be logged');
});

test('unknown routes are problem+json 404s and the OpenAPI document is served', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  const missing = await fetch(`${server.url}/api/does-not-exist`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).detail, 'no route GET /api/does-not-exist');
  const docs = await fetch(`${server.url}/docs/json`);
  assert.equal(docs.status, 200);
  const openapi = await docs.json();
  assert.equal(openapi.openapi, '3.1.0');
  assert.ok(openapi.paths['/api/system']);
});

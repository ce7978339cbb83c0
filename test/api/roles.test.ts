import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../helpers/server.ts';

/**
 * Every secured route in the OpenAPI document: without a key it answers 401, and a viewer key may call no route that
 * changes state (403), whatever the body. The check runs before body validation, so nobody learns a route's schema
 * without the right to call it.
 */
test('every secured route: 401 without a key, 403 for a viewer on every change, problem+json either way', async (t) => {
  const server = await startTestServer();
  t.after(() => server.stop());
  const viewerKey = (await (await server.api('/api/keys', { method: 'POST', body: JSON.stringify({ name: 'v', role: 'viewer' }) })).json()).secret;
  const doc = await (await fetch(server.url + '/docs/json')).json() as { paths: Record<string, Record<string, { security?: unknown[] }>> };
  const failures: string[] = [];
  let checked = 0;
  for (const [pattern, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (Array.isArray(op.security) && op.security.length === 0) continue;
      const url = server.url + pattern.replace(/\{[^}]+\}/g, '1');
      const upper = method.toUpperCase();
      const body = upper === 'POST' || upper === 'PUT' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {};
      const anonymous = await fetch(url, { method: upper, ...body });
      if (anonymous.status !== 401) failures.push(`${upper} ${pattern} without a key: ${anonymous.status}`);
      else assert.equal(anonymous.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      if (upper !== 'GET') {
        const asViewer = await fetch(url, { method: upper, ...body, headers: { ...body.headers, authorization: `Bearer ${viewerKey}` } });
        if (asViewer.status !== 403) failures.push(`${upper} ${pattern} as viewer: ${asViewer.status}`);
      }
      await anonymous.body?.cancel();
      checked++;
    }
  }
  assert.ok(checked > 50, `${checked} routes checked`);
  assert.deepEqual(failures, []);
});

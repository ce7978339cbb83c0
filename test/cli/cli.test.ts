import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';

const bin = path.resolve(import.meta.dirname, '../../bin/voltyard');
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(bin, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000 });

test('voltyard --help lists the commands and each command has --help', () => {
  const top = run(['--help']);
  assert.equal(top.status, 0);
  assert.match(top.stdout, /start\s+run the server/);
  const start = run(['start', '--help']);
  assert.equal(start.status, 0);
  assert.match(start.stdout, /VOLTYARD_UNKNOWN_STATIONS/);
  assert.match(start.stdout, /allowed: reject, pending, accept/);
});

test('an unknown command or option is a usage error (exit 2)', () => {
  const unknown = run(['frobnicate']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  const badFlag = run(['start', '--nope']);
  assert.equal(badFlag.status, 2);
  assert.match(badFlag.stderr, /unknown option --nope/);
});

test('a wrong setting stops start-up with a message naming it (exit 78)', () => {
  const result = run(['start'], { VOLTYARD_UNKNOWN_STATIONS: 'sometimes', VOLTYARD_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'voltyard-cli-')) });
  assert.equal(result.status, 78);
  assert.match(result.stderr, /VOLTYARD_UNKNOWN_STATIONS: "sometimes" is not allowed; expected reject, pending, accept/);
});

test('start serves on the embedded store and shuts down cleanly on SIGTERM', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'voltyard-cli-'));
  const child = spawn(bin, ['start', '--port', '0', '--data-dir', dataDir], { env: { ...process.env, VOLTYARD_HOST: '127.0.0.1', VOLTYARD_ADMIN_KEY: '' } });
  let out = '';
  child.stdout.setEncoding('utf8');
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      const m = /"url":"(http:\/\/[^"]+)".*"voltyard listening"/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${out}`)));
  });
  const url = await listening;
  const health = await fetch(`${url}/api/health`);
  assert.equal(health.status, 200);
  // No key configured: one was generated into the data dir, never logged.
  const key = readFileSync(path.join(dataDir, 'admin-key'), 'utf8').trim();
  assert.ok(key.length >= 16);
  assert.ok(!out.includes(key), 'the generated admin key must not appear in the log');
  const system = await fetch(`${url}/api/system`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(system.status, 200);
  assert.equal((await system.json()).store.dialect, 'sqlite');
  assert.ok(existsSync(path.join(dataDir, 'voltyard.sqlite')));
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  assert.match(out, /"signal":"SIGTERM"/);
  assert.match(out, /"msg":"stopped"/);
});

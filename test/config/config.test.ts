import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.ts';

test('defaults need no settings at all', () => {
  const config = loadConfig({});
  assert.equal(config.port, 8080);
  assert.equal(config.databaseUrl, null);
  assert.equal(config.unknownStations, 'pending');
  assert.equal(config.dataDir, path.resolve('./data'));
});

test('a wrong value names the setting and what is allowed', () => {
  assert.throws(() => loadConfig({ VOLTYARD_PORT: 'eighty' }), (err: Error) => err instanceof ConfigError && /VOLTYARD_PORT.*integer from 0 to 65535/.test(err.message));
  assert.throws(() => loadConfig({ VOLTYARD_UNKNOWN_STATIONS: 'maybe' }), /VOLTYARD_UNKNOWN_STATIONS: "maybe" is not allowed; expected reject, pending, accept/);
  assert.throws(() => loadConfig({ VOLTYARD_DATABASE_URL: 'mysql://x' }), /VOLTYARD_DATABASE_URL.*postgres/);
  assert.throws(() => loadConfig({ VOLTYARD_TLS_CERT: '/a.pem' }), /set both or neither/);
});

test('a short admin key is refused without echoing it', () => {
  assert.throws(() => loadConfig({ VOLTYARD_ADMIN_KEY: 'short-secret' }), (err: Error) => /VOLTYARD_ADMIN_KEY: \(hidden\)/.test(err.message) && !err.message.includes('short-secret'));
});

test('a config file supplies settings and the environment wins', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'voltyard-config-'));
  const file = path.join(dir, 'voltyard.json');
  writeFileSync(file, JSON.stringify({ port: 9000, unknownStations: 'reject', logLevel: 'warn' }));
  const config = loadConfig({ VOLTYARD_CONFIG: file, VOLTYARD_PORT: '9100' });
  assert.equal(config.port, 9100);
  assert.equal(config.unknownStations, 'reject');
  assert.equal(config.logLevel, 'warn');
});

test('a config file with an unknown key or bad JSON is refused by name', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'voltyard-config-'));
  const file = path.join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify({ prot: 9000 }));
  assert.throws(() => loadConfig({ VOLTYARD_CONFIG: file }), /unknown setting\(s\) prot/);
  writeFileSync(file, '{ nope');
  assert.throws(() => loadConfig({ VOLTYARD_CONFIG: file }), /cannot read .* as JSON/);
  writeFileSync(file, JSON.stringify({ port: 70000 }));
  assert.throws(() => loadConfig({ VOLTYARD_CONFIG: file }), /port in .*bad.json: "70000" is not allowed/);
});

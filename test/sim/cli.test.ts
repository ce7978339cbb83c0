import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { smallDepot } from './fixtures.ts';
import type { SimulationReport } from '../../src/sim/report.ts';
import { main } from '../../src/cli/main.ts';

const bin = path.resolve(import.meta.dirname, '../../bin/voltyard');
const dir = mkdtempSync(path.join(tmpdir(), 'voltyard-sim-cli-'));
const write = (name: string, value: unknown) => { const f = path.join(dir, name); writeFileSync(f, typeof value === 'string' ? value : JSON.stringify(value)); return f; };
const run = (args: string[]) => spawnSync(bin, ['simulate', ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, VOLTYARD_ADMIN_KEY: '' } });
const scenarioFile = write('small.json', smallDepot);

test('simulate --uncontrolled prints the report and writes it as JSON', () => {
  const out = path.join(dir, 'report.json');
  const r = run([scenarioFile, '--uncontrolled', '--meter-interval', '300', '--telematics', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /small-depot: uncontrolled charging, virtual clock/);
  assert.match(r.stdout, /ready: 3\/5/);
  assert.match(r.stdout, /telematics: \d+ samples/);
  const report = JSON.parse(readFileSync(out, 'utf8')) as SimulationReport;
  assert.equal(report.control, 'uncontrolled');
  assert.equal(report.vehicles.length, 5);
  assert.ok(report.site.peakKw > report.site.gridLimitKw);
});

test('simulate --ocpp201-share puts that share of the chargers on OCPP 2.0.1', () => {
  const r = run([scenarioFile, '--json', '--meter-interval', '300', '--ocpp201-share', '0.67']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as SimulationReport;
  assert.deepEqual(report.chargers.map((c) => [c.chargerId, c.protocol]), [['AC-1', 'ocpp1.6'], ['AC-2', 'ocpp2.0.1'], ['DC-1', 'ocpp2.0.1']]);
  assert.equal(report.vehicles.filter((v) => v.energyKwh > 0).length, 5, 'every session charged, on either version');
  assert.equal(run([scenarioFile, '--ocpp201-share', '2']).status, 2);
});

test('simulate runs Voltyard in process by default, with quirks from a file', () => {
  const quirks = write('quirks.json', { 'AC-1': { acceptsOnlyAmps: true }, '*': { dropsConnection: { meanIntervalS: 3600, offlineS: 120 } } });
  const r = run([scenarioFile, '--json', '--meter-interval', '300', '--quirks', quirks]);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as SimulationReport;
  assert.equal(report.control, 'voltyard');
  assert.ok(report.chargers.reduce((a, c) => a + c.drops, 0) > 0, 'the quirk dropped connections');
  const energy = report.vehicles.reduce((a, v) => a + v.energyKwh, 0);
  assert.ok(Math.abs(energy - report.site.energyKwh) < 0.1);
});

test('simulate: bad input exits 1 naming the problem, bad usage exits 2', async (t) => {
  // In process through the same entry point bin/voltyard uses, so a dozen cases cost no process start-ups.
  const errors = t.mock.method(console, 'error', () => undefined);
  t.mock.method(console, 'log', () => undefined);
  const code = async (args: string[]) => { errors.mock.resetCalls(); return main(['simulate', ...args]); };
  const stderr = () => errors.mock.calls.map((c) => String(c.arguments[0])).join('\n');
  assert.equal(await code([write('bad.json', { ...smallDepot, chargers: [{ ...smallDepot.chargers[0], maxPowerKw: -1 }] })]), 1);
  assert.match(stderr(), /chargers\[0\]\.maxPowerKw: must be a positive number/);
  assert.equal(await code([write('notjson.json', '{')]), 1);
  assert.match(stderr(), /cannot read scenario/);
  assert.equal(await code([scenarioFile, '--quirks', write('q.json', { 'AC-9': { ignoresProfiles: true } })]), 1);
  assert.match(stderr(), /"AC-9" is not a charger of the scenario/);
  assert.equal(await code([scenarioFile, '--quirks', write('q2.json', { 'AC-1': { ignoresProfile: true } })]), 1);
  assert.match(stderr(), /AC-1\.ignoresProfile: unknown quirk/);
  assert.equal(await code([scenarioFile, '--quirks', write('q3.json', { '*': { dropsConnection: { meanIntervalS: 0 } } })]), 1);
  assert.match(stderr(), /dropsConnection\.meanIntervalS/);
  assert.equal(await code([path.join(dir, 'missing.json')]), 1);
  assert.equal(await code([]), 2);
  assert.equal(await code([scenarioFile, '--speed', '0']), 2);
  assert.equal(await code([scenarioFile, '--response-delay', '-5']), 2);
  assert.equal(await code([scenarioFile, '--uncontrolled', '--server', 'http://127.0.0.1:1']), 2);
  assert.equal(await code([scenarioFile, '--compare', '--uncontrolled']), 2);
  assert.equal(await code([scenarioFile, '--server', 'ftp://x', '--speed', '1']), 2);
  assert.equal(await code([scenarioFile, '--server', 'http://127.0.0.1:1']), 2);
  assert.match(stderr(), /--server needs --speed/);
  assert.equal(await code([scenarioFile, '--frobnicate']), 2);
  assert.match(stderr(), /unknown option --frobnicate/);
  const help = spawnSync(bin, ['--help'], { encoding: 'utf8' });
  assert.match(help.stdout, /simulate\s+run a scenario as a simulated depot night/);
});

test('simulate --compare runs both and prints the sites side by side', async (t) => {
  const out = t.mock.method(console, 'log', () => undefined);
  const file = path.join(dir, 'compare.json');
  assert.equal(await main(['simulate', scenarioFile, '--compare', '--meter-interval', '600', '--out', file]), 0);
  const text = String(out.mock.calls[0].arguments[0]);
  assert.match(text, /small-depot: site limit 40 kW/);
  assert.match(text, /peak kW\s+[\d.]+\s+[\d.]+/);
  assert.match(text, /slots over limit\s+\d+\s+\d+/);
  const both = JSON.parse(readFileSync(file, 'utf8')) as { uncontrolled: SimulationReport; controlled: SimulationReport };
  assert.equal(both.uncontrolled.control, 'uncontrolled');
  assert.equal(both.controlled.control, 'voltyard');
  assert.ok(both.uncontrolled.site.slotsOverLimit > 0);
  t.diagnostic(text.split('\n').slice(0, 10).join(' | '));
});

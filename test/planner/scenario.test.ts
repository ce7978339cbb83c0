import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseScenario, ScenarioError } from '../../src/fleet/scenario.ts';
import { plan } from '../../src/planner/plan.ts';
import { verifyPlan } from '../../src/planner/verify.ts';

const read = (name: string) => JSON.parse(readFileSync(new URL(`../../scenarios/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

function rejects(mutate: (s: Record<string, any>) => void, path: string, message: RegExp) { // eslint-disable-line @typescript-eslint/no-explicit-any
  const s = read('reference-depot.json');
  mutate(s);
  assert.throws(() => parseScenario(s), (e: unknown) => e instanceof ScenarioError && e.path === path && message.test(e.message), path);
}

test('the reference depot matches issue 3', () => {
  const sc = parseScenario(read('reference-depot.json'));
  const { snapshot } = sc;
  assert.equal(snapshot.sessions.length, 60);
  assert.equal(snapshot.chargers.filter((c) => c.kind === 'AC' && c.maxPowerKw === 7.2).length, 40);
  assert.equal(snapshot.chargers.filter((c) => c.kind === 'DC' && c.maxPowerKw === 50).length, 8);
  assert.equal(snapshot.gridLimitKw, 300);
  assert.equal(snapshot.circuits.find((c) => c.parentId === null)?.maxPowerKw, 350);
  const local = (ms: number) => new Intl.DateTimeFormat('en-GB', { timeZone: snapshot.timeZone, hour: '2-digit', minute: '2-digit' }).format(ms);
  // Vans leave the depot at 05:30 (12) or 06:30–09:00; DC turns end earlier, when the next van takes the bay.
  const early = snapshot.sessions.filter((s) => s.priority === 1);
  assert.equal(early.length, 12);
  assert.ok(snapshot.sessions.filter((s) => s.chargerId.startsWith('AC')).every((s) => local(s.departureMs) >= '06:30' && local(s.departureMs) <= '09:00'));
  assert.ok(snapshot.sessions.every((s) => (s.battery?.socPercent ?? 0) >= 15 && (s.battery?.socPercent ?? 100) <= 60));
  const p = plan(snapshot, sc.nowMs);
  assert.ok(p.allReady, p.sessions.filter((s) => !s.ready).map((s) => s.trace.join(' | ')).join('\n'));
  assert.deepEqual(verifyPlan(snapshot, p), []);
});

test('bad input names the field', () => {
  rejects((s) => { s.chargers[3].maxPowerKw = -7; }, 'chargers[3].maxPowerKw', /must be a positive number/);
  rejects((s) => { s.chargers[0].circuitId = 'nowhere'; }, 'chargers[0].circuitId', /unknown circuit "nowhere"/);
  rejects((s) => { s.depot.timeZone = 'Mars/Olympus'; }, 'depot.timeZone', /unknown IANA time zone/);
  rejects((s) => { s.sessions[5].departure = '2026-03-11T07:00:00'; }, 'sessions[5].departure', /with Z or an offset/);
  rejects((s) => { s.sessions[2].socPercent = 120; }, 'sessions[2].socPercent', /percentage/);
  rejects((s) => { s.tariff.rules[1].to = '25:00'; }, 'tariff.rules[1].to', /HH:MM/);
  rejects((s) => { s.circuits.push({ id: 'x', parentId: null, maxPowerKw: 1 }); }, 'circuits', /exactly one root/);
  rejects((s) => { s.sessions[21].chargerId = s.sessions[20].chargerId; }, 'sessions[21].chargerId', /already used by sessions\[20\]/);
  rejects((s) => { s.format = 'v0'; }, 'format', /voltyard-scenario\/1/);
});

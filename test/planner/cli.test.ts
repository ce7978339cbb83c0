import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planCommand } from '../../src/cli/commands/plan.ts';
import { UsageError } from '../../src/cli/command.ts';

const reference = new URL('../../scenarios/reference-depot.json', import.meta.url).pathname;

test('voltyard plan prints a summary table, or the whole plan as JSON', async (t) => {
  const out: string[] = [];
  t.mock.method(console, 'log', (text: string) => { out.push(text); });
  assert.equal(await planCommand.run([reference]), 0);
  assert.match(out[0], /^reference-depot: 60 sessions/);
  assert.match(out[0], /ready 60\/60/);
  out.length = 0;
  assert.equal(await planCommand.run([reference, '--json']), 0);
  const plan = JSON.parse(out[0]) as { sessions: unknown[]; allReady: boolean };
  assert.equal(plan.sessions.length, 60);
  assert.equal(plan.allReady, true);
});

test('voltyard plan: a bad scenario exits 1 naming the field; usage mistakes are UsageErrors', async (t) => {
  const errors: string[] = [];
  t.mock.method(console, 'error', (text: string) => { errors.push(text); });
  const dir = mkdtempSync(join(tmpdir(), 'voltyard-plan-'));
  const bad = JSON.parse(readFileSync(reference, 'utf8')) as { chargers: { maxPowerKw: unknown }[] };
  bad.chargers[3].maxPowerKw = 'fast';
  writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
  assert.equal(await planCommand.run([join(dir, 'bad.json')]), 1);
  assert.match(errors.join('\n'), /chargers\[3\]\.maxPowerKw: must be a number/);
  writeFileSync(join(dir, 'broken.json'), '{ not json');
  assert.equal(await planCommand.run([join(dir, 'broken.json')]), 1);
  await assert.rejects(planCommand.run([]), UsageError);
  await assert.rejects(planCommand.run([reference, '--fast']), UsageError);
});

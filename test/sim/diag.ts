import { readFileSync } from 'node:fs';
import { parseScenario } from '../../src/fleet/scenario.ts';
import { runScenario } from '../../src/sim/run.ts';
import { createLogger } from '../../src/log.ts';
import type { Voltyard } from '../../src/app.ts';
const scenario = parseScenario(JSON.parse(readFileSync('scenarios/reference-depot.json', 'utf8')));
let server: Voltyard | null = null;
const counts = new Map<string, number>();
const timer = setInterval(() => {
  const c = server?.services.clock as unknown as { now(): number; pendingTimers(): number; holds: number } | undefined;
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} sim ${c ? new Date(c.now()).toISOString() : '-'} timers ${c?.pendingTimers()} holds ${c?.holds} heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB events ${JSON.stringify(Object.fromEntries(counts))}\n`);
}, 5000);
const report = await runScenario(scenario, { central: { kind: 'voltyard' }, meterIntervalS: 300, logger: createLogger('error'), onServer: (s) => { server = s; s.services.bus.subscribeAll((e) => { counts.set(e.type, (counts.get(e.type) ?? 0) + 1); }); } });
clearInterval(timer);
process.stderr.write(`done ready ${report.site.ready}\n`);

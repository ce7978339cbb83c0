// `npm run bench:sim`: a night of the reference depot (60 vans, 48 chargers) on the virtual clock, uncontrolled and
// with Voltyard in control (in process: real OCPP over loopback WebSockets, SQLite, the control loop and planner).
// Prints wall and CPU seconds per night (median of --runs, default 3) and the site outcome of each mode.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseScenario } from '../src/fleet/scenario.ts';
import { createLogger } from '../src/log.ts';
import { runScenario } from '../src/sim/run.ts';
import type { SimulationReport } from '../src/sim/report.ts';

const arg = (name: string, fallback: number) => {
  const k = process.argv.indexOf(`--${name}`);
  const v = k >= 0 ? Number(process.argv[k + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
};
const runs = arg('runs', 3);
// Share of the chargers on OCPP 2.0.1 (0 to 1; default 0: all 1.6J).
const ocpp201Share = process.argv.includes('--ocpp201-share') ? Number(process.argv[process.argv.indexOf('--ocpp201-share') + 1]) : 0;
if (!(ocpp201Share >= 0 && ocpp201Share <= 1)) throw new Error('--ocpp201-share must be a number from 0 to 1');
const meterIntervalS = arg('meter-interval', 300);
const file = path.join(import.meta.dirname, '../scenarios/reference-depot.json');
const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
const scenario = parseScenario(raw);
const logger = createLogger('error');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`reference depot night: ${scenario.snapshot.sessions.length} sessions, ${scenario.snapshot.chargers.length} chargers, ` +
  `meter values every ${meterIntervalS} s, virtual clock, ${runs} runs per mode, ${Math.round(ocpp201Share * 100)} % of chargers on OCPP 2.0.1`);
const results: Record<string, { wall: number[]; cpu: number[]; report: SimulationReport }> = {};
for (const mode of ['uncontrolled', 'voltyard'] as const) {
  const wall: number[] = [];
  const cpu: number[] = [];
  let report: SimulationReport | null = null;
  for (let k = 0; k < runs; k++) {
    const w = performance.now();
    const c = process.cpuUsage();
    report = await runScenario(scenario, { central: { kind: mode }, meterIntervalS, logger, ocpp201Share });
    const used = process.cpuUsage(c);
    wall.push((performance.now() - w) / 1000);
    cpu.push((used.user + used.system) / 1e6);
  }
  results[mode] = { wall, cpu, report: report! };
  const s = report!.site;
  console.log(`${mode.padEnd(12)} wall ${median(wall).toFixed(1)} s (runs ${wall.map((x) => x.toFixed(1)).join(', ')}), CPU ${median(cpu).toFixed(1)} s; ` +
    `peak ${s.peakKw.toFixed(1)} kW / limit ${s.gridLimitKw} kW (${s.slotsOverLimit} slots over), ready ${s.ready}/${s.sessions}, ` +
    `energy ${s.energyKwh.toFixed(0)} kWh, cost ${s.totalCost.toFixed(2)} ${s.currency}`);
}
console.log(`voltyard/uncontrolled wall-time ratio: ${(median(results.voltyard.wall) / median(results.uncontrolled.wall)).toFixed(2)}`);

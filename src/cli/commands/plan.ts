// `voltyard plan <scenario> [--json]`: reads a scenario file, runs the planner, prints a summary or the whole plan.
import { readFile } from 'node:fs/promises';
import { parseScenario, ScenarioError } from '../../fleet/scenario.ts';
import { plan } from '../../planner/plan.ts';
import { PlannerInputError } from '../../planner/problem.ts';
import type { Plan } from '../../planner/types.ts';
import { planYard } from '../../planner/yard/index.ts';
import type { YardPlan } from '../../planner/yard/types.ts';
import { UsageError, parseArgs, type Command } from '../command.ts';

const usage = [
  'Usage: voltyard plan <scenario.json> [--json] [--now ISO-INSTANT]',
  '',
  'Plans every vehicle of a scenario jointly (docs/scenario-format.md) and prints a summary table:',
  'per session the energy needed and planned, any shortfall and the first reasons from its trace.',
  'A scenario in the yard form (a "yard" section) is planned with the yard planner first: bays, the',
  'yard crew\'s tasks and each vehicle\'s stints are printed before the energy plan.',
  '',
  'Options:',
  '  --json              print the whole plan (powers per slot, circuit loads, costs, traces) as JSON',
  '  --now INSTANT       plan from this instant instead of the scenario\'s "now" (e.g. 2026-03-10T20:00:00Z)',
  '',
  'Exit codes: 0 planned, 1 unreadable or invalid scenario (the message names the field), 2 usage.',
].join('\n');

function summary(p: Plan, name: string, timeZone: string, ms: number): string {
  const clock = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const fmt = (v: number, d = 1) => v.toFixed(d);
  const lines = [
    `${name}: ${p.sessions.length} sessions, ${p.slotStartsMs.length - 1} slots from ${new Date(p.nowMs).toISOString()} (${timeZone})`,
    `ready ${p.sessions.filter((s) => s.ready).length}/${p.sessions.length}, shortfall ${fmt(p.shortfallKwh)} kWh; ` +
      `peak ${fmt(p.peakKw)} kW (site cap ${fmt(p.siteCapKw)} kW); energy ${fmt(p.energyCost, 2)} ${p.currency}, ` +
      `demand charge +${fmt(p.demandChargeIncrement, 2)} ${p.currency}, total ${fmt(p.totalCost, 2)} ${p.currency}; planned in ${fmt(ms)} ms`,
    '',
    `${'session'.padEnd(12)} ${'charger'.padEnd(8)} ${'depart'.padEnd(6)} ${'need'.padStart(6)} ${'plan'.padStart(6)} ${'short'.padStart(6)}  why`,
  ];
  for (const s of p.sessions) {
    lines.push(`${s.sessionId.padEnd(12)} ${s.chargerId.padEnd(8)} ${clock.format(s.departureMs).padEnd(6)} ${fmt(s.neededKwh).padStart(6)} ` +
      `${fmt(s.plannedKwh).padStart(6)} ${fmt(s.shortfallKwh).padStart(6)}  ${(s.ready ? s.trace.slice(1) : s.trace).join('; ') || s.trace[0]}`);
  }
  lines.push('', 'circuit      limit kW  peak kW');
  for (const c of p.circuits) lines.push(`${c.circuitId.padEnd(12)} ${fmt(c.limitKw).padStart(8)} ${fmt(Math.max(0, ...c.loadKw)).padStart(8)}`);
  return lines.join('\n');
}

function yardSummary(p: YardPlan, timeZone: string, ms: number): string {
  const clock = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const bays = new Set(p.stints.map((s) => s.bayId)).size;
  const lines = [
    `yard: ${p.readyCount}/${p.vehicles.length} vehicles ready, ${p.moves} yard moves, ${p.stints.length} stints on ${bays} bays; planned in ${ms.toFixed(1)} ms`,
    '',
    'tasks:',
    ...p.tasks.map((t) => `  ${t.text}${t.isMove ? '' : '  (driver)'}`),
    '',
    `${'vehicle'.padEnd(10)} ${'bay'.padEnd(7)} ${'depart'.padEnd(6)} ${'plan'.padStart(6)} ${'short'.padStart(6)}  stints`,
  ];
  for (const v of p.vehicles) {
    const stints = p.stints.filter((s) => s.vehicleId === v.vehicleId).map((s) => `${s.bayId} ${clock.format(s.fromMs)}–${clock.format(s.toMs)}`);
    lines.push(`${v.vehicleId.padEnd(10)} ${(v.bayId ?? 'lot').padEnd(7)} ${clock.format(v.departureMs).padEnd(6)} ${v.plannedKwh.toFixed(1).padStart(6)} ` +
      `${v.shortfallKwh.toFixed(1).padStart(6)}  ${stints.join(', ') || v.trace[0] || ''}`);
  }
  return lines.join('\n');
}

export const planCommand: Command = {
  name: 'plan',
  summary: 'plan a scenario file with the joint depot planner and print the plan',
  usage,
  async run(args) {
    const { flags, positionals } = parseArgs(args, ['now']);
    for (const flag of flags.keys()) if (flag !== 'json' && flag !== 'now') throw new UsageError(`unknown option --${flag}`);
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing <scenario.json>' : `unexpected argument "${positionals[1]}"`);
    const nowFlag = flags.get('now');
    if (nowFlag === true) throw new UsageError('--now needs a value');
    const nowOverride = nowFlag === undefined ? undefined : Date.parse(nowFlag);
    if (nowOverride !== undefined && Number.isNaN(nowOverride)) throw new UsageError(`--now: "${nowFlag}" is not an ISO 8601 instant`);
    const file = positionals[0];
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      console.error(`voltyard plan: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    }
    try {
      const scenario = parseScenario(json);
      const nowMs = nowOverride ?? scenario.nowMs;
      const started = performance.now();
      if (scenario.yard) {
        const yard = planYard(scenario.yard, nowMs);
        const ms = performance.now() - started;
        console.log(flags.has('json') ? JSON.stringify(yard, null, 2)
          : `${yardSummary(yard, scenario.snapshot.timeZone, ms)}\n\n${summary(yard.energy, scenario.name, scenario.snapshot.timeZone, ms)}`);
        return 0;
      }
      const result = plan(scenario.snapshot, nowMs);
      const ms = performance.now() - started;
      console.log(flags.has('json') ? JSON.stringify(result, null, 2) : summary(result, scenario.name, scenario.snapshot.timeZone, ms));
      return 0;
    } catch (err) {
      if (err instanceof ScenarioError || err instanceof PlannerInputError) {
        console.error(`voltyard plan: ${file}: ${err.message}`);
        return 1;
      }
      throw err;
    }
  },
};

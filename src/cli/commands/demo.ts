// `voltyard demo`: the reference depot, simulated, with Voltyard in control and its dashboard open, then the same night
// uncontrolled for comparison.
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseScenario } from '../../fleet/scenario.ts';
import { createLogger } from '../../log.ts';
import { openStore } from '../../store/store.ts';
import { runScenario } from '../../sim/run.ts';
import { formatComparison, formatReport } from '../../sim/report.ts';
import { UsageError, parseArgs, type Command } from '../command.ts';
import { importScenario } from './import.ts';

const referenceDepot = fileURLToPath(new URL('../../../scenarios/reference-depot.json', import.meta.url));

const usage = [
  'Usage: voltyard demo [--speed N] [--port N] [--scenario FILE] [--data-dir DIR]',
  '',
  'Starts Voltyard with its dashboard on a simulated depot (default: the reference depot, 60 vans, 48 chargers,',
  '300 kW) at accelerated time, prints where to watch it and the key to log in with, and when the night is over',
  'prints its report beside the same night charged uncontrolled.',
  '',
  'Options:',
  '  --speed N        simulated seconds per second (default 120: a 16-hour night in 8 minutes)',
  '  --port N         port of the dashboard, API and OCPP endpoint (default 8080)',
  '  --scenario FILE  another scenario file (docs/scenario-format.md)',
  '  --data-dir DIR   keep the demo\'s data here (default: a new temporary directory)',
].join('\n');

export const demoCommand: Command = {
  name: 'demo',
  summary: 'a simulated depot night with Voltyard in control and the dashboard open, against uncontrolled charging',
  usage,
  async run(args) {
    const { flags, positionals } = parseArgs(args, ['speed', 'port', 'scenario', 'data-dir']);
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    for (const f of flags.keys()) if (!['speed', 'port', 'scenario', 'data-dir'].includes(f)) throw new UsageError(`unknown option --${f}`);
    const speed = Number(flags.get('speed') ?? 120);
    const port = Number(flags.get('port') ?? 8080);
    if (!(speed > 0)) throw new UsageError('--speed must be a positive number');
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be an integer from 0 to 65535');
    const file = String(flags.get('scenario') ?? referenceDepot);
    const raw = JSON.parse(await readFile(file, 'utf8'));
    const scenario = parseScenario(raw);
    const dataDir = path.resolve(String(flags.get('data-dir') ?? mkdtempSync(path.join(tmpdir(), 'voltyard-demo-'))));
    const logger = createLogger('warn');
    const store = await openStore({ databaseUrl: null, dataDir, logger });
    try {
      await importScenario(store, scenario, 'automatic', new Date(scenario.nowMs).toISOString());
    } finally {
      await store.close();
    }
    // A throw-away key for a throw-away data dir: the person running the demo needs it to log in.
    const adminKey = `demo-${randomBytes(12).toString('base64url')}`;
    const hours = (Math.max(...scenario.snapshot.sessions.map((s) => s.departureMs)) - scenario.nowMs) / 3_600_000;
    console.log(`Voltyard demo: ${scenario.name}, ${scenario.snapshot.sessions.length} sessions, ${hours.toFixed(1)} h of depot time at ${speed}x (about ${Math.ceil(hours * 3600 / speed / 60)} min)`);
    console.log(`  dashboard  http://127.0.0.1:${port}/   (admin key: ${adminKey})`);
    console.log(`  chargers   ws://127.0.0.1:${port}/ocpp/<id>   data: ${dataDir}`);
    const controlled = await runScenario(scenario, { central: { kind: 'voltyard', config: { dataDir, port, host: '127.0.0.1', adminKey } }, speed, meterIntervalS: 60, logger });
    console.log('\n' + formatReport(controlled));
    console.log('\nThe same night, uncontrolled (simulated as fast as possible):');
    const uncontrolled = await runScenario(scenario, { central: { kind: 'uncontrolled' }, meterIntervalS: 300, logger });
    console.log(formatComparison(uncontrolled, controlled));
    return 0;
  },
};

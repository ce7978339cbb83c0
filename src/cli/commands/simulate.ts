// `voltyard simulate <scenario>`: runs a depot night of virtual chargers and vehicles against Voltyard (started in
// this process on the simulation clock), a running Voltyard, or uncontrolled charging, and prints the report.
import { readFile, writeFile } from 'node:fs/promises';
import { parseScenario, ScenarioError, type Scenario } from '../../fleet/scenario.ts';
import { createLogger } from '../../log.ts';
import { parseQuirks, type Quirks } from '../../sim/quirks.ts';
import { runScenario, type CentralChoice } from '../../sim/run.ts';
import { formatComparison, formatReport } from '../../sim/report.ts';
import type { TelematicsFeedOptions } from '../../sim/telematics.ts';
import { UsageError, parseArgs, type Command } from '../command.ts';

const usage = [
  'Usage: voltyard simulate <scenario.json> [options]',
  '',
  'Runs the scenario (docs/scenario-format.md) as a depot: one virtual OCPP charge point per charger, one',
  'vehicle per session arriving with its SoC, plugging into its bay (or a free one of the same kind), presenting',
  'its token and leaving at departure. At the end it prints a report per vehicle and for the site (peak against',
  'the limit, energy, cost). By default Voltyard itself runs in this process on the same virtual clock.',
  '',
  'Options:',
  '  --uncontrolled        no smart charging: a plain central system that accepts everything (the baseline)',
  '  --compare             run the night twice, uncontrolled and with Voltyard in control, and compare the sites',
  '  --server URL          a running Voltyard (http://host:port); tokens (and with --telematics, vehicles and a',
  '                        webhook provider) are registered with --admin-key (or VOLTYARD_ADMIN_KEY). Needs --speed;',
  '                        the scenario\'s instants are used as they are, so the server sees them as its clock allows',
  '  --admin-key KEY       admin API key for --server',
  '  --speed N             accelerated clock: N simulated seconds per second (default: virtual, as fast as possible)',
  '  --meter-interval S    MeterValueSampleInterval of every charger, seconds (default 60)',
  '  --ocpp201-share X     share of the chargers (0 to 1) that speak OCPP 2.0.1 instead of 1.6J, spread evenly over',
  '                        the scenario\'s chargers (default 0); their vehicles report their charging needs (ISO 15118)',
  '  --response-delay MS   every charger answers the central system after this many simulated ms (default 0)',
  '  --quirks FILE         JSON object: charger id (or "*" for all) -> quirks, e.g.',
  '                        {"AC-01": {"acceptsOnlyAmps": true}, "*": {"dropsConnection": {"meanIntervalS": 3600}}}',
  '                        quirks: acceptsOnlyAmps, maxSchedulePeriods, ignoresProfiles, dropsConnection, rebootsMidSession',
  '  --telematics          a telematics feed per vehicle; with Voltyard it is posted to its webhook ingestion',
  '  --json                print the report as JSON instead of text',
  '  --out FILE            also write the JSON report to FILE',
  '  --log-level LEVEL     server and simulator log level on stderr (default warn)',
  '',
  'Exit codes: 0 done, 1 unreadable or invalid scenario or quirks file, 2 usage.',
].join('\n');

const valued = ['server', 'admin-key', 'speed', 'meter-interval', 'response-delay', 'quirks', 'out', 'log-level', 'ocpp201-share'];
const known = new Set([...valued, 'uncontrolled', 'compare', 'telematics', 'json']);

function positiveNumber(flags: Map<string, string | true>, name: string): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v === true || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number`);
  return n;
}

async function readJson(file: string, what: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new InputError(`cannot read ${what} ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

class InputError extends Error {}

function quirksByCharger(input: unknown, scenario: Scenario, file: string): Record<string, Quirks> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new InputError(`${file}: must be an object of charger id -> quirks`);
  const ids = new Set(scenario.snapshot.chargers.map((c) => c.id));
  const out: Record<string, Quirks> = {};
  const all = (input as Record<string, unknown>)['*'];
  for (const id of Object.keys(input as Record<string, unknown>)) {
    if (id !== '*' && !ids.has(id)) throw new InputError(`${file}: "${id}" is not a charger of the scenario`);
  }
  try {
    const base = parseQuirks(all, `${file}: *`);
    for (const id of ids) {
      const own = (input as Record<string, unknown>)[id];
      out[id] = { ...base, ...parseQuirks(own, `${file}: ${id}`) };
    }
  } catch (err) {
    throw new InputError((err as Error).message);
  }
  return out;
}

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'run a scenario as a simulated depot night (virtual chargers and vehicles) and report',
  usage,
  async run(args) {
    const { flags, positionals } = parseArgs(args, valued);
    for (const flag of flags.keys()) if (!known.has(flag)) throw new UsageError(`unknown option --${flag}`);
    for (const flag of valued) if (flags.get(flag) === true) throw new UsageError(`--${flag} needs a value`);
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing <scenario.json>' : `unexpected argument "${positionals[1]}"`);
    if (flags.has('uncontrolled') && flags.has('server')) throw new UsageError('--uncontrolled and --server exclude each other');
    if (flags.has('compare') && (flags.has('uncontrolled') || flags.has('server'))) throw new UsageError('--compare runs both itself: drop --uncontrolled / --server');
    const speed = positiveNumber(flags, 'speed');
    const meterIntervalS = positiveNumber(flags, 'meter-interval');
    const responseDelay = flags.get('response-delay');
    const responseDelayMs = responseDelay === undefined ? 0 : Number(responseDelay);
    if (!Number.isFinite(responseDelayMs) || responseDelayMs < 0) throw new UsageError('--response-delay must be a number of ms ≥ 0');
    const share = flags.get('ocpp201-share');
    const ocpp201Share = share === undefined ? 0 : Number(share);
    if (!(ocpp201Share >= 0 && ocpp201Share <= 1)) throw new UsageError('--ocpp201-share must be a number from 0 to 1');
    const logLevel = String(flags.get('log-level') ?? 'warn');
    if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) throw new UsageError(`--log-level: unknown level "${logLevel}"`);
    const serverUrl = flags.get('server');
    if (serverUrl !== undefined && !/^https?:\/\/[^/]+/.test(String(serverUrl))) throw new UsageError('--server must be an http(s)://host:port URL');
    // A separate server runs on its own clock; a virtual clock here would race ahead of it.
    if (serverUrl !== undefined && speed === undefined) throw new UsageError('--server needs --speed (e.g. --speed 1): the server keeps its own clock');

    const file = positionals[0];
    try {
      const scenario = parseScenario(await readJson(file, 'scenario'));
      const quirksFile = flags.get('quirks');
      const quirks = quirksFile === undefined ? undefined : quirksByCharger(await readJson(String(quirksFile), 'quirks file'), scenario, String(quirksFile));
      const central: CentralChoice = flags.has('uncontrolled') ? { kind: 'uncontrolled' }
        : serverUrl !== undefined ? { kind: 'external', url: String(serverUrl).replace(/\/$/, ''), adminKey: String(flags.get('admin-key') ?? process.env.VOLTYARD_ADMIN_KEY ?? '') || null }
          : { kind: 'voltyard' };
      const telematics: TelematicsFeedOptions | undefined = flags.has('telematics') ? {} : undefined;
      const logger = createLogger(logLevel as 'warn', process.stderr);
      const options = {
        logger, responseDelayMs, ocpp201Share,
        ...(speed !== undefined ? { speed } : {}), ...(meterIntervalS !== undefined ? { meterIntervalS } : {}),
        ...(quirks ? { quirks } : {}), ...(telematics ? { telematics } : {}),
      };
      const out = flags.get('out');
      if (flags.has('compare')) {
        const uncontrolled = await runScenario(scenario, { ...options, central: { kind: 'uncontrolled' } });
        const controlled = await runScenario(scenario, { ...options, central: { kind: 'voltyard' } });
        const both = { uncontrolled, controlled };
        console.log(flags.has('json') ? JSON.stringify(both, null, 2) : `${formatComparison(uncontrolled, controlled)}\n\n${formatReport(controlled)}`);
        if (out !== undefined) await writeFile(String(out), JSON.stringify(both, null, 2) + '\n');
        return 0;
      }
      const report = await runScenario(scenario, { ...options, central });
      console.log(flags.has('json') ? JSON.stringify(report, null, 2) : formatReport(report));
      if (out !== undefined) await writeFile(String(out), JSON.stringify(report, null, 2) + '\n');
      return 0;
    } catch (err) {
      if (err instanceof ScenarioError || err instanceof InputError) {
        console.error(`voltyard simulate: ${err instanceof ScenarioError ? `${file}: ` : ''}${err.message}`);
        return 1;
      }
      throw err;
    }
  },
};

// `voltyard import <scenario>`: loads a depot's fleet (circuits, chargers, vehicles, departures, tariff, tokens) into the store.
import { readFile } from 'node:fs/promises';
import { ConfigError, loadConfig } from '../../config.ts';
import { createLogger } from '../../log.ts';
import { openStore } from '../../store/store.ts';
import { parseScenario, ScenarioError } from '../../fleet/scenario.ts';
import { fleetStore, operatingModes, type OperatingMode } from '../../fleet/depots.ts';
import { tokenRegistry } from '../../fleet/tokens.ts';
import { UsageError, parseArgs, type Command } from '../command.ts';

const usage = [
  'Usage: voltyard import <scenario.json> [--mode shadow|assisted|automatic] [--data-dir DIR]',
  '',
  'Loads a scenario file (docs/scenario-format.md) as a depot into the store Voltyard runs on (the same settings as',
  '`voltyard start`: VOLTYARD_DATA_DIR or VOLTYARD_DATABASE_URL). The depot\'s circuits, chargers, vehicles and',
  'departures are replaced; each charger becomes an OCPP station of the same id with one EVSE, and each vehicle gets',
  'an RFID token named like the vehicle (up to 20 characters). A running server picks the depot up at its next re-plan.',
  '',
  'Options:',
  '  --mode MODE       operating mode of the depot (default automatic)',
  '  --data-dir DIR    VOLTYARD_DATA_DIR',
  '',
  'Exit codes: 0 imported, 1 unreadable or invalid scenario, 2 usage, 78 configuration error.',
].join('\n');

export const importCommand: Command = {
  name: 'import',
  summary: 'load a depot (circuits, chargers, fleet, departures, tariff) from a scenario file into the store',
  usage,
  async run(args) {
    const { flags, positionals } = parseArgs(args, ['mode', 'data-dir']);
    for (const flag of flags.keys()) if (flag !== 'mode' && flag !== 'data-dir') throw new UsageError(`unknown option --${flag}`);
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing <scenario.json>' : `unexpected argument "${positionals[1]}"`);
    const mode = String(flags.get('mode') ?? 'automatic');
    if (!(operatingModes as readonly string[]).includes(mode)) throw new UsageError(`--mode must be one of ${operatingModes.join(', ')}`);
    const env = { ...process.env };
    if (typeof flags.get('data-dir') === 'string') env.VOLTYARD_DATA_DIR = String(flags.get('data-dir'));
    let config;
    try {
      config = loadConfig(env);
    } catch (err) {
      if (err instanceof ConfigError) { console.error(`voltyard: configuration error: ${err.message}`); return 78; }
      throw err;
    }
    const file = positionals[0];
    let scenario;
    try {
      scenario = parseScenario(JSON.parse(await readFile(file, 'utf8')));
    } catch (err) {
      console.error(`voltyard import: ${file}: ${err instanceof ScenarioError || err instanceof SyntaxError ? err.message : (err as Error).message}`);
      return 1;
    }
    const logger = createLogger('warn');
    const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
    try {
      const summary = await importScenario(store, scenario, mode as OperatingMode, new Date().toISOString());
      console.log(`imported depot ${summary.depotId} into ${store.location}: ${summary.chargers} chargers, ${summary.vehicles} vehicles (with tokens), ${summary.departures} departures; mode ${mode}`);
      return 0;
    } finally {
      await store.close();
    }
  },
};

/** The import itself, shared with `voltyard demo` and the tests. */
export async function importScenario(store: Parameters<typeof fleetStore>[0], scenario: ReturnType<typeof parseScenario>, mode: OperatingMode, at: string) {
  const summary = await fleetStore(store).importScenario(scenario, { mode, at });
  const tokens = tokenRegistry(store);
  for (const v of scenario.vehicles) {
    await tokens.put({ idTag: v.id.slice(0, 20), status: 'Accepted', expiresAt: null, parentIdTag: null, vehicleId: v.id }, at);
  }
  return summary;
}

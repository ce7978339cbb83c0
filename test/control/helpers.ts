import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/store.ts';
import { parseScenario } from '../../src/fleet/scenario.ts';
import { importScenario } from '../../src/cli/commands/import.ts';
import type { OperatingMode } from '../../src/fleet/depots.ts';
import { captureLogs } from '../helpers/logger.ts';

/** A small depot around `nowMs`: `n` AC bays of 7.2 kW on one panel, a site limit, vans due to leave in hours. */
export function smallDepot(nowMs: number, options: { n?: number; bays?: number; gridLimitKw?: number; departuresH?: number[]; arrivalsH?: number[]; priorities?: number[] } = {}) {
  const n = options.n ?? 3;
  const bays = Math.max(n, options.bays ?? n);
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    format: 'voltyard-scenario/1', name: 'small-depot', now: iso(nowMs),
    depot: { id: 'small', timeZone: 'Europe/Amsterdam', slotMinutes: 15, gridLimitKw: options.gridLimitKw ?? 12 },
    circuits: [{ id: 'service', parentId: null, maxPowerKw: 40 }, { id: 'panel', parentId: 'service', maxPowerKw: 30 }],
    chargers: Array.from({ length: bays }, (_, k) => ({ id: `AC-${k + 1}`, circuitId: 'panel', kind: 'AC', maxPowerKw: 7.2, minPowerKw: 1.4, phases: 1 })),
    vehicles: Array.from({ length: n }, (_, k) => ({ id: `van-${k + 1}`, batteryKwh: 40, acMaxPowerKw: 7.2, dcMaxPowerKw: 50 })),
    sessions: Array.from({ length: n }, (_, k) => ({
      id: `s-${k + 1}`, vehicleId: `van-${k + 1}`, chargerId: `AC-${k + 1}`, arrival: iso(nowMs + (options.arrivalsH?.[k] !== undefined ? options.arrivalsH[k] * 3_600_000 : 60_000)),
      departure: iso(nowMs + (options.departuresH?.[k] ?? 8 + k) * 3_600_000), socPercent: 30, targetSocPercent: 80,
      ...(options.priorities?.[k] ? { priority: options.priorities[k] } : {}),
    })),
    tariff: { name: 'flat', currency: 'EUR', defaultPricePerKwh: 0.2, rules: [] },
  };
}

export async function importInto(dataDir: string | null, scenario: unknown, mode: OperatingMode = 'automatic', databaseUrl: string | null = null): Promise<string> {
  const dir = dataDir ?? mkdtempSync(path.join(tmpdir(), 'voltyard-control-'));
  const store = await openStore({ databaseUrl, dataDir: dir, logger: captureLogs().logger });
  try {
    await importScenario(store, parseScenario(scenario), mode, new Date().toISOString());
  } finally {
    await store.close();
  }
  return dir;
}

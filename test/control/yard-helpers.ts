import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/store.ts';
import { parseScenario } from '../../src/fleet/scenario.ts';
import { importScenario } from '../../src/cli/commands/import.ts';
import { fleetConfig } from '../../src/fleet/config.ts';
import { yardConfig, type ConnectorType, type MovePolicy } from '../../src/fleet/yard.ts';
import { bootCharger, type TestCharger } from '../helpers/charger.ts';
import { captureLogs } from '../helpers/logger.ts';

/**
 * A small yard around `nowMs`: `vans` vans back in the lot (arrived an hour ago, not plugged in), `bays` AC bays of
 * 7.2 kW Type 2, each its own station unless `station` groups some EVSEs into one station with a shared budget.
 */
export interface YardDepotOptions {
  vans?: number;
  bays?: number;
  gridLimitKw?: number;
  departuresH?: number[];
  /** Vans still on the road: hours from now until they are back. */
  arrivalsH?: Record<number, number>;
  movePolicy?: Partial<MovePolicy> | null;
  vehicleTypes?: Record<string, ConnectorType[]>;
  /** Bays (by 1-based index) that are EVSEs 1, 2, … of one station with this budget. */
  station?: { id: string; bays: number[]; maxPowerKw: number };
  databaseUrl?: string | null;
}

export async function yardDepot(nowMs: number, o: YardDepotOptions = {}): Promise<string> {
  const vans = o.vans ?? 3;
  const bays = o.bays ?? vans;
  const iso = (ms: number) => new Date(ms).toISOString();
  // The scenario format gives every vehicle a charger; the yard ones then lose theirs (the planner chooses).
  const scenario = {
    format: 'voltyard-scenario/1', name: 'yard-depot', now: iso(nowMs),
    depot: { id: 'yard', timeZone: 'Europe/Amsterdam', slotMinutes: 15, gridLimitKw: o.gridLimitKw ?? 40 },
    circuits: [{ id: 'service', parentId: null, maxPowerKw: 60 }, { id: 'panel', parentId: 'service', maxPowerKw: 50 }],
    chargers: Array.from({ length: Math.max(vans, bays) }, (_, k) => ({ id: `AC-${k + 1}`, circuitId: 'panel', kind: 'AC', maxPowerKw: 7.2, minPowerKw: 1.4, phases: 1 })),
    vehicles: Array.from({ length: vans }, (_, k) => ({ id: `van-${k + 1}`, batteryKwh: 40, acMaxPowerKw: 7.2, dcMaxPowerKw: 50 })),
    sessions: Array.from({ length: vans }, (_, k) => ({
      id: `s-${k + 1}`, vehicleId: `van-${k + 1}`, chargerId: `AC-${k + 1}`, arrival: iso(nowMs + (o.arrivalsH?.[k + 1] ?? -1) * 3_600_000),
      departure: iso(nowMs + (o.departuresH?.[k] ?? 10 + k) * 3_600_000), socPercent: 30, targetSocPercent: 80,
    })),
    tariff: { name: 'flat', currency: 'EUR', defaultPricePerKwh: 0.2, rules: [] },
  };
  const dataDir = mkdtempSync(path.join(tmpdir(), 'voltyard-yard-'));
  const store = await openStore({ databaseUrl: o.databaseUrl ?? null, dataDir, logger: captureLogs().logger });
  try {
    const at = iso(nowMs);
    await importScenario(store, parseScenario(scenario), 'automatic', at);
    const config = fleetConfig(store);
    for (let k = bays; k < vans; k++) await config.removeCharger('yard', `AC-${k + 1}`);
    for (const d of (await config.departures('yard', { limit: 500, offset: 0 })).items) await config.putDeparture({ ...d, chargerId: null });
    if (o.station) {
      const chargers = await config.chargers('yard');
      for (const [k, bay] of o.station.bays.entries()) {
        const c = chargers.find((x) => x.id === `AC-${bay}`)!;
        await config.putCharger('yard', { ...c, stationId: `${o.station.id}-tmp-${k}`, evseId: 1 });
      }
      for (const [k, bay] of o.station.bays.entries()) {
        const c = chargers.find((x) => x.id === `AC-${bay}`)!;
        await config.putCharger('yard', { ...c, stationId: o.station.id, evseId: k + 1 });
      }
      await yardConfig(store).setStationBudget('yard', o.station.id, o.station.maxPowerKw);
    }
    const yard = yardConfig(store);
    if (o.movePolicy !== null) await yard.setMovePolicy('yard', o.movePolicy ?? {}, at);
    const chargerTypes = Object.fromEntries(Array.from({ length: bays }, (_, k) => [`AC-${k + 1}`, 'Type2' as const]));
    await yard.setConnectorTypes('yard', { chargers: chargerTypes, vehicles: o.vehicleTypes ?? {} });
  } finally {
    await store.close();
  }
  return dataDir;
}

export interface ProfileCall {
  connectorId: number;
  csChargingProfiles: { chargingProfileId: number; chargingProfilePurpose: string; transactionId?: number; chargingSchedule: { chargingRateUnit: string; chargingSchedulePeriod: { startPeriod: number; limit: number }[] } };
}

/** A charger over a real WebSocket that takes every profile (in W) and remembers them per connector. */
export async function yardCharger(url: string, id: string) {
  const profiles: ProfileCall[] = [];
  const charger: TestCharger = await bootCharger(url, id, {
    handlers: {
      SetChargingProfile: (p: ProfileCall) => { profiles.push(p); return { status: 'Accepted' }; },
      GetConfiguration: () => ({ configurationKey: [{ key: 'ChargingScheduleMaxPeriods', readonly: true, value: '24' }, { key: 'ChargingScheduleAllowedChargingRateUnit', readonly: true, value: 'Current,Power' }] }),
      TriggerMessage: () => ({ status: 'Accepted' }),
      GetCompositeSchedule: () => ({ status: 'Rejected' }),
    },
  });
  const plug = async (idTag: string, connectorId = 1) =>
    (await charger.call<{ transactionId: number; idTagInfo: { status: string } }>('StartTransaction', { connectorId, idTag, meterStart: 0, timestamp: new Date().toISOString() })).transactionId;
  const unplug = (transactionId: number) => charger.call('StopTransaction', { transactionId, meterStop: 1000, timestamp: new Date().toISOString() });
  return {
    charger, profiles, plug, unplug,
    tx: (connectorId?: number) => profiles.filter((p) => p.csChargingProfiles.chargingProfilePurpose === 'TxProfile' && (connectorId === undefined || p.connectorId === connectorId)),
    stationMax: () => profiles.filter((p) => p.csChargingProfiles.chargingProfilePurpose === 'ChargePointMaxProfile'),
  };
}

export interface TaskJson { id: number; taskId: string; kind: string; vehicleId: string; bayId: string; status: string; at: string; text: string; acknowledgedBy: string | null; closedBy: string | null; from: string; outVehicleId: string | null }

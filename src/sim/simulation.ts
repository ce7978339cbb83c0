// A depot night from a scenario file: one virtual charge point per charger, one vehicle per session arriving at its
// time with its SoC, plugging into its bay (or any free one of the same kind), presenting its token, and leaving at
// departure to drive its route. Meters are read at every slot boundary for the report; telematics feeds run per
// vehicle if asked. The central system is whatever `url` points at: Voltyard, or the permissive baseline.
import { pino } from 'pino';
import type { Logger } from '../log.ts';
import type { VehicleReading } from '../bus/events.ts';
import type { Scenario } from '../fleet/scenario.ts';
import type { SessionSpec } from '../planner/types.ts';
import type { SimClock } from './clock.ts';
import { VirtualChargePoint, type OcppProtocol } from './charge-point.ts';
import { SimVehicle } from './vehicle.ts';
import { startTelematicsFeed, type TelematicsFeed, type TelematicsFeedOptions } from './telematics.ts';
import { seedOf, type Quirks } from './quirks.ts';
import { buildReport, type SessionOutcome, type SimulationReport, type SlotSample } from './report.ts';

export interface VehicleModelDefaults {
  readonly efficiency?: number;
  readonly kneeSocPercent?: number;
  readonly consumptionKwhPerKm?: number;
  /** Route driven after departure, km. */
  readonly routeKm?: number;
}

export interface SimulationOptions {
  readonly scenario: Scenario;
  /** OCPP endpoint without the station id, e.g. ws://127.0.0.1:8080/ocpp */
  readonly url: string;
  readonly clock: SimClock;
  readonly logger?: Logger;
  /** Label for the report: who was in control. */
  readonly control: 'voltyard' | 'uncontrolled' | 'external';
  readonly meterIntervalS?: number;
  readonly responseDelayMs?: number;
  /** Quirks per charger id. */
  readonly quirks?: Readonly<Record<string, Quirks>>;
  readonly vehicles?: VehicleModelDefaults;
  /** Telematics feed per vehicle (off when absent); readings go to onReading. */
  readonly telematics?: TelematicsFeedOptions;
  readonly onReading?: (reading: VehicleReading) => void;
  /** Called once per token before the run (e.g. PUT /api/tokens/{idTag}). */
  readonly registerToken?: (idTag: string, vehicleId: string | null) => Promise<void>;
  /** Run end, epoch ms (default: the last departure plus one slot). */
  readonly endMs?: number;
  /**
   * Share of the chargers (0 to 1) that speak OCPP 2.0.1 instead of 1.6J, spread evenly over the scenario's charger
   * list (default 0). `protocols` names a charger's version outright and wins over the share.
   */
  readonly ocpp201Share?: number;
  readonly protocols?: Readonly<Record<string, OcppProtocol>>;
  /** Sees every charge point before it connects (to listen to its events). */
  readonly onStation?: (station: VirtualChargePoint) => void;
}

const unknownVehicleBattery = { capacityKwh: 60, acMaxPowerKw: 11, dcMaxPowerKw: 50 };

/**
 * The token a session presents: its vehicle id (as `voltyard import` registers it) or, for a vehicle the fleet does
 * not know, the session id; a hash when that would exceed OCPP 1.6's 20 characters.
 */
export function idTagFor(session: Pick<SessionSpec, 'id' | 'vehicleId'>): string {
  const base = session.vehicleId ?? session.id;
  return base.length <= 20 ? base : `H-${seedOf(base).toString(16).padStart(8, '0')}`;
}

interface Visit {
  readonly session: SessionSpec;
  readonly vehicle: SimVehicle;
  readonly idTag: string;
  readonly arrivalMs: number;
  readonly arrivalSocPercent: number;
  readonly targetSocPercent: number | null;
  readonly neededKwh: number;
  chargerId: string | null;
  connectorId: number;
  meterAtPlugKwh: number;
  energyKwh: number;
  departureSocPercent: number | null;
  feed: TelematicsFeed | null;
}

/** Which chargers speak 2.0.1 for a share: every charger where the running count of 2.0.1 ones steps up, so they spread evenly. */
export function protocolsForShare(chargerIds: readonly string[], share: number): Record<string, OcppProtocol> {
  if (!(share >= 0 && share <= 1)) throw new RangeError(`the OCPP 2.0.1 share must be between 0 and 1, got ${share}`);
  return Object.fromEntries(chargerIds.map((id, k) => [id, Math.floor((k + 1) * share + 1e-9) > Math.floor(k * share + 1e-9) ? 'ocpp2.0.1' : 'ocpp1.6']));
}

export async function runSimulation(o: SimulationOptions): Promise<SimulationReport> {
  const { scenario, clock } = o;
  const snap = scenario.snapshot;
  const log = (o.logger ?? pino({ level: 'silent' })).child({ module: 'sim' });
  const wallStart = performance.now();
  const startMs = clock.now();
  const slotMs = (snap.slotMinutes ?? 15) * 60_000;
  const endMs = o.endMs ?? Math.ceil((Math.max(...snap.sessions.map((s) => s.departureMs)) + slotMs) / slotMs) * slotMs;
  if (!(endMs > startMs)) throw new RangeError(`simulation end ${new Date(endMs).toISOString()} is not after its start ${new Date(startMs).toISOString()}`);

  const protocols = { ...protocolsForShare(snap.chargers.map((c) => c.id), o.ocpp201Share ?? 0), ...o.protocols };
  const stations = new Map(snap.chargers.map((c) => [c.id, new VirtualChargePoint({
    id: c.id, url: o.url, clock, logger: log, kind: c.kind, maxPowerKw: c.maxPowerKw, phases: c.kind === 'AC' ? c.phases ?? 3 : 1, protocol: protocols[c.id],
    meterIntervalS: o.meterIntervalS ?? 60, responseDelayMs: o.responseDelayMs ?? 0, quirks: o.quirks?.[c.id] ?? {},
  })]));
  const kindOf = new Map(snap.chargers.map((c) => [c.id, c.kind]));
  const specOf = new Map(scenario.vehicles.map((v) => [v.id, v]));
  const d = o.vehicles ?? {};
  const visits: Visit[] = snap.sessions.map((s) => {
    const v = s.vehicleId ? specOf.get(s.vehicleId) : undefined;
    const battery = v ? { capacityKwh: v.batteryKwh, acMaxPowerKw: v.acMaxPowerKw, dcMaxPowerKw: v.dcMaxPowerKw, ...(v.taper ? { taper: v.taper } : {}) } : unknownVehicleBattery;
    const need = s.energyNeededKwh ?? (s.battery ? s.battery.capacityKwh * Math.max(0, s.battery.targetSocPercent - s.battery.socPercent) / 100 : snap.policy?.unknownVehicleEnergyKwh ?? 40);
    // Without a SoC the vehicle arrives with exactly its stated need left to fill.
    const soc = s.battery?.socPercent ?? Math.max(0, 100 - need / battery.capacityKwh * 100);
    const spec = { ...battery, ...(d.efficiency !== undefined ? { efficiency: d.efficiency } : {}), ...(d.kneeSocPercent !== undefined ? { kneeSocPercent: d.kneeSocPercent } : {}), ...(d.consumptionKwhPerKm !== undefined ? { consumptionKwhPerKm: d.consumptionKwhPerKm } : {}) };
    return {
      session: s, vehicle: new SimVehicle(s.vehicleId ?? s.id, spec, soc), idTag: idTagFor(s), arrivalMs: Math.max(startMs, s.arrivalMs ?? startMs),
      arrivalSocPercent: soc, targetSocPercent: s.battery?.targetSocPercent ?? null, neededKwh: need,
      chargerId: null, connectorId: 1, meterAtPlugKwh: 0, energyKwh: 0, departureSocPercent: null, feed: null,
    };
  });

  if (o.registerToken) {
    const seen = new Set<string>();
    for (const v of visits) if (!seen.has(v.idTag)) { seen.add(v.idTag); await o.registerToken(v.idTag, v.session.vehicleId ?? null); }
  }

  for (const s of stations.values()) o.onStation?.(s);
  await Promise.all([...stations.values()].map((s) => s.start()));
  const occupied = new Set<string>();
  const samples: SlotSample[] = [];
  const readMeters = () => {
    const byCharger: Record<string, number> = {};
    for (const [id, s] of stations) byCharger[id] = s.meterKwh(1);
    samples.push({ atMs: clock.now(), meterKwh: byCharger });
  };
  readMeters();
  const timers: ReturnType<SimClock['setTimeout']>[] = [];
  const at = (ms: number, fn: () => void) => { timers.push(clock.setTimeout(fn, Math.max(0, ms - clock.now()))); };
  for (let t = Math.floor(startMs / slotMs) * slotMs + slotMs; t <= endMs; t += slotMs) at(t, readMeters);

  const arrive = (v: Visit) => {
    const wanted = v.session.chargerId;
    const kind = kindOf.get(wanted);
    const free = occupied.has(wanted) ? snap.chargers.find((c) => c.kind === kind && !occupied.has(c.id))?.id : wanted;
    if (!free) {
      log.warn({ session: v.session.id }, 'no free charger: the vehicle waits unplugged');
      return;
    }
    const station = stations.get(free)!;
    occupied.add(free);
    v.chargerId = free;
    v.meterAtPlugKwh = station.meterKwh(1);
    v.vehicle.plugIn();
    v.vehicle.chargingProbe = () => station.view(1).powerKw > 0;
    // An ISO 15118 vehicle states its needs; only a 2.0.1 charger passes them on (NotifyEVChargingNeeds).
    station.plug(1, v.vehicle, v.idTag, { energyKwh: v.neededKwh, departureMs: v.session.departureMs, batteryCapacityKwh: v.vehicle.battery.spec.capacityKwh });
    // A vehicle back for another session has one telematics unit: the feed of its last visit stops.
    if (o.telematics) {
      const previous = visits.find((x) => x !== v && x.feed && x.vehicle.id === v.vehicle.id);
      previous?.feed?.stop();
      v.feed = startTelematicsFeed(v.vehicle, clock, (r) => o.onReading?.(r), { ...o.telematics, seed: seedOf(v.session.id, o.telematics.seed ?? 0) });
    }
  };
  const depart = (v: Visit) => {
    if (v.chargerId) {
      const station = stations.get(v.chargerId)!;
      v.energyKwh = station.meterKwh(1) - v.meterAtPlugKwh;
      station.unplug(1);
      occupied.delete(v.chargerId);
    }
    v.departureSocPercent = v.vehicle.socPercent;
    v.vehicle.depart(clock.now(), d.routeKm ?? 80);
  };
  // Departures before arrivals at the same instant: a bay is free for the next van the moment the last one leaves.
  for (const v of visits) at(v.session.departureMs, () => depart(v));
  for (const v of visits) at(v.arrivalMs, () => arrive(v));

  try {
    await clock.runUntil(endMs);
  } finally {
    for (const v of visits) v.feed?.stop();
    for (const t of timers) clock.clearTimeout(t);
    await Promise.all([...stations.values()].map((s) => s.stop()));
  }

  const outcomes: SessionOutcome[] = visits.map((v) => ({
    sessionId: v.session.id, vehicleId: v.session.vehicleId ?? null, plannedChargerId: v.session.chargerId, chargerId: v.chargerId, idTag: v.idTag,
    arrivalMs: v.arrivalMs, departureMs: v.session.departureMs, arrivalSocPercent: v.arrivalSocPercent,
    departureSocPercent: v.departureSocPercent ?? v.vehicle.socPercent, targetSocPercent: v.targetSocPercent,
    neededKwh: v.neededKwh, energyKwh: v.energyKwh, batteryKwh: v.vehicle.battery.spec.capacityKwh,
  }));
  return buildReport({
    scenario, control: o.control, clockMode: clock.mode, startMs, endMs, wallMs: performance.now() - wallStart, samples, sessions: outcomes,
    chargers: [...stations.values()].map((s) => ({ chargerId: s.id, protocol: s.protocol, ...s.stats })),
    telematics: o.telematics ? visits.reduce((a, v) => {
      const st = v.feed?.stats;
      return st ? { sampled: a.sampled + st.sampled, delivered: a.delivered + st.delivered, duplicates: a.duplicates + st.duplicates, lostInGaps: a.lostInGaps + st.lostInGaps } : a;
    }, { sampled: 0, delivered: 0, duplicates: 0, lostInGaps: 0 }) : null,
  });
}

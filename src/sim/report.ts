// The end-of-run report: per vehicle (arrival SoC, energy, SoC at departure, ready or not) and for the site (slot
// peaks against the limit, energy, cost with the scenario's tariff), as JSON and as text. Pure: it takes the meter
// readings taken at slot boundaries and the outcome of each session.
import { costOf } from '../energy/cost.ts';
import { demandChargeAtLocal, localTimeIn, slotPrices } from '../energy/tariff.ts';
import type { Scenario } from '../fleet/scenario.ts';
import type { ClockMode } from './clock.ts';

/** Energy registers of every charger at one instant, kWh. */
export interface SlotSample {
  readonly atMs: number;
  readonly meterKwh: Readonly<Record<string, number>>;
}

export interface SessionOutcome {
  readonly sessionId: string;
  readonly vehicleId: string | null;
  readonly plannedChargerId: string;
  /** Where it actually plugged in (null: no free charger). */
  readonly chargerId: string | null;
  readonly idTag: string;
  readonly arrivalMs: number;
  readonly departureMs: number;
  readonly arrivalSocPercent: number;
  readonly departureSocPercent: number;
  readonly targetSocPercent: number | null;
  readonly neededKwh: number;
  /** Metered at the charger, grid side. */
  readonly energyKwh: number;
  readonly batteryKwh: number;
}

export interface ChargerOutcome {
  readonly chargerId: string;
  readonly protocol: 'ocpp1.6' | 'ocpp2.0.1';
  readonly boots: number;
  readonly connects: number;
  readonly drops: number;
  readonly reboots: number;
  readonly replayed: number;
  readonly profilesAccepted: number;
  readonly profilesRejected: number;
  readonly profilesIgnored: number;
}

export interface VehicleReport {
  readonly sessionId: string;
  readonly vehicleId: string | null;
  readonly chargerId: string | null;
  readonly arrival: string;
  readonly departure: string;
  readonly arrivalSocPercent: number;
  readonly departureSocPercent: number;
  readonly targetSocPercent: number | null;
  readonly energyKwh: number;
  readonly shortfallKwh: number;
  readonly ready: boolean;
}

export interface SiteReport {
  readonly depotId: string;
  readonly timeZone: string;
  readonly from: string;
  readonly to: string;
  readonly slotMinutes: number;
  readonly gridLimitKw: number;
  /** Highest slot-average site power (charging plus other load), kW, and the slot it happened in. */
  readonly peakKw: number;
  readonly peakAt: string | null;
  readonly peakChargingKw: number;
  readonly slotsOverLimit: number;
  readonly energyKwh: number;
  readonly currency: string;
  readonly energyCost: number;
  readonly demandChargeIncrement: number;
  readonly totalCost: number;
  readonly ready: number;
  readonly sessions: number;
  readonly shortfallKwh: number;
  /** Slot starts and site power per slot, kW (charging only and with other load). */
  readonly slots: { readonly start: string; readonly chargingKw: number; readonly siteKw: number }[];
}

export interface SimulationReport {
  readonly scenario: string;
  readonly control: 'voltyard' | 'uncontrolled' | 'external';
  readonly clock: ClockMode;
  /** Wall-clock time the run took, ms. */
  readonly wallMs: number;
  readonly site: SiteReport;
  readonly vehicles: VehicleReport[];
  readonly chargers: ChargerOutcome[];
  readonly telematics: { sampled: number; delivered: number; duplicates: number; lostInGaps: number } | null;
  /** Readings posted to a Voltyard's telematics webhook, and what its ingestion said. */
  readonly telematicsWebhook?: { sent: number; accepted: number; duplicates: number; refused: number };
}

export interface ReportInput {
  readonly scenario: Scenario;
  readonly control: SimulationReport['control'];
  readonly clockMode: ClockMode;
  readonly startMs: number;
  readonly endMs: number;
  readonly wallMs: number;
  readonly samples: readonly SlotSample[];
  readonly sessions: readonly SessionOutcome[];
  readonly chargers: readonly ChargerOutcome[];
  readonly telematics: SimulationReport['telematics'];
}

const socTolerancePercent = 0.5;
const iso = (ms: number) => new Date(ms).toISOString();
const r = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;

function otherLoadAt(scenario: Scenario, ms: number): number {
  let load = 0;
  for (const step of scenario.snapshot.otherLoadKw ?? []) if (step.fromMs <= ms) load = step.loadKw;
  return load;
}

export function buildReport(input: ReportInput): SimulationReport {
  const { scenario, samples } = input;
  const snap = scenario.snapshot;
  const slotStarts: number[] = [];
  const slotHours: number[] = [];
  const chargingKw: number[] = [];
  const siteKw: number[] = [];
  for (let k = 1; k < samples.length; k++) {
    const a = samples[k - 1], b = samples[k];
    const hours = (b.atMs - a.atMs) / 3_600_000;
    if (hours <= 0) continue;
    let kwh = 0;
    for (const id of Object.keys(b.meterKwh)) kwh += b.meterKwh[id] - (a.meterKwh[id] ?? 0);
    slotStarts.push(a.atMs);
    slotHours.push(hours);
    chargingKw.push(kwh / hours);
    siteKw.push(kwh / hours + otherLoadAt(scenario, a.atMs));
  }
  const prices = slotPrices(snap.tariff, slotStarts, snap.timeZone);
  const demandRate = demandChargeAtLocal(snap.tariff, localTimeIn(snap.timeZone)(input.startMs));
  const cost = costOf(chargingKw, siteKw, slotHours, prices, demandRate, snap.peakSoFarKw ?? 0);
  const peakIndex = siteKw.indexOf(cost.peakKw);

  const vehicles: VehicleReport[] = input.sessions.map((s) => {
    const shortfallKwh = s.targetSocPercent !== null
      ? Math.max(0, (s.targetSocPercent - socTolerancePercent - s.departureSocPercent) / 100 * s.batteryKwh)
      : Math.max(0, s.neededKwh - s.energyKwh - 0.05);
    return {
      sessionId: s.sessionId, vehicleId: s.vehicleId, chargerId: s.chargerId, arrival: iso(s.arrivalMs), departure: iso(s.departureMs),
      arrivalSocPercent: r(s.arrivalSocPercent, 1), departureSocPercent: r(s.departureSocPercent, 1), targetSocPercent: s.targetSocPercent,
      energyKwh: r(s.energyKwh), shortfallKwh: r(shortfallKwh), ready: shortfallKwh <= 0,
    };
  });
  const site: SiteReport = {
    depotId: snap.depotId, timeZone: snap.timeZone, from: iso(input.startMs), to: iso(input.endMs), slotMinutes: snap.slotMinutes ?? 15,
    gridLimitKw: snap.gridLimitKw, peakKw: r(cost.peakKw), peakAt: peakIndex >= 0 ? iso(slotStarts[peakIndex]) : null,
    peakChargingKw: r(Math.max(0, ...chargingKw)), slotsOverLimit: siteKw.filter((kw) => kw > snap.gridLimitKw + 0.01).length,
    energyKwh: r(chargingKw.reduce((a, kw, k) => a + kw * slotHours[k], 0)), currency: snap.tariff.currency,
    energyCost: r(cost.energyCost), demandChargeIncrement: r(cost.demandChargeIncrement), totalCost: r(cost.total),
    ready: vehicles.filter((v) => v.ready).length, sessions: vehicles.length, shortfallKwh: r(vehicles.reduce((a, v) => a + v.shortfallKwh, 0)),
    slots: slotStarts.map((ms, k) => ({ start: iso(ms), chargingKw: r(chargingKw[k]), siteKw: r(siteKw[k]) })),
  };
  return {
    scenario: scenario.name, control: input.control, clock: input.clockMode, wallMs: Math.round(input.wallMs),
    site, vehicles, chargers: [...input.chargers], telematics: input.telematics,
  };
}

/** The report as text for a terminal. */
export function formatReport(report: SimulationReport): string {
  const s = report.site;
  const clock = new Intl.DateTimeFormat('en-GB', { timeZone: s.timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const hhmm = (text: string) => clock.format(Date.parse(text));
  const f = (v: number, d = 1) => v.toFixed(d);
  const lines = [
    `${report.scenario}: ${report.control === 'uncontrolled' ? 'uncontrolled charging' : report.control === 'voltyard' ? 'Voltyard in control' : 'external central system'}, ` +
      `${report.clock} clock, ${s.from} – ${s.to}, ran in ${f(report.wallMs / 1000)} s`,
    `site: peak ${f(s.peakKw)} kW${s.peakAt ? ` at ${hhmm(s.peakAt)}` : ''} against a ${f(s.gridLimitKw)} kW limit` +
      `${s.slotsOverLimit > 0 ? ` (${s.slotsOverLimit} slots over)` : ''}; charging peak ${f(s.peakChargingKw)} kW; energy ${f(s.energyKwh)} kWh`,
    `cost: energy ${f(s.energyCost, 2)} ${s.currency} + demand charge ${f(s.demandChargeIncrement, 2)} ${s.currency} = ${f(s.totalCost, 2)} ${s.currency}`,
    `ready: ${s.ready}/${s.sessions}, shortfall ${f(s.shortfallKwh)} kWh`,
    '',
    `${'session'.padEnd(14)} ${'charger'.padEnd(8)} ${'arrive'.padEnd(6)} ${'depart'.padEnd(6)} ${'soc in'.padStart(6)} ${'kWh'.padStart(6)} ${'soc out'.padStart(7)} ${'target'.padStart(6)}  ready`,
  ];
  for (const v of report.vehicles) {
    lines.push(`${v.sessionId.padEnd(14)} ${(v.chargerId ?? '-').padEnd(8)} ${hhmm(v.arrival).padEnd(6)} ${hhmm(v.departure).padEnd(6)} ` +
      `${f(v.arrivalSocPercent).padStart(6)} ${f(v.energyKwh).padStart(6)} ${f(v.departureSocPercent).padStart(7)} ${(v.targetSocPercent === null ? '-' : f(v.targetSocPercent, 0)).padStart(6)}  ` +
      `${v.ready ? 'yes' : `no (short ${f(v.shortfallKwh)} kWh)`}`);
  }
  const eventful = report.chargers.filter((c) => c.drops + c.reboots + c.profilesRejected + c.profilesIgnored + c.replayed > 0);
  if (eventful.length > 0) {
    lines.push('', 'charger   drops reboots replayed profiles ok/rejected/ignored');
    for (const c of eventful) lines.push(`${c.chargerId.padEnd(9)} ${String(c.drops).padStart(5)} ${String(c.reboots).padStart(7)} ${String(c.replayed).padStart(8)} ${c.profilesAccepted}/${c.profilesRejected}/${c.profilesIgnored}`);
  }
  if (report.telematics) {
    const t = report.telematics;
    lines.push('', `telematics: ${t.sampled} samples, ${t.delivered} delivered, ${t.duplicates} duplicates, ${t.lostInGaps} lost in gaps`);
  }
  if (report.telematicsWebhook) {
    const w = report.telematicsWebhook;
    lines.push(`telematics webhook: ${w.sent} posted, ${w.accepted} ingested, ${w.duplicates} recognised as duplicates, ${w.refused} refused`);
  }
  return lines.join('\n');
}

/** Two runs of one scenario side by side (e.g. uncontrolled against Voltyard in control). */
export function formatComparison(a: SimulationReport, b: SimulationReport): string {
  const name = (r: SimulationReport) => r.control === 'uncontrolled' ? 'uncontrolled' : r.control === 'voltyard' ? 'voltyard' : 'external';
  const rows: [string, (r: SimulationReport) => string][] = [
    ['peak kW', (r) => r.site.peakKw.toFixed(1)],
    ['slots over limit', (r) => String(r.site.slotsOverLimit)],
    ['energy kWh', (r) => r.site.energyKwh.toFixed(1)],
    [`energy cost ${a.site.currency}`, (r) => r.site.energyCost.toFixed(2)],
    [`demand charge ${a.site.currency}`, (r) => r.site.demandChargeIncrement.toFixed(2)],
    [`total cost ${a.site.currency}`, (r) => r.site.totalCost.toFixed(2)],
    ['ready', (r) => `${r.site.ready}/${r.site.sessions}`],
    ['shortfall kWh', (r) => r.site.shortfallKwh.toFixed(1)],
  ];
  return [
    `${a.scenario}: site limit ${a.site.gridLimitKw} kW`,
    `${''.padEnd(20)} ${name(a).padStart(14)} ${name(b).padStart(14)}`,
    ...rows.map(([label, f]) => `${label.padEnd(20)} ${f(a).padStart(14)} ${f(b).padStart(14)}`),
  ].join('\n');
}

/**
 * One best state of charge per vehicle, from what we know: the vehicle's telematics SoC, the charger's own SoC
 * (OCPP SoC measurand or ISO 15118 charging needs, reported by the EV over the charging link), and the energy the
 * charger delivered since the last telematics reading. Pure: `now` is an input, no I/O.
 *
 * Cases, in order:
 *  1. The newest of telematics and charger SoC is the base.
 *  2. If the base is telematics and the charger delivered energy after it, add that energy (times the charging
 *     efficiency) over the battery size: "telematics+energy".
 *  3. Confidence starts from the source's own trust and falls with age; older than `staleAfterS` is marked stale.
 *  4. When the best we have is stale, estimate: the last known SoC minus the energy of the distance driven since
 *     (odometer delta, else the schedule's trip distances) at the vehicle's kWh/km. The result says it is an estimate.
 *  5. Nothing known at all: SoC null, confidence 0, estimate.
 */

export interface SocObservation {
  readonly socPercent: number;
  /** ISO-8601 UTC */
  readonly at: string;
}

export interface SocInputs {
  readonly nowMs: number;
  readonly telematics: SocObservation | null;
  readonly charger: SocObservation | null;
  /** Energy the charger delivered into this vehicle after `telematics.at`, and the instant of the last sample counted. */
  readonly energySinceTelematics: { readonly kwh: number; readonly until: string } | null;
  readonly batteryKwh: number | null;
  readonly consumptionKwhPerKm: number | null;
  /** Distance driven since the base SoC was measured: from the odometer when known... */
  readonly odometerDeltaKm: number | null;
  /** ...else from the schedule's trips since then. */
  readonly plannedTripsKm: number | null;
  readonly staleAfterS: number;
}

export type SocSource = 'telematics' | 'charger' | 'telematics+energy' | 'estimate' | 'unknown';

export interface BestSoc {
  readonly socPercent: number | null;
  readonly source: SocSource;
  /** When the value (or the last thing it was derived from) was measured. */
  readonly measuredAt: string | null;
  readonly ageS: number | null;
  /** 0..1 */
  readonly confidence: number;
  readonly stale: boolean;
  /** True when the planner must treat the value as a guess rather than a measurement. */
  readonly estimate: boolean;
  /** How the value was reached, in words, for the trace and the dashboard. */
  readonly basis: string;
}

export const CHARGING_EFFICIENCY = 0.92;
const TRUST = { telematics: 0.95, charger: 0.9, 'telematics+energy': 0.85 } as const;

const round1 = (v: number) => Math.round(v * 10) / 10;
const clampSoc = (v: number) => Math.min(100, Math.max(0, v));

function freshness(ageS: number, staleAfterS: number): number {
  // Linear fall to half the trust at the stale limit, to a floor of 0.1 beyond it.
  return Math.max(0.1, 1 - 0.5 * (ageS / staleAfterS));
}

export function bestSoc(input: SocInputs): BestSoc {
  const { telematics: t, charger: c, nowMs, staleAfterS } = input;
  if (!t && !c) {
    return { socPercent: null, source: 'unknown', measuredAt: null, ageS: null, confidence: 0, stale: true, estimate: true, basis: 'no SoC from telematics or charger yet' };
  }
  const base = !c || (t && Date.parse(t.at) >= Date.parse(c.at)) ? { kind: 'telematics' as const, obs: t! } : { kind: 'charger' as const, obs: c };

  let soc = base.obs.socPercent;
  let source: SocSource = base.kind;
  let at = base.obs.at;
  let basis = base.kind === 'telematics' ? 'telematics SoC' : 'charger SoC measurand';
  const e = input.energySinceTelematics;
  if (base.kind === 'telematics' && e && e.kwh > 0 && input.batteryKwh && input.batteryKwh > 0 && Date.parse(e.until) > Date.parse(at)) {
    const added = (e.kwh * CHARGING_EFFICIENCY / input.batteryKwh) * 100;
    soc = clampSoc(soc + added);
    source = 'telematics+energy';
    at = e.until;
    basis = `telematics SoC ${round1(base.obs.socPercent)} % + ${round1(e.kwh)} kWh delivered since (${round1(added)} % of ${input.batteryKwh} kWh at ${CHARGING_EFFICIENCY * 100} % efficiency)`;
  }
  const ageS = Math.max(0, Math.round((nowMs - Date.parse(at)) / 1000));
  const stale = ageS > staleAfterS;
  if (!stale) {
    return { socPercent: round1(soc), source, measuredAt: at, ageS, confidence: round2(TRUST[source as keyof typeof TRUST] * freshness(ageS, staleAfterS)), stale: false, estimate: false, basis };
  }

  // Stale: estimate what the trips since have used.
  const distance = input.odometerDeltaKm ?? input.plannedTripsKm;
  const distanceSource = input.odometerDeltaKm !== null ? 'odometer' : 'schedule';
  if (distance !== null && distance > 0) {
    if (input.consumptionKwhPerKm && input.batteryKwh) {
      const used = distance * input.consumptionKwhPerKm;
      const estimate = clampSoc(soc - (used / input.batteryKwh) * 100);
      return {
        socPercent: round1(estimate), source: 'estimate', measuredAt: at, ageS, confidence: round2(Math.max(0.05, 0.4 - distance / 1000)), stale: true, estimate: true,
        basis: `${basis} ${round1(soc)} % (${ageS} s old) minus ${round1(distance)} km driven (${distanceSource}) at ${input.consumptionKwhPerKm} kWh/km = ${round1(used)} kWh`,
      };
    }
    return { socPercent: round1(soc), source: 'estimate', measuredAt: at, ageS, confidence: 0.1, stale: true, estimate: true, basis: `${basis} ${round1(soc)} % (${ageS} s old); ${round1(distance)} km driven since but the vehicle's kWh/km or battery size is unknown` };
  }
  return {
    socPercent: round1(soc), source: 'estimate', measuredAt: at, ageS, confidence: round2(TRUST[source as keyof typeof TRUST] * freshness(ageS, staleAfterS)), stale: true, estimate: true,
    basis: `${basis} ${round1(soc)} % (${ageS} s old); ${distance === 0 ? `no trips driven since (${distanceSource})` : 'no distance driven since is known'}`,
  };
}

const round2 = (v: number) => Math.round(v * 100) / 100;

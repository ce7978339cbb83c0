import type { Plan } from '../planner/types.ts';
import type { DepotFleet } from '../fleet/depots.ts';
import type { Alert } from './records.ts';
import type { LiveSession } from './snapshot.ts';

/**
 * Alerts only for what needs someone to act. Pure: the controller hands in what it knows and stores the result.
 */

export interface AlertInput {
  readonly nowMs: number;
  readonly fleet: DepotFleet;
  readonly plan: Plan | null;
  /** Planner session id -> live session. */
  readonly live: ReadonlyMap<string, LiveSession>;
  readonly sessions: readonly LiveSession[];
  readonly usableChargers: ReadonlySet<string>;
  readonly chargerState: ReadonlyMap<string, { online: boolean; status: string | null; errorCode: string | null }>;
  readonly socDrops: ReadonlyMap<string, { fromPercent: number; toPercent: number; atMs: number }>;
  readonly notApplied: ReadonlyMap<string, string>;
  readonly timeZone: string;
}

const notDrawingAfterMs = 10 * 60_000;
const idleAfterMs = 60 * 60_000;

export function evaluateAlerts(input: AlertInput): Alert[] {
  const { nowMs, plan } = input;
  const clock = new Intl.DateTimeFormat('en-GB', { timeZone: input.timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const alerts: Alert[] = [];
  const slot = plan ? Math.max(0, plan.slotStartsMs.findLastIndex((s) => s <= nowMs)) : 0;
  const name = (s: LiveSession) => s.vehicleId ?? `unknown vehicle on ${s.chargerId}`;

  for (const sp of plan?.sessions ?? []) {
    if (sp.ready) continue;
    const s = input.live.get(sp.sessionId);
    const vehicleId = s?.vehicleId ?? sp.sessionId.replace(/^exp-[^:]*:/, '');
    const soc = sp.socAtDeparturePercent !== undefined ? `, ${sp.socAtDeparturePercent.toFixed(0)}% at departure` : '';
    alerts.push({
      key: `not-ready:${sp.sessionId}`, kind: 'not-ready', severity: sp.departureMs - nowMs < 3 * 3_600_000 ? 'critical' : 'warning',
      vehicleId, chargerId: sp.chargerId,
      message: `${vehicleId} will not be ready by ${clock.format(sp.departureMs)}: short ${sp.shortfallKwh.toFixed(1)} of ${sp.neededKwh.toFixed(1)} kWh${soc}`,
    });
  }

  for (const s of input.sessions) {
    const state = input.chargerState.get(s.chargerId);
    if (!input.usableChargers.has(s.chargerId)) {
      const why = state?.online === false ? 'offline' : `${state?.status ?? 'unavailable'}${state?.errorCode ? ` (${state.errorCode})` : ''}`;
      alerts.push({ key: `charger-down:${s.chargerId}`, kind: 'charger-down', severity: 'critical', vehicleId: s.vehicleId, chargerId: s.chargerId, message: `charger ${s.chargerId} is ${why} with ${name(s)} on it` });
      continue;
    }
    if (s.identifiedBy === 'unknown') {
      alerts.push({ key: `unknown-vehicle:${s.transactionId}`, kind: 'unknown-vehicle', severity: 'warning', vehicleId: null, chargerId: s.chargerId, message: `an unknown vehicle is charging on ${s.chargerId} (token ${s.idToken ?? 'none'}): charged under conservative defaults` });
    }
    const sp = plan?.sessions.find((p) => input.live.get(p.sessionId) === s);
    const plannedKw = sp?.powerKw[slot] ?? 0;
    const sinceFlowMs = nowMs - (s.lastFlowAtMs ?? s.startedAtMs);
    if (plannedKw > 1 && (s.powerKw ?? 0) < 0.2 * plannedKw && sinceFlowMs >= notDrawingAfterMs) {
      alerts.push({
        key: `not-drawing:${s.transactionId}`, kind: 'not-drawing', severity: 'warning', vehicleId: s.vehicleId, chargerId: s.chargerId,
        message: `${name(s)} on ${s.chargerId} is planned at ${plannedKw.toFixed(1)} kW but draws ${(s.powerKw ?? 0).toFixed(1)} kW (nothing for ${Math.round(sinceFlowMs / 60_000)} min)`,
      });
    }
    const remainingKwh = sp ? sp.powerKw.slice(slot).reduce((a, kw, k) => a + kw * ((plan!.slotStartsMs[slot + k + 1] - plan!.slotStartsMs[slot + k]) / 3_600_000), 0) : 0;
    if (sinceFlowMs >= idleAfterMs && remainingKwh < 0.1) {
      alerts.push({
        key: `idle-occupied:${s.chargerId}`, kind: 'idle-occupied', severity: 'warning', vehicleId: s.vehicleId, chargerId: s.chargerId,
        message: `${s.chargerId} is occupied by ${name(s)} with nothing flowing for ${Math.round(sinceFlowMs / 60_000)} min and nothing planned: free the bay`,
      });
    }
  }

  for (const [vehicleId, drop] of input.socDrops) {
    alerts.push({ key: `soc-drop:${vehicleId}:${drop.atMs}`, kind: 'soc-drop', severity: 'warning', vehicleId, chargerId: null, message: `${vehicleId}: SoC fell from ${drop.fromPercent.toFixed(0)}% to ${drop.toPercent.toFixed(0)}% while at the depot` });
  }
  for (const [chargerId, why] of input.notApplied) {
    alerts.push({ key: `profile-not-applied:${chargerId}`, kind: 'profile-not-applied', severity: 'critical', vehicleId: null, chargerId, message: `charger ${chargerId} does not apply its limit: ${why}` });
  }
  return alerts;
}

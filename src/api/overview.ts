import type { DepotController } from '../control/index.ts';
import { nextDeparture } from '../control/snapshot.ts';
import { readiness } from './control.ts';

/**
 * What the dispatcher sees at a glance, from the control loop's live state: site power now against the limit, the
 * next 24 h of the plan per vehicle with prices, the bays, and every vehicle by departure with its readiness.
 */

const horizonMs = 24 * 3_600_000;

export function depotOverview(c: DepotController, nowMs: number) {
  const fleet = c.fleet!;
  const plan = c.plan;
  const sessionsByTx = new Map([...c.sessions.values()].map((s) => [`tx-${s.transactionId}`, s]));
  const vehicleOf = (sessionId: string) => sessionsByTx.get(sessionId)?.vehicleId ?? fleet.departures.find((d) => `exp-${d.id}` === sessionId)?.vehicleId ?? null;
  const slot = plan ? Math.max(0, plan.slotStartsMs.findLastIndex((x) => x <= nowMs)) : 0;
  const sitePowerKw = [...c.sessions.values()].reduce((sum, s) => sum + (s.powerKw ?? 0), 0);

  let chart = null;
  if (plan) {
    const end = plan.slotStartsMs.findIndex((x) => x >= nowMs + horizonMs);
    const last = end < 0 ? plan.slotStartsMs.length - 1 : end;
    chart = {
      slotStarts: plan.slotStartsMs.slice(0, last + 1).map((x) => new Date(x).toISOString()),
      pricePerKwh: plan.pricePerKwh.slice(0, last),
      siteLoadKw: plan.siteLoadKw.slice(0, last),
      series: plan.sessions.map((sp) => ({ sessionId: sp.sessionId, vehicleId: vehicleOf(sp.sessionId), chargerId: sp.chargerId, kind: sp.kind, powerKw: sp.powerKw.slice(0, last) })),
      currency: plan.currency,
    };
  }

  const plannedNow = new Map(plan?.sessions.map((sp) => [sp.chargerId, sp.kind === 'plugged' ? sp.powerKw[slot] ?? 0 : null]) ?? []);
  const bays = fleet.chargers.map((ch) => {
    const state = c.chargerState.get(ch.id);
    const s = c.sessions.get(ch.id);
    return {
      chargerId: ch.id, stationId: ch.stationId, evseId: ch.evseId, circuitId: ch.circuitId, kind: ch.kind, maxPowerKw: ch.maxPowerKw,
      online: state?.online ?? false, status: state?.status ?? null, errorCode: state?.errorCode ?? null,
      vehicleId: s?.vehicleId ?? null, identifiedBy: s?.identifiedBy ?? null, transactionId: s?.transactionId ?? null,
      powerKw: s?.powerKw ?? null, energyKwh: s && s.energyKwh !== null ? s.energyKwh - s.meterStartKwh : null,
      plannedKw: s ? plannedNow.get(ch.id) ?? null : null, pendingApproval: c.pending.has(ch.id),
    };
  });

  const rows = plan ? readiness(plan, vehicleOf) : [];
  const seen = new Set(rows.map((r) => r.vehicleId));
  const vehicles = [
    ...rows.map((r) => ({ ...r, vehicleId: r.vehicleId })),
    ...fleet.vehicles.filter((v) => !seen.has(v.vehicleId)).map((v) => ({ vehicleId: v.vehicleId, sessionId: null, chargerId: null, kind: 'away' as const, departure: nextDeparture(fleet.departures, v.vehicleId, nowMs) ? new Date(nextDeparture(fleet.departures, v.vehicleId, nowMs)!.departureMs).toISOString() : null, neededKwh: null, plannedKwh: null, shortfallKwh: null, socAtDeparturePercent: null, doneAt: null, risk: 'unplanned' as const })),
  ].map((r) => {
    const dep = r.vehicleId ? nextDeparture(fleet.departures, r.vehicleId, nowMs) : null;
    const soc = r.vehicleId ? c.soc.get(r.vehicleId) : undefined;
    return {
      ...r, socNowPercent: soc?.socPercent ?? null, socAt: soc ? new Date(soc.atMs).toISOString() : null, socSource: soc?.source ?? null,
      targetSocPercent: dep ? (dep.energyNeededKwh !== null ? null : dep.targetSocPercent) : null,
      override: r.vehicleId ? c.overrides.get(r.vehicleId) ?? null : null,
    };
  }).sort((a, b) => (a.departure ?? '9').localeCompare(b.departure ?? '9'));

  return {
    depotId: fleet.depot.id, name: fleet.depot.name, timeZone: fleet.depot.timeZone, mode: c.mode, at: new Date(nowMs).toISOString(),
    gridLimitKw: fleet.depot.gridLimitKw, sitePowerKw, siteCapKw: plan?.siteCapKw ?? null, planId: c.planId, planAt: plan ? new Date(plan.nowMs).toISOString() : null,
    allReady: plan?.allReady ?? null, pendingApprovals: c.pending.size, chart, bays, vehicles,
  };
}

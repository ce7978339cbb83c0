// An independent check of a plan against the snapshot it was made for: every limit, every slot. It recomputes the
// loads from the per-session powers instead of trusting the plan's own totals, so the control loop can run it before
// pushing profiles and the tests can use it as the guarantee "no limit is exceeded".
import type { DepotSnapshot, Plan } from './types.ts';

const hourMs = 3_600_000;

export function verifyPlan(snapshot: DepotSnapshot, plan: Plan, toleranceKw = 1e-3): string[] {
  const problems: string[] = [];
  const T = plan.slotStartsMs.length - 1;
  const chargers = new Map(snapshot.chargers.map((c) => [c.id, c]));
  const parentOf = new Map(snapshot.circuits.map((c) => [c.id, c.parentId]));
  const limitOf = new Map(snapshot.circuits.map((c) => [c.id, c.maxPowerKw]));
  const load = new Map(snapshot.circuits.map((c) => [c.id, new Float64Array(T)]));
  const sessions = new Map(snapshot.sessions.map((s) => [s.id, s]));
  for (const sp of plan.sessions) {
    const s = sessions.get(sp.sessionId);
    const charger = s && chargers.get(s.chargerId);
    if (!s || !charger) { problems.push(`${sp.sessionId}: not in the snapshot`); continue; }
    const maxKw = Math.min(charger.maxPowerKw, s.vehicleMaxPowerKw ?? Number.POSITIVE_INFINITY);
    const from = Math.max(plan.nowMs, s.kind === 'expected' ? (s.arrivalMs ?? plan.nowMs) : plan.nowMs);
    for (let t = 0; t < T; t++) {
      const kw = sp.powerKw[t];
      if (kw < -toleranceKw) problems.push(`${sp.sessionId} slot ${t}: negative power ${kw}`);
      const a = plan.slotStartsMs[t], b = plan.slotStartsMs[t + 1];
      const share = Math.max(0, Math.min(b, s.departureMs) - Math.max(a, from)) / (b - a);
      if (kw > maxKw * share + toleranceKw) problems.push(`${sp.sessionId} slot ${t}: ${kw} kW over its ${maxKw * share} kW limit (charger, vehicle, presence)`);
      const minKw = charger.kind === 'AC' ? (charger.minPowerKw ?? 0) : 0;
      if (kw > toleranceKw && share === 1 && kw < Math.min(minKw, maxKw) - toleranceKw) problems.push(`${sp.sessionId} slot ${t}: ${kw} kW under the AC minimum ${minKw} kW`);
      for (let c: string | null | undefined = charger.circuitId; c; c = parentOf.get(c)) {
        const row = load.get(c);
        if (row) row[t] += kw;
      }
    }
    const delivered = sp.powerKw.reduce((acc, kw, t) => acc + kw * (plan.slotStartsMs[t + 1] - plan.slotStartsMs[t]) / hourMs, 0);
    if (Math.abs(delivered - sp.plannedKwh) > 1e-2) problems.push(`${sp.sessionId}: powers deliver ${delivered} kWh, plan says ${sp.plannedKwh}`);
  }
  const other = (t: number) => {
    let kw = 0;
    for (const step of snapshot.otherLoadKw ?? []) if (step.fromMs <= plan.slotStartsMs[t]) kw = step.loadKw;
    return kw;
  };
  for (const [id, row] of load) {
    const root = parentOf.get(id) === null;
    for (let t = 0; t < T; t++) {
      const limit = root ? Math.min(limitOf.get(id) ?? 0, snapshot.gridLimitKw) - other(t) : (limitOf.get(id) ?? 0);
      if (row[t] > Math.max(0, limit) + toleranceKw) problems.push(`circuit ${id} slot ${t}: ${row[t].toFixed(3)} kW over ${limit} kW`);
    }
  }
  return problems;
}

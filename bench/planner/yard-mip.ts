// The exact optimum of a small yard, as a mixed-integer program solved with HiGHS: the yardstick for planYard (test and
// bench only). Slot-granular: a vehicle is on at most one bay per slot, a bay holds at most one vehicle, energy only
// flows on the bay the vehicle is on, every circuit limit holds per slot. The crew works at a bay in a slot (one move,
// as planYard counts a swap) when a vehicle is plugged there other than by its driver at arrival, or unplugged there
// before its departure. Lexicographic objective: shortfall, then moves, then cost.
//
//   min  Ws·Σ s_v + Wm·Σ c_bt + Σ price_t·x_vbt
//   s.t. Σ_{b,t} x_vbt + s_v = need_v                     (every vehicle)
//        x_vbt ≤ kW(v,b)·h_t·y_vbt                        (energy only on the bay it is on; y binary)
//        Σ_b y_vbt ≤ 1,  Σ_v y_vbt ≤ 1                    (one bay per vehicle, one vehicle per bay)
//        c_bt ≥ y_vbt − y_vb(t−1)                          (a plug, unless the driver's at arrival)
//        c_bt ≥ y_vb(t−1) − y_vbt                          (an unplug while the vehicle is still here)
//        Σ_b c_bt ≤ people·⌊slot / spacing⌋               (the crew's pace), Σ c ≤ budget, no move near departure
//        Σ_{bays below c} x_vbt ≤ cap_ct                  (every circuit, every slot)
import { localTimeIn, priceAtLocal } from '../../src/energy/tariff.ts';
import type { LpSolver } from '../../src/planner/lp.ts';
import { buildYardModel, vehicleKwOn } from '../../src/planner/yard/model.ts';
import type { YardSnapshot } from '../../src/planner/yard/types.ts';

const hourMs = 3_600_000;

export interface YardMipResult {
  readonly status: string;
  readonly shortfallKwh: number;
  readonly readyCount: number;
  readonly moves: number;
  readonly energyCost: number;
  readonly ms: number;
}

export function solveYardMip(snapshot: YardSnapshot, nowMs: number, solver: LpSolver, timeLimitS = 30, withCost = false): YardMipResult {
  const m = buildYardModel(snapshot, nowMs);
  const { T, slotStartsMs: S, bays, vehicles, policy } = m;
  const slotH = (t: number) => (S[t + 1] - S[t]) / hourMs;
  const local = localTimeIn(snapshot.timeZone);
  const prices = Array.from({ length: T }, (_, t) => priceAtLocal(snapshot.tariff, local(S[t])));
  // A move outweighs any energy cost of these instances, a kWh of shortfall any number of moves they can make.
  const Ws = 10_000, Wm = 100;
  const obj: string[] = [];
  const moveObj: string[] = [];
  const rows: string[] = [];
  const bounds: string[] = [];
  const binaries: string[] = [];
  const present = (v: number, t: number) => S[t] >= vehicles[v].availableMs - 1e-6 && S[t + 1] <= vehicles[v].departureMs + 1e-6;
  const y = (v: number, b: number, t: number) => `y${v}_${b}_${t}`;
  const x = (v: number, b: number, t: number) => `x${v}_${b}_${t}`;
  const crew = (b: number, t: number) => `c${b}_${t}`;
  const usable = (v: number, b: number, t: number) => vehicles[v].compatible[b] && present(v, t);
  const byCircuit: string[][] = Array.from({ length: m.circuitIds.length * T }, () => []);
  const plugsAt: string[][] = Array.from({ length: T }, () => []);
  const unplugsAt: string[][] = Array.from({ length: T }, () => []);
  for (let v = 0; v < vehicles.length; v++) {
    const veh = vehicles[v];
    const needRow: string[] = [`+ s${v}`];
    obj.push(`+ ${Ws} s${v}`);
    let first = -1;
    for (let t = 0; t < T; t++) if (present(v, t)) { first = t; break; }
    for (let b = 0; b < bays.length; b++) {
      for (let t = 0; t < T; t++) {
        if (!usable(v, b, t)) continue;
        const capKwh = vehicleKwOn(veh.spec, bays[b]) * slotH(t);
        binaries.push(y(v, b, t));
        bounds.push(` 0 <= ${x(v, b, t)} <= ${capKwh}`);
        rows.push(` e${v}_${b}_${t}: + ${x(v, b, t)} - ${capKwh} ${y(v, b, t)} <= 0`);
        needRow.push(`+ ${x(v, b, t)}`);
        if (withCost) obj.push(`+ ${prices[t]} ${x(v, b, t)}`);
        for (let c = bays[b].circuit; c >= 0; c = m.circuitParent[c]) byCircuit[c * T + t].push(`+ ${x(v, b, t)}`);
        const prevOn = t > 0 && usable(v, b, t - 1);
        const nearDeparture = veh.departureMs - S[t] < policy.noMoveBeforeDepartureMinutes * 60_000;
        // A plug: free when the driver plugs in at arrival, or the vehicle is already on this bay.
        const driver = t === first && (veh.spec.location.kind === 'expected' || veh.onBay === b);
        if (!driver) {
          rows.push(` m${v}_${b}_${t}: + ${crew(b, t)} - ${y(v, b, t)}${prevOn ? ` + ${y(v, b, t - 1)}` : ''} >= 0`);
          if (nearDeparture) rows.push(` mn${v}_${b}_${t}: + ${y(v, b, t)}${prevOn ? ` - ${y(v, b, t - 1)}` : ''} <= 0`);
        }
        // An unplug at the start of slot t while the vehicle is still here.
        if (prevOn) {
          rows.push(` u${v}_${b}_${t}: + ${crew(b, t)} - ${y(v, b, t - 1)} + ${y(v, b, t)} >= 0`);
          if (nearDeparture) rows.push(` un${v}_${b}_${t}: + ${y(v, b, t - 1)} - ${y(v, b, t)} <= 0`);
        }
      }
    }
    rows.push(` need${v}: ${needRow.join(' ')} = ${veh.needKwh}`);
    // Valid cuts that tighten the relaxation a lot: whether the vehicle is on any bay (W) only rises by a plug and
    // falls by an unplug, and each of those needs the crew at some bay in that slot.
    const on = (t: number) => bays.map((_, b) => b).filter((b) => usable(v, b, t)).map((b) => y(v, b, t));
    for (let t = Math.max(0, first); first >= 0 && t < T && present(v, t); t++) {
      const now = on(t), before = t > first ? on(t - 1) : [];
      const freePlug = t === first && veh.spec.location.kind !== 'lot';
      if (!freePlug && now.length > 0) {
        rows.push(` q${v}_${t}: + q${v}_${t}${now.map((n) => ` - ${n}`).join('')}${before.map((n) => ` + ${n}`).join('')} >= 0`);
        bounds.push(` 0 <= q${v}_${t} <= 1`);
        plugsAt[t].push(`q${v}_${t}`);
      }
      if (before.length > 0) {
        rows.push(` r${v}_${t}: + r${v}_${t}${before.map((n) => ` - ${n}`).join('')}${now.map((n) => ` + ${n}`).join('')} >= 0`);
        bounds.push(` 0 <= r${v}_${t} <= 1`);
        unplugsAt[t].push(`r${v}_${t}`);
      }
    }
  }
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < bays.length; b++) {
      const row = vehicles.map((_, v) => v).filter((v) => usable(v, b, t)).map((v) => `+ ${y(v, b, t)}`);
      if (row.length > 1) rows.push(` bay${b}_${t}: ${row.join(' ')} <= 1`);
    }
    for (let v = 0; v < vehicles.length; v++) {
      const row = bays.map((_, b) => b).filter((b) => usable(v, b, t)).map((b) => `+ ${y(v, b, t)}`);
      if (row.length > 1) rows.push(` veh${v}_${t}: ${row.join(' ')} <= 1`);
    }
    const pace = Math.max(1, Math.floor(policy.people)) * Math.max(1, Math.floor((S[t + 1] - S[t]) / 60_000 / Math.max(1, policy.minMinutesBetweenMoves)));
    const crewAt = bays.map((_, b) => `+ ${crew(b, t)}`).join(' ');
    rows.push(` pace${t}: ${crewAt} <= ${pace}`);
    if (plugsAt[t].length > 0) rows.push(` qc${t}: ${crewAt}${plugsAt[t].map((q) => ` - ${q}`).join('')} >= 0`);
    if (unplugsAt[t].length > 0) rows.push(` rc${t}: ${crewAt}${unplugsAt[t].map((r) => ` - ${r}`).join('')} >= 0`);
    for (let b = 0; b < bays.length; b++) { moveObj.push(`+ ${Wm} ${crew(b, t)}`); bounds.push(` 0 <= ${crew(b, t)} <= 1`); }
    for (let c = 0; c < m.circuitIds.length; c++) {
      const row = byCircuit[c * T + t];
      if (row.length > 0) rows.push(` c${c}_${t}: ${row.join(' ')} <= ${m.circuitLimitKw[c * T + t] * slotH(t)}`);
    }
  }
  const allMoves = bays.flatMap((_, b) => Array.from({ length: T }, (_, t) => `+ ${crew(b, t)}`));
  rows.push(` budget: ${allMoves.join(' ')} <= ${Math.max(0, policy.movesPerShift - (snapshot.movesDoneThisShift ?? 0))}`);
  const wrap = (terms: string[]) => { const out: string[] = []; for (let k = 0; k < terms.length; k += 10) out.push('  ' + terms.slice(k, k + 10).join(' ')); return out; };
  const lpText = (objective: string[], extraRows: string[], extraBounds: string[]) =>
    ['Minimize', ' obj:', ...wrap(objective), 'Subject To', ...rows, ...extraRows, 'Bounds', ...bounds, ...extraBounds, 'Binary', ...wrap(binaries), 'End'].join('\n');
  const t0 = performance.now();
  // Two phases make the optimum provable in seconds where one weighted objective is not: first the least shortfall;
  // when that is zero, every vehicle with a need is plugged at some point, so in any slot the vehicles present beyond
  // the bays each cost a move of their own (an unplug before that slot or a plug after it): a lower bound on the moves.
  const shortObj = obj.filter((term) => / s\d+$/.test(term));
  const first = solver.solve(lpText(shortObj, [], []), { time_limit: timeLimitS, mip_rel_gap: 1e-6 });
  let result = first;
  const firstShort = vehicles.reduce((a, _, v) => a + Math.max(0, first.Columns[`s${v}`]?.Primal ?? 0), 0);
  if (first.Status === 'Optimal' && firstShort <= 1e-6) {
    let bound = 0;
    for (let t = 0; t < T; t++) {
      let here = 0;
      for (let v = 0; v < vehicles.length; v++) if (present(v, t) && vehicles[v].needKwh > 1e-9) here++;
      bound = Math.max(bound, here - bays.length);
    }
    const zero = vehicles.map((_, v) => ` s${v} = 0`);
    result = solver.solve(lpText([...moveObj, ...obj.filter((term) => !shortObj.includes(term))], bound > 0 ? [` lb: ${allMoves.join(' ')} >= ${bound}`] : [], zero), { time_limit: timeLimitS, mip_rel_gap: 1e-6 });
  } else {
    result = solver.solve(lpText([...obj, ...moveObj], [], []), { time_limit: timeLimitS, mip_rel_gap: 1e-6 });
  }
  const ms = performance.now() - t0;
  const col = (name: string) => result.Columns[name]?.Primal ?? 0;
  let shortfallKwh = 0, readyCount = 0, moves = 0, energyCost = 0;
  for (let v = 0; v < vehicles.length; v++) {
    const s = Math.max(0, col(`s${v}`));
    shortfallKwh += s;
    if (s <= 1e-3) readyCount++;
  }
  for (const name of Object.keys(result.Columns)) {
    if (name.startsWith('c') && col(name) > 0.5) moves++;
    if (name.startsWith('x')) energyCost += col(name) * prices[Number(name.split('_')[2])];
  }
  return { status: result.Status, shortfallKwh, readyCount, moves, energyCost, ms };
}

// The night played forward slot by slot: arrivals take a bay (or wait in the lot), the crew swaps a vehicle that has
// what it needs for the next one within the move policy, and power is shared greedily within every circuit limit.
// The result is a set of stints that is feasible by construction (this schedule is a witness), which the energy
// planner then re-plans for cost within the same windows. The same engine runs the baselines with simpler rules.
import { shiftKeyFn, vehicleKwOn, type BayInfo, type VehicleInfo, type YardModel } from './model.ts';

const hourMs = 3_600_000;
const minuteMs = 60_000;
const eps = 1e-6;

export interface SimStrategy {
  /** Bay at arrival: `fit` (DC for urgent needs, AC for the rest, power fit, previous bay kept) or `first` (first free compatible bay). */
  readonly choose: 'fit' | 'first';
  /** `none`: nobody is moved; `fifo`: a vehicle at its target makes room for the next in line from the lot; `smart`: by urgency, within the gain rule. */
  readonly moves: 'none' | 'fifo' | 'smart';
  /** Bay each vehicle had in the previous plan (or was told at arrival): kept when still as good. */
  readonly previousBay?: ReadonlyMap<string, string>;
}

export type StintOrigin =
  | { readonly kind: 'present' }
  | { readonly kind: 'arrival' }
  | { readonly kind: 'lot' }
  | { readonly kind: 'bay'; readonly bay: number };

export interface SimStint {
  readonly v: number;
  readonly b: number;
  readonly fromMs: number;
  toMs: number;
  /** Energy the simulation delivered in this stint, kWh. */
  kwh: number;
  readonly origin: StintOrigin;
  /** The vehicle that made room on this bay, and when it had what it needed. */
  readonly out?: { readonly v: number; readonly readyAtMs: number };
  readonly isMove: boolean;
}

export interface SimResult {
  readonly stints: readonly SimStint[];
  readonly moves: number;
  /** When each vehicle started waiting in the lot without a bay (NaN if never). */
  readonly waitingFromMs: Float64Array;
  /** Why a waiting vehicle was not moved, the last reason seen. */
  readonly waitReason: readonly (string | undefined)[];
  readonly readyAtMs: Float64Array;
}

const AWAY = 0, LOT = 1, BAY = 2, GONE = 3;

/** The power a vehicle can count on at a bay for planning (its share of the bay's circuit), kW. */
const planningKw = (v: VehicleInfo, b: BayInfo) => Math.min(vehicleKwOn(v.spec, b), b.shareKw);

/** AC or DC for a vehicle available from `fromMs`: DC when AC could not bring it its need in time (a margin kept). */
export function preferredKind(m: YardModel, v: VehicleInfo, fromMs: number): 'AC' | 'DC' {
  let ac = 0, dc = false;
  m.bays.forEach((b, j) => {
    if (!v.compatible[j]) return;
    if (b.kind === 'AC') ac = Math.max(ac, planningKw(v, b));
    else dc = true;
  });
  if (!dc) return 'AC';
  if (ac === 0) return 'DC';
  const hours = Math.max(0, v.departureMs - fromMs) / hourMs;
  return v.needKwh > 0.85 * ac * hours ? 'DC' : 'AC';
}

export function simulate(m: YardModel, strategy: SimStrategy): SimResult {
  const { T, slotStartsMs: S, bays, vehicles, policy, circuitParent } = m;
  const n = vehicles.length, B = bays.length, C = m.circuitIds.length;
  const state = new Int8Array(n);
  const rem = Float64Array.from(vehicles, (v) => v.needKwh);
  const readyAtMs = new Float64Array(n).fill(Number.NaN);
  const waitingFromMs = new Float64Array(n).fill(Number.NaN);
  const waitReason: (string | undefined)[] = new Array(n).fill(undefined);
  const open = new Int32Array(n).fill(-1);
  const bayOcc = new Int32Array(B).fill(-1);
  /** When each bay was last left, so nobody is plugged in before the vehicle before has gone. */
  const bayFreeFromMs = new Float64Array(B).fill(Number.NEGATIVE_INFINITY);
  const stints: SimStint[] = [];
  const people = Math.max(1, Math.floor(policy.people));
  const lastMoveMs = new Float64Array(people).fill(Number.NEGATIVE_INFINITY);
  const spacingMs = policy.minMinutesBetweenMoves * minuteMs;
  const noMoveMs = policy.noMoveBeforeDepartureMinutes * minuteMs;
  const shiftOf = shiftKeyFn(m.snapshot.timeZone, policy.shiftStarts);
  const shiftMoves = new Map<string, number>([[shiftOf(m.nowMs), Math.max(0, m.snapshot.movesDoneThisShift ?? 0)]]);
  let moves = 0;

  const openStint = (v: number, b: number, fromMs: number, origin: StintOrigin, isMove: boolean, out?: SimStint['out']) => {
    open[v] = stints.length;
    stints.push({ v, b, fromMs, toMs: vehicles[v].departureMs, kwh: 0, origin, isMove, ...(out ? { out } : {}) });
    bayOcc[b] = v;
    state[v] = BAY;
  };
  const closeStint = (v: number, atMs: number, next: number) => {
    const s = stints[open[v]];
    s.toMs = Math.min(s.toMs, atMs);
    bayOcc[s.b] = -1;
    bayFreeFromMs[s.b] = s.toMs;
    open[v] = -1;
    state[v] = next;
  };

  for (let v = 0; v < n; v++) {
    const veh = vehicles[v];
    if (veh.departureMs <= m.nowMs) { state[v] = GONE; continue; }
    if (rem[v] <= eps) readyAtMs[v] = m.nowMs;
    if (veh.onBay >= 0) openStint(v, veh.onBay, m.nowMs, { kind: 'present' }, false);
    // An expected vehicle is plugged by its driver at arrival, even when that is now; one in the lot needs the crew.
    else state[v] = veh.spec.location.kind === 'expected' ? AWAY : LOT;
    if (state[v] === LOT) waitingFromMs[v] = m.nowMs;
  }

  const bayOrder = (a: number, b: number) => a - b;
  const headroom = new Float64Array(C);
  const order: number[] = [];
  /** Bay for a vehicle plugging in at `atMs` from a set of free bays: strategy `fit` or `first`. */
  const chooseAtArrival = (v: number, atMs: number): number => {
    const veh = vehicles[v];
    const free: number[] = [];
    for (let b = 0; b < B; b++) if (bayOcc[b] < 0 && veh.compatible[b]) free.push(b);
    if (free.length === 0) return -1;
    if (strategy.choose === 'first') return free.sort(bayOrder)[0];
    return bestBay(v, atMs, free, preferredKind(m, veh, atMs));
  };
  const estimateKwh = (v: number, b: number, fromMs: number) => planningKw(vehicles[v], bays[b]) * Math.max(0, vehicles[v].departureMs - fromMs) / hourMs;
  /** Among candidate bays: one where it can be ready first, then the preferred kind, its previous bay, the closest power fit. */
  const bestBay = (v: number, atMs: number, candidates: number[], kind: 'AC' | 'DC'): number => {
    const veh = vehicles[v];
    const prev = strategy.previousBay?.get(veh.id) ?? veh.spec.plannedBayId;
    const vmax = (b: BayInfo) => (b.kind === 'AC' ? veh.spec.acMaxPowerKw : veh.spec.dcMaxPowerKw);
    let best = -1;
    let bestKey: number[] = [];
    for (const b of candidates) {
      const bay = bays[b];
      const key = [
        estimateKwh(v, b, atMs) >= rem[v] - eps ? 1 : 0,
        bay.kind === kind ? 1 : 0,
        bay.id === prev ? 1 : 0,
        -Math.abs(bay.maxKw - vmax(bay)),
        estimateKwh(v, b, atMs),
      ];
      let better = best < 0;
      for (let k = 0; !better && k < key.length; k++) {
        if (key[k] > bestKey[k] + eps) better = true;
        else if (key[k] < bestKey[k] - eps) break;
      }
      if (better) { best = b; bestKey = key; }
    }
    return best;
  };

  for (let t = 0; t < T; t++) {
    const tau = S[t], tauEnd = S[t + 1];
    // Departures.
    for (let v = 0; v < n; v++) {
      if (state[v] === GONE || state[v] === AWAY || vehicles[v].departureMs > tau) continue;
      if (state[v] === BAY) closeStint(v, vehicles[v].departureMs, GONE);
      else state[v] = GONE;
    }
    // Arrivals in this slot, in order of arrival: a free bay, else the lot.
    const arriving: number[] = [];
    for (let v = 0; v < n; v++) if (state[v] === AWAY && vehicles[v].availableMs < tauEnd) arriving.push(v);
    arriving.sort((a, b) => vehicles[a].availableMs - vehicles[b].availableMs || a - b);
    for (const v of arriving) {
      const at = vehicles[v].availableMs;
      const b = chooseAtArrival(v, at);
      if (b >= 0) openStint(v, b, at, { kind: 'arrival' }, false);
      else { state[v] = LOT; waitingFromMs[v] = at; waitReason[v] = 'no free compatible bay at arrival'; }
    }
    if (strategy.moves !== 'none') planMoves(tau, tauEnd);
    allocate(t, tau, tauEnd);
    // Vehicles done part way through the slot make room then, not at the next slot: the crew reads minutes.
    if (strategy.moves !== 'none') {
      const added = planMoves(tau, tauEnd, true);
      if (added.length > 0) allocate(t, tau, tauEnd, added);
    }
  }

  /**
   * Moves that can start in [tau, tauEnd); returns the vehicles plugged. `midSlot`: after the slot's power was shared,
   * so only vehicles from the lot (one on a bay already drew this slot's energy there).
   */
  function planMoves(tau: number, tauEnd: number, midSlot = false): number[] {
    const plugged: number[] = [];
    const waiting: number[] = [];
    for (let v = 0; v < n; v++) {
      if (rem[v] <= eps) continue;
      if (state[v] === LOT) waiting.push(v);
      else if (strategy.moves === 'smart' && state[v] === BAY && !midSlot) {
        // On a bay where it cannot be ready: a faster bay is worth a move.
        const s = stints[open[v]];
        if (estimateKwh(v, s.b, tau) < rem[v] - eps && estimateKwh(v, s.b, tau) < vehicles[v].needKwh) waiting.push(v);
      }
    }
    if (waiting.length === 0) return plugged;
    const laxity = (v: number) => {
      let kw = 0;
      for (let b = 0; b < B; b++) if (vehicles[v].compatible[b]) kw = Math.max(kw, planningKw(vehicles[v], bays[b]));
      return (vehicles[v].departureMs - tau) / hourMs - rem[v] / Math.max(kw, eps);
    };
    if (strategy.moves === 'fifo') waiting.sort((a, b) => (waitingFromMs[a] || 0) - (waitingFromMs[b] || 0) || a - b);
    else {
      const lax = new Map(waiting.map((v) => [v, laxity(v)]));
      waiting.sort((a, b) => vehicles[b].priority - vehicles[a].priority || (lax.get(a) ?? 0) - (lax.get(b) ?? 0) || a - b);
    }
    for (const v of waiting) {
      const veh = vehicles[v];
      if (!veh.compatible.includes(true)) { waitReason[v] = `no bay here has a connector it can use (${veh.spec.connectorTypes.join(', ') || 'none listed'})`; continue; }
      const fromBay = state[v] === BAY ? stints[open[v]].b : -1;
      // The earliest a person is free, not before the vehicle is here.
      let person = 0;
      for (let p = 1; p < people; p++) if (lastMoveMs[p] < lastMoveMs[person]) person = p;
      const at = Math.max(tau, veh.availableMs, lastMoveMs[person] + spacingMs);
      if (at >= tauEnd) { waitReason[v] = 'no one free to move it yet (people and minutes between moves)'; continue; }
      // The move can start once the bay's vehicle is done, within this slot.
      const atOf = (b: number) => (bayOcc[b] >= 0 ? Math.max(at, readyAtMs[bayOcc[b]]) : Math.max(at, bayFreeFromMs[b]));
      const candidates: number[] = [];
      let reason: string | undefined;
      for (let b = 0; b < B; b++) {
        if (!veh.compatible[b] || b === fromBay) continue;
        const occ = bayOcc[b];
        if (occ >= 0 && rem[occ] > eps) continue;
        const atB = atOf(b);
        if (atB >= tauEnd) continue;
        if (veh.departureMs - atB < noMoveMs || (occ >= 0 && vehicles[occ].departureMs - atB < noMoveMs)) {
          reason = `no move within ${policy.noMoveBeforeDepartureMinutes} min of its departure`;
          continue;
        }
        if ((shiftMoves.get(shiftOf(atB)) ?? 0) >= policy.movesPerShift) { reason = `move budget of the shift used (${policy.movesPerShift})`; continue; }
        candidates.push(b);
      }
      if (veh.departureMs - at < noMoveMs) reason = `no move within ${policy.noMoveBeforeDepartureMinutes} min of its departure`;
      if (reason && candidates.length === 0) { waitReason[v] = reason; continue; }
      if (candidates.length === 0) { waitReason[v] ??= 'no compatible bay free or done yet'; continue; }
      let b: number;
      if (strategy.moves === 'fifo') {
        // The fixed rule: the bay freed first (ties by bay order), whatever its kind.
        candidates.sort((x, y) => (bayOcc[x] < 0 ? 0 : readyAtMs[bayOcc[x]]) - (bayOcc[y] < 0 ? 0 : readyAtMs[bayOcc[y]]) || x - y);
        b = candidates[0];
      } else {
        b = bestBay(v, at, candidates, preferredKind(m, veh, at));
        const gain = estimateKwh(v, b, at) - (fromBay >= 0 ? estimateKwh(v, fromBay, at) : 0);
        const readyThere = estimateKwh(v, b, at) >= rem[v] - eps;
        // A bay where it cannot be ready: wait for a better one unless none of its compatible bays could do it.
        let anyReady = false;
        for (let j = 0; j < B && !anyReady; j++) if (veh.compatible[j] && estimateKwh(v, j, at) >= rem[v] - eps) anyReady = true;
        if (!readyThere && anyReady) { waitReason[v] = 'waiting for a bay where it can be ready'; continue; }
        if (!readyThere && gain < policy.minGainKwhPerMove) { waitReason[v] = `a move would bring under ${policy.minGainKwhPerMove} kWh`; continue; }
        if (fromBay >= 0 && !readyThere) continue;
      }
      const occ = bayOcc[b];
      const atB = atOf(b);
      const out = occ >= 0 ? { v: occ, readyAtMs: readyAtMs[occ] } : undefined;
      if (occ >= 0) closeStint(occ, atB, LOT);
      if (fromBay >= 0) closeStint(v, atB, LOT);
      openStint(v, b, atB, fromBay >= 0 ? { kind: 'bay', bay: fromBay } : { kind: 'lot' }, true, out);
      lastMoveMs[person] = atB;
      const key = shiftOf(atB);
      shiftMoves.set(key, (shiftMoves.get(key) ?? 0) + 1);
      moves++;
      plugged.push(v);
      waitReason[v] = undefined;
    }
    return plugged;
  }

  /** Shares slot t's limits out; with `only`, just to those vehicles, within what an earlier pass left. */
  function allocate(t: number, tau: number, tauEnd: number, only?: readonly number[]): void {
    const hours = (tauEnd - tau) / hourMs;
    if (!only) for (let c = 0; c < C; c++) headroom[c] = m.circuitLimitKw[c * T + t] * hours;
    // Bays someone in the lot could use: their vehicles finish first, so the bay turns over.
    const wanted = new Uint8Array(B);
    for (let v = 0; v < n; v++) {
      if (state[v] !== LOT || rem[v] <= eps) continue;
      for (let b = 0; b < B; b++) if (vehicles[v].compatible[b]) wanted[b] = 1;
    }
    order.length = 0;
    for (const v of only ?? vehicles.keys()) if (state[v] === BAY && rem[v] > eps) order.push(v);
    const lax = new Float64Array(n);
    for (const v of order) {
      const b = stints[open[v]].b;
      lax[v] = (vehicles[v].departureMs - tau) / hourMs - rem[v] / Math.max(eps, vehicleKwOn(vehicles[v].spec, bays[b]));
    }
    const smart = strategy.moves === 'smart';
    order.sort((a, b) => {
      if (smart) {
        const wa = wanted[stints[open[a]].b], wb = wanted[stints[open[b]].b];
        if (wa !== wb) return wb - wa;
      }
      return vehicles[b].priority - vehicles[a].priority || lax[a] - lax[b] || a - b;
    });
    for (const v of order) {
      const s = stints[open[v]];
      const from = Math.max(s.fromMs, tau), to = Math.min(vehicles[v].departureMs, tauEnd);
      if (to <= from) continue;
      let full = vehicleKwOn(vehicles[v].spec, bays[s.b]) * (to - from) / hourMs;
      for (let c = bays[s.b].circuit; c >= 0; c = circuitParent[c]) full = Math.min(full, headroom[c]);
      const give = Math.min(rem[v], full);
      if (give <= eps) continue;
      for (let c = bays[s.b].circuit; c >= 0; c = circuitParent[c]) headroom[c] -= give;
      const before = rem[v];
      rem[v] -= give;
      s.kwh += give;
      if (rem[v] <= eps) {
        rem[v] = 0;
        // Done part way through the slot, at the pace it drew; whole minutes, as the crew reads them.
        readyAtMs[v] = Math.min(to, Math.ceil((from + (to - from) * Math.min(1, before / full)) / minuteMs) * minuteMs);
      }
    }
  }

  return { stints, moves, waitingFromMs, waitReason, readyAtMs };
}

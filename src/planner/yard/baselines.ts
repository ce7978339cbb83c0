// What depots do without a yard planner, on the same input and through the same energy planner, so the comparison
// is only about bays and moves: "first come, first plugged, no moves" and "moves by a fixed rule" (a vehicle at its
// target makes room for the next in line from the lot, whatever the bay's kind).
import { buildYardModel } from './model.ts';
import { assemble } from './plan-yard.ts';
import { simulate } from './simulate.ts';
import type { YardPlan, YardSnapshot } from './types.ts';

export type YardStrategy = (snapshot: YardSnapshot, nowMs: number) => YardPlan;

export const firstComeNoMoves: YardStrategy = (snapshot, nowMs) => {
  const m = buildYardModel(snapshot, nowMs);
  return assemble(m, simulate(m, { choose: 'first', moves: 'none' }));
};

export const fixedRuleMoves: YardStrategy = (snapshot, nowMs) => {
  const m = buildYardModel(snapshot, nowMs);
  return assemble(m, simulate(m, { choose: 'first', moves: 'fifo' }));
};

export const yardBaselines: readonly [string, YardStrategy][] = [
  ['first come, no moves', firstComeNoMoves],
  ['fixed rule (unplug at target)', fixedRuleMoves],
];

// The yard planner (issue 9): bays, yard moves and one joint energy plan. Pure, like the energy planner.
export { planYard, bayFor, type PlanYardOptions } from './plan-yard.ts';
export { defaultMovePolicy, yardChargerSpecs, sharedCircuitId } from './model.ts';
export { yardBaselines } from './baselines.ts';
export type * from './types.ts';
export { connectorTypes } from './types.ts';

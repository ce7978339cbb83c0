// The planner's public surface for the control loop, the CLI and the simulator.
export { plan } from './plan.ts';
export { verifyPlan } from './verify.ts';
export { PlannerInputError } from './problem.ts';
export type * from './types.ts';

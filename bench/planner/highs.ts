// Loads HiGHS (Wasm) for the LP oracle; kept out of src/planner so the planner stays free of module side effects.
import { createRequire } from 'node:module';
import type { LpSolver } from '../../src/planner/lp.ts';

const require = createRequire(import.meta.url);

export async function loadHighs(): Promise<LpSolver> {
  const loader = require('highs') as () => Promise<LpSolver>;
  return loader();
}

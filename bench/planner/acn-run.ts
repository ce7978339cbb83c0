// The ACN-Caltech replay alone (npm run bench:planner runs it after the other scenarios): node bench/planner/acn-run.ts [flags].
import { loadHighs } from './highs.ts';
import { acnUsage, parseAcnFlags, runAcnReplay } from './acn.ts';

const args = process.argv.slice(2);
if (args.includes('--help')) {
  console.log(`Usage: node bench/planner/acn-run.ts ${acnUsage}`);
  process.exit(0);
}
await runAcnReplay(parseAcnFlags(args), await loadHighs());

// `npm run bench`: every benchmark in turn, each in its own process so one's heap and sockets don't skew the next.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const benches = ['planner', 'ocpp', 'telematics', 'sim', 'dashboard'];
let failed = 0;
for (const name of benches) {
  console.log(`\n=== bench:${name}`);
  const result = spawnSync(process.execPath, [path.join(import.meta.dirname, `${name}.ts`), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.log(`bench:${name} failed (exit ${result.status ?? result.signal})`);
    failed++;
  }
}
process.exitCode = failed === 0 ? 0 : 1;

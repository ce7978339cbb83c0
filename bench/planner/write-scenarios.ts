// Writes the generated scenario files in scenarios/ (run: node bench/planner/write-scenarios.ts).
import { writeFileSync } from 'node:fs';
import { randomDepot, referenceDepot } from './scenarios.ts';
import { referenceYard } from './yard-scenarios.ts';

const dir = new URL('../../scenarios/', import.meta.url);
const write = (name: string, json: unknown) => writeFileSync(new URL(name, dir), JSON.stringify(json, null, 2) + '\n');

write('reference-depot.json', referenceDepot());
write('reference-depot-starved.json', referenceDepot({ gridLimitKw: 160, name: 'reference-depot-starved' }));
write('three-level-1000.json', randomDepot(1000, { sessions: 1000, levels: 3, fanout: 4, tightness: 0.45 }));
write('reference-depot-yard.json', referenceYard());
console.log('wrote scenarios/reference-depot.json, reference-depot-starved.json, three-level-1000.json, reference-depot-yard.json');

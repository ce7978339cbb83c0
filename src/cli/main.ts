import { UsageError, type Command } from './command.ts';
import { startCommand } from './commands/start.ts';
import { planCommand } from './commands/plan.ts';
import { importCommand } from './commands/import.ts';
import { demoCommand } from './commands/demo.ts';
import { simulateCommand } from './commands/simulate.ts';

/** Every subcommand, in the order `voltyard --help` lists them. */
const commands: readonly Command[] = [
  startCommand,
  planCommand,
  importCommand,
  demoCommand,
  simulateCommand,
];

const overview = () => [
  'voltyard — depot charging orchestrator for electric fleets',
  '',
  'Usage: voltyard <command> [options]     voltyard <command> --help for its options',
  '',
  'Commands:',
  ...commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`),
].join('\n');

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(overview());
    return name ? 0 : 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`voltyard: unknown command "${name}"\n\n${overview()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`voltyard ${name}: ${err.message}\n\n${command.usage}`);
      return 2;
    }
    throw err;
  }
}

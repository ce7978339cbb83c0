// Process entry for bin/voltyard: runs the CLI and turns its result into the exit code.
import { main } from './main.ts';

process.on('unhandledRejection', (err) => {
  console.error('voltyard: unhandled rejection', err);
  process.exitCode = 1;
});
main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err) => {
  console.error('voltyard:', err instanceof Error ? err.stack ?? err.message : err);
  process.exitCode = 1;
});

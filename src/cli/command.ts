/** One `voltyard <name>` subcommand. `run` returns the process exit code; it never calls process.exit itself. */
export interface Command {
  readonly name: string;
  /** One line shown by `voltyard --help`. */
  readonly summary: string;
  /** The whole text shown by `voltyard <name> --help`. */
  readonly usage: string;
  run(args: readonly string[]): Promise<number>;
}

/** A usage mistake: the CLI prints the message and the command's usage, and exits 2. */
export class UsageError extends Error {}

/** Splits `--flag`, `--key value` and `--key=value` from positionals; unknown flags are the caller's to reject. */
export function parseArgs(args: readonly string[], valued: readonly string[] = []): { flags: Map<string, string | true>; positionals: string[] } {
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) { positionals.push(arg); continue; }
    const eq = arg.indexOf('=');
    if (eq > 0) { flags.set(arg.slice(2, eq), arg.slice(eq + 1)); continue; }
    const key = arg.slice(2);
    if (valued.includes(key)) {
      const value = args[i + 1];
      if (value === undefined) throw new UsageError(`--${key} needs a value`);
      flags.set(key, value);
      i++;
    } else {
      flags.set(key, true);
    }
  }
  return { flags, positionals };
}

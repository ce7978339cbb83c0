// The two servers the bench compares, each a child process so its resident memory and CPU time are its own:
// Voltyard itself (`bin/voltyard start`) and the bare `ws` echo server. Both get the hard open-file limit.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

export interface ServerChild {
  readonly name: string;
  readonly pid: number;
  /** Where stations connect; the station id is appended. */
  readonly stationUrl: string;
  /** Resident set size now, MB (VmRSS). */
  rssMb(): number;
  /** Highest resident set size since start, MB (VmHWM). */
  peakRssMb(): number;
  /**
   * User + system CPU seconds used so far, the system (kernel) part, and per kind of thread: the main (JavaScript)
   * thread, worker threads (Voltyard's SQLite writer) and V8's helpers (garbage collection, compilation).
   */
  cpuSeconds(): CpuSeconds;
  /** Lines the server wrote to stdout/stderr (its warnings and errors at VOLTYARD_LOG_LEVEL=warn). */
  output(): string[];
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it ended, how long shutdown took and when (ms since epoch). */
  stop(graceMs?: number): Promise<{ exit: string; ms: number; at: number }>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** `ulimit -n` soft and hard limits of this process. */
export function openFileLimits(): { soft: number; hard: number } {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files')) ?? '';
  const [soft, hard] = line.replace('Max open files', '').trim().split(/\s+/).map((v) => (v === 'unlimited' ? Infinity : Number(v)));
  return { soft, hard };
}

function procStatusKb(pid: number, field: string): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
    return line ? Number(line.split(/\s+/)[1]) : NaN;
  } catch {
    return NaN;
  }
}

const clockTicks = 100; // getconf CLK_TCK on Linux

function ticksOf(statPath: string): { user: number; system: number } {
  const stat = readFileSync(statPath, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]), system: Number(fields[12]) };
}

export interface CpuSeconds { total: number; system: number; main: number; workers: number; v8: number }

/**
 * The main thread is the one whose id is the process id: it runs all JavaScript, so it is what saturates first.
 * Node names its worker threads "WorkerThread" and V8's platform threads "V8Worker"; a thread that ended since the
 * last reading is missing from the per-thread figures (the total still has it).
 */
function cpuSecondsOf(pid: number): CpuSeconds {
  try {
    const all = ticksOf(`/proc/${pid}/stat`);
    const byKind = { main: 0, workers: 0, v8: 0 };
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const t = ticksOf(`/proc/${pid}/task/${tid}/stat`);
        const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        const kind = tid === String(pid) ? 'main' : comm === 'WorkerThread' ? 'workers' : comm === 'V8Worker' ? 'v8' : null;
        if (kind) byKind[kind] += (t.user + t.system) / clockTicks;
      } catch {
        // The thread ended between listing and reading.
      }
    }
    return { total: (all.user + all.system) / clockTicks, system: all.system / clockTicks, ...byKind };
  } catch {
    return { total: NaN, system: NaN, main: NaN, workers: NaN, v8: NaN };
  }
}

/** Runs `command` with the soft open-file limit raised to the hard one (a child may do that; thousands of sockets need it). */
function spawnWithFileLimit(command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn('bash', ['-c', 'ulimit -Sn "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'bash', command, ...args], {
    env, stdio: ['ignore', 'pipe', 'pipe'], cwd: root,
  });
}

function wrap(name: string, child: ChildProcess, stationUrl: string, lines: string[]): ServerChild {
  const pid = child.pid!;
  let exited: string | null = null;
  let exitedAt = NaN;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    exited = signal ?? `exit ${code}`;
    exitedAt = performance.timeOrigin + performance.now();
    resolve();
  }));
  return {
    name, pid, stationUrl,
    rssMb: () => procStatusKb(pid, 'VmRSS') / 1024,
    peakRssMb: () => procStatusKb(pid, 'VmHWM') / 1024,
    cpuSeconds: () => cpuSecondsOf(pid),
    output: () => lines,
    async stop(graceMs = 15_000) {
      const t0 = performance.now();
      if (exited === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exitedPromise;
        clearTimeout(killer);
      }
      return { exit: exited ?? 'unknown', ms: performance.now() - t0, at: exitedAt };
    },
  };
}

/** Keeps the child's output lines (bounded) so its warnings can be shown and a failed start explained. */
function collectLines(child: ChildProcess, lines: string[], max = 2000): void {
  for (const stream of [child.stdout!, child.stderr!]) {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop()!;
      for (const p of parts) if (p.trim() !== '' && lines.length < max) lines.push(p);
    });
  }
}

async function waitUntil(ready: () => Promise<boolean>, child: ChildProcess, name: string, lines: string[], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before listening:\n${lines.slice(-20).join('\n')}`);
    }
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not listen within ${timeoutMs} ms:\n${lines.slice(-20).join('\n')}`);
}

export async function startEchoServer(): Promise<ServerChild> {
  const port = await freePort();
  const child = spawnWithFileLimit(path.join(root, 'scripts/node24'), [path.join(import.meta.dirname, 'echo-server.ts'), String(port)], process.env);
  const lines: string[] = [];
  collectLines(child, lines);
  await waitUntil(async () => lines.some((l) => l.startsWith('listening')), child, 'echo server', lines, 30_000);
  return wrap('echo', child, `ws://127.0.0.1:${port}/ocpp/`, lines);
}

export interface VoltyardOptions {
  dataDir: string;
  adminKey: string;
  /** Directory for a V8 CPU profile of the server (written when it exits). */
  cpuProfDir?: string;
}

export async function startVoltyardServer(options: VoltyardOptions): Promise<ServerChild & { httpUrl: string }> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    VOLTYARD_PORT: String(port),
    VOLTYARD_HOST: '127.0.0.1',
    VOLTYARD_DATA_DIR: options.dataDir,
    VOLTYARD_UNKNOWN_STATIONS: 'accept',
    VOLTYARD_ADMIN_KEY: options.adminKey,
    VOLTYARD_LOG_LEVEL: 'warn',
  };
  delete env.VOLTYARD_CONFIG;
  delete env.VOLTYARD_DATABASE_URL;
  // Profiling runs what bin/voltyard runs (scripts/node24 src/cli/voltyard.ts) with node's --cpu-prof in front.
  const child = options.cpuProfDir
    ? spawnWithFileLimit(path.join(root, 'scripts/node24'), ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`, path.join(root, 'src/cli/voltyard.ts'), 'start'], env)
    : spawnWithFileLimit(path.join(root, 'bin/voltyard'), ['start'], env);
  const lines: string[] = [];
  collectLines(child, lines);
  const httpUrl = `http://127.0.0.1:${port}`;
  const healthy = async () => {
    try {
      return (await fetch(`${httpUrl}/api/health`, { signal: AbortSignal.timeout(1000) })).ok;
    } catch {
      return false;
    }
  };
  await waitUntil(healthy, child, 'voltyard', lines, 60_000);
  return { ...wrap('Voltyard', child, `ws://127.0.0.1:${port}/ocpp/`, lines), httpUrl };
}

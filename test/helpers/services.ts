import net from 'node:net';
import type { TestContext } from 'node:test';

/** Loopback services this machine kind runs; CI starts any that are down before the tests. */
export const services = {
  postgres: { host: '127.0.0.1', port: 5432 },
  nats: { host: '127.0.0.1', port: 4222 },
  mqtt: { host: '127.0.0.1', port: 1883 },
} as const;

const probes = new Map<string, Promise<boolean>>();

function reachable(host: string, port: number): Promise<boolean> {
  const key = `${host}:${port}`;
  let probe = probes.get(key);
  if (!probe) {
    probe = new Promise((resolve) => {
      const socket = net.connect({ host, port });
      const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
      socket.setTimeout(1000, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
    probes.set(key, probe);
  }
  return probe;
}

/**
 * Returns true when the service answers. When it does not: in CI (CI=true) the test fails loudly, because CI must
 * have it; anywhere else the test is skipped with a message saying which service is missing.
 */
export async function needService(t: TestContext, name: keyof typeof services): Promise<boolean> {
  const { host, port } = services[name];
  if (await reachable(host, port)) return true;
  const message = `${name} is not reachable on ${host}:${port}`;
  if (process.env.CI) throw new Error(`${message}; CI must provide it (.ci/run starts it)`);
  t.skip(`${message}; start it to run this test`);
  return false;
}

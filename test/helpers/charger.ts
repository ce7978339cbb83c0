import ocppRpc from 'ocpp-rpc';
import WebSocket from 'ws';

const { RPCClient } = ocppRpc;

export interface TestCharger {
  readonly client: InstanceType<typeof RPCClient>;
  call<T = Record<string, unknown>>(action: string, params?: unknown): Promise<T>;
  close(): Promise<void>;
}

/**
 * A charge point as tests need one: a real OCPP-J client over a real WebSocket, without strict validation of its own
 * calls, so a test can send exactly the invalid payloads a broken charger would.
 */
/** ocpp-rpc's typings list every option as required although each has a default: build a client from the ones given. */
export function rpcClient(options: Partial<ConstructorParameters<typeof RPCClient>[0]>): InstanceType<typeof RPCClient> {
  return new RPCClient(options as ConstructorParameters<typeof RPCClient>[0]);
}

export async function connectCharger(baseUrl: string, stationId: string, options: { protocols?: string[]; password?: string; handlers?: Record<string, (params: never) => unknown>; wsOpts?: Record<string, unknown>; strictMode?: boolean } = {}): Promise<TestCharger> {
  const client = rpcClient({
    endpoint: `${baseUrl.replace(/^http/, 'ws')}/ocpp`,
    identity: stationId,
    protocols: options.protocols ?? ['ocpp1.6'],
    password: options.password ?? null,
    reconnect: false,
    // strictMode: the charger itself checks every call it receives against the official schemas of its version.
    strictMode: options.strictMode ?? false,
    callTimeoutMs: 5000,
    ...(options.wsOpts ? { wsOpts: options.wsOpts } : {}),
  });
  for (const [action, handler] of Object.entries(options.handlers ?? {})) client.handle(action, async ({ params }) => await handler(params as never) as Record<string, unknown>);
  await client.connect();
  return {
    client,
    call: (action, params = {}) => client.call(action, params) as never,
    close: async () => { await client.close({ force: true }); },
  };
}

export async function bootCharger(baseUrl: string, stationId: string, options: Parameters<typeof connectCharger>[2] = {}): Promise<TestCharger> {
  const charger = await connectCharger(baseUrl, stationId, options);
  const boot = await charger.call<{ status: string }>('BootNotification', { chargePointVendor: 'Voltyard Test', chargePointModel: 'TC-1', firmwareVersion: '1.0.0' });
  if (boot.status !== 'Accepted') throw new Error(`boot answered ${boot.status}`);
  return charger;
}

/** A bare WebSocket for frames no OCPP library would send. */
export function rawSocket(baseUrl: string, stationId: string, protocols: string | string[] = 'ocpp1.6', options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ocpp/${stationId}`, protocols, options);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

/** The next text frame on a raw socket, or null after `ms`. */
export function nextFrame(ws: WebSocket, ms = 1000): Promise<unknown[] | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { ws.off('message', onMessage); resolve(null); }, ms);
    const onMessage = (data: WebSocket.RawData) => { clearTimeout(timer); ws.off('message', onMessage); resolve(JSON.parse(String(data))); };
    ws.on('message', onMessage);
  });
}

export const closed = (ws: WebSocket): Promise<{ code: number; reason: string }> =>
  new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));

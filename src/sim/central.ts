// A minimal OCPP 1.6J and 2.0.1 central system that accepts every station and token and never limits anything: what a depot
// with "dumb" chargers behind a plain back office looks like. It is the baseline of `voltyard simulate
// --uncontrolled` and the counterpart the simulator's own tests drive charge points with. Real ocpp-rpc server in
// strict mode, so every frame is schema-checked on both ends.
import { RPCServer, type RPCClient } from 'ocpp-rpc';
import type { SimClock } from './clock.ts';

type Json = Record<string, unknown>;

export interface ReceivedCall {
  readonly stationId: string;
  readonly method: string;
  readonly params: Json;
  /** Simulated instant it arrived, epoch ms. */
  readonly atMs: number;
}

export interface PermissiveCentral {
  /** The OCPP endpoint to give charge points (identity is appended by the client). */
  readonly url: string;
  readonly received: ReceivedCall[];
  connected(): string[];
  /** Calls a connected station; rejects if it is not connected. */
  call(stationId: string, method: string, params: Json): Promise<Json>;
  /** Replaces the answer to one method (e.g. reject a token); return undefined to fall back to the default. */
  answer(method: string, fn: ((stationId: string, params: Json) => Json | undefined) | null): void;
  close(): Promise<void>;
}

/** `strict: false` lets tests send frames that break the OCPP schemas, to see how a charger copes. */
export async function startPermissiveCentral(options: { clock: SimClock; host?: string; port?: number; path?: string; strict?: boolean }): Promise<PermissiveCentral> {
  const { clock } = options;
  const server = new RPCServer({ protocols: ['ocpp2.0.1', 'ocpp1.6'], strictMode: options.strict ?? true } as ConstructorParameters<typeof RPCServer>[0]);
  const clients = new Map<string, RPCClient>();
  const received: ReceivedCall[] = [];
  const overrides = new Map<string, (stationId: string, params: Json) => Json | undefined>();
  let nextTx = 1;
  const now = () => new Date(clock.now()).toISOString();
  const defaults: Record<string, (params: Json) => Json> = {
    BootNotification: () => ({ status: 'Accepted', interval: 300, currentTime: now() }),
    Heartbeat: () => ({ currentTime: now() }),
    StatusNotification: () => ({}),
    Authorize: () => ({ idTagInfo: { status: 'Accepted' } }),
    StartTransaction: () => ({ transactionId: nextTx++, idTagInfo: { status: 'Accepted' } }),
    StopTransaction: () => ({ idTagInfo: { status: 'Accepted' } }),
    MeterValues: () => ({}),
    DataTransfer: () => ({ status: 'UnknownVendorId' }),
    DiagnosticsStatusNotification: () => ({}),
    FirmwareStatusNotification: () => ({}),
    // OCPP 2.0.1 (the messages whose names or answers differ from 1.6)
    TransactionEvent: () => ({}),
    NotifyEVChargingNeeds: () => ({ status: 'Accepted' }),
    ReportChargingProfiles: () => ({}),
    NotifyReport: () => ({}),
  };
  const authorize201 = () => ({ idTokenInfo: { status: 'Accepted' } });
  server.auth((accept) => accept());
  server.on('client', (client) => {
    const id = client.identity!;
    clients.set(id, client);
    client.on('close', () => { if (clients.get(id) === client) clients.delete(id); });
    client.on('message', () => clock.touch());
    client.handle(({ method, params }: { method?: string; params?: Json }) => {
      clock.touch();
      const m = String(method);
      received.push({ stationId: id, method: m, params: params ?? {}, atMs: clock.now() });
      const answer = overrides.get(m)?.(id, params ?? {}) ?? (m === 'Authorize' && client.protocol === 'ocpp2.0.1' ? authorize201() : defaults[m]?.(params ?? {}));
      if (!answer) throw new Error(`${m} not supported`);
      return Promise.resolve(answer);
    });
  });
  const http = await server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `ws://${options.host ?? '127.0.0.1'}:${port}${options.path ?? '/ocpp'}`,
    received,
    connected: () => [...clients.keys()],
    async call(stationId, method, params) {
      const client = clients.get(stationId);
      if (!client) throw new Error(`station ${stationId} is not connected`);
      // No clock hold here: the charger may answer after a delay in simulated time, which must be allowed to pass.
      clock.touch();
      return (await client.call(method, params)) as Json;
    },
    answer(method, fn) {
      if (fn) overrides.set(method, fn); else overrides.delete(method);
    },
    async close() {
      await server.close({ force: true });
    },
  };
}

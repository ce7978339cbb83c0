import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as docs from './vendor-payloads.ts';

/**
 * Small real HTTP servers on loopback that answer like the vendors' clouds, from their documented payloads: the
 * adapters under test speak real HTTP to them. Each can be told to fail the next requests (429 with Retry-After,
 * 500, refused credentials) and records what it was asked.
 */
export interface FakeCloud {
  readonly url: string;
  readonly requests: { method: string; path: string; atMs: number; body: unknown }[];
  /** The next `count` requests get this answer instead of the normal one. */
  failNext(count: number, status: number, headers?: Record<string, string>, body?: unknown): void;
  close(): Promise<void>;
}

type Handler = (req: { method: string; url: URL; headers: http.IncomingHttpHeaders; body: unknown }) => { status: number; body?: unknown; headers?: Record<string, string> };

async function serve(handler: Handler, nowMs: () => number): Promise<FakeCloud> {
  const requests: FakeCloud['requests'] = [];
  const failures: { status: number; headers: Record<string, string>; body: unknown }[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => { raw += c; });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      let body: unknown = raw;
      try { body = raw ? JSON.parse(raw) : undefined; } catch { /* keep text */ }
      requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search, atMs: nowMs(), body });
      const failure = failures.shift();
      const answer = failure ?? handler({ method: req.method ?? 'GET', url, headers: req.headers, body });
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext(count, status, headers = {}, body = { message: 'injected failure' }) {
      for (let i = 0; i < count; i++) failures.push({ status, headers, body });
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const unauthorized = { status: 401, body: { requestId: 'x', message: 'Invalid token' } };

/** Samsara stats feed: two pages behind the `after` cursor, then nothing new. */
export function fakeSamsara(token: string, nowMs: () => number): Promise<FakeCloud> {
  return serve(({ url, headers }) => {
    if (headers.authorization !== `Bearer ${token}`) return unauthorized;
    if (url.pathname !== '/fleet/vehicles/stats/feed') return { status: 404, body: { message: 'not found' } };
    if (!url.searchParams.get('types')?.includes('evStateOfChargeMilliPercent')) return { status: 400, body: { message: 'types required' } };
    const after = url.searchParams.get('after');
    if (!after) return { status: 200, body: docs.samsaraFeedPage1 };
    if (after === 'cursor-page-1') return { status: 200, body: docs.samsaraFeedPage2 };
    if (after === 'cursor-page-2') return { status: 200, body: { data: [], pagination: { endCursor: 'cursor-page-2', hasNextPage: false } } };
    return { status: 400, body: { message: `invalid cursor ${after}` } };
  }, nowMs);
}

/** Geotab JSON-RPC: Authenticate, GetFeed StatusData with versions, Get DeviceStatusInfo; sessions can be expired. */
export function fakeGeotab(nowMs: () => number): Promise<FakeCloud & { expireSessions(): void }> {
  let session = 'session-1';
  let n = 1;
  const cloud = serve(({ method, url, body }) => {
    if (method !== 'POST' || url.pathname !== '/apiv1') return { status: 404 };
    const call = body as { method: string; params: Record<string, unknown> };
    const invalidUser = { status: 200, body: { jsonrpc: '2.0', error: { code: -32000, message: 'Incorrect login credentials', data: { type: 'InvalidUserException' } } } };
    if (call.method === 'Authenticate') {
      if (call.params.userName !== 'ops@depot.example' || call.params.password !== 'pw' || call.params.database !== 'depot') return invalidUser;
      return { status: 200, body: { jsonrpc: '2.0', result: { credentials: { database: 'depot', userName: 'ops@depot.example', sessionId: session }, path: 'ThisServer' } } };
    }
    const credentials = call.params.credentials as { sessionId?: string } | undefined;
    if (credentials?.sessionId !== session) return invalidUser;
    if (call.method === 'GetFeed' && call.params.typeName === 'StatusData') {
      if (call.params.fromVersion === docs.geotabFeed.result.toVersion) return { status: 200, body: { jsonrpc: '2.0', result: { data: [], toVersion: docs.geotabFeed.result.toVersion } } };
      return { status: 200, body: docs.geotabFeed };
    }
    if (call.method === 'Get' && call.params.typeName === 'DeviceStatusInfo') return { status: 200, body: docs.geotabDeviceStatusInfo };
    return { status: 200, body: { jsonrpc: '2.0', error: { code: -32601, message: `unknown method ${call.method}`, data: { type: 'MissingMethodException' } } } };
  }, nowMs);
  return cloud.then((c) => ({ ...c, expireSessions() { session = `session-${++n}`; } }));
}

/** Tesla Fleet API vehicle_data; the tag "asleep" answers 408 as a sleeping vehicle does. */
export function fakeTesla(token: string, nowMs: () => number): Promise<FakeCloud> {
  return serve(({ url, headers }) => {
    if (headers.authorization !== `Bearer ${token}`) return unauthorized;
    const m = /^\/api\/1\/vehicles\/([^/]+)\/vehicle_data$/.exec(url.pathname);
    if (!m) return { status: 404 };
    if (m[1] === 'asleep') return { status: 408, body: { response: null, error: 'vehicle unavailable: vehicle is offline or asleep', error_description: '' } };
    return { status: 200, body: docs.teslaVehicleData };
  }, nowMs);
}

/** Smartcar REST batch: the v2 answers of the schedule payload, per vehicle. */
export function fakeSmartcar(token: string, nowMs: () => number): Promise<FakeCloud> {
  return serve(({ method, url, headers }) => {
    if (headers.authorization !== `Bearer ${token}`) return { status: 401, body: { type: 'AUTHENTICATION', code: null, description: 'invalid token' } };
    const m = /^\/v2\.0\/vehicles\/([^/]+)\/batch$/.exec(url.pathname);
    if (method !== 'POST' || !m) return { status: 404 };
    return { status: 200, body: { responses: docs.smartcarScheduleV2.payload.vehicles[0].data } };
  }, nowMs);
}

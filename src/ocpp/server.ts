import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { isoClock, type Clock } from '../clock.ts';
import type { Bus } from '../bus/bus.ts';
import type { ProtocolVersion } from '../bus/events.ts';
import type { TokenRegistry } from '../fleet/tokens.ts';
import type { OcppRepository } from './repository.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { AuthThrottle } from './auth-throttle.ts';
import { installV16, type VersionAdapter } from './v16/handlers.ts';
import { installV201 } from './v201/handlers.ts';
import { frameLog } from './message-log.ts';
import { StationSocket, type SocketHooks } from './socket.ts';

/**
 * Subprotocols in the server's order of preference; each has its own handler set. The station offers, the server
 * picks (RFC 6455; OCPP-J leaves the choice to the central system): a station offering both gets 2.0.1, the newer
 * version, with string transaction ids, EVSE-level profiles and the vehicle's charging needs.
 */
export const supportedProtocols: readonly ProtocolVersion[] = ['ocpp2.0.1', 'ocpp1.6'];
const adapters: Record<ProtocolVersion, (conn: Connection, deps: CentralSystemDeps) => VersionAdapter> = { 'ocpp2.0.1': installV201, 'ocpp1.6': installV16 };

/** A station identity as OCPP's security whitepaper allows it in the URL (and as a Basic-auth user name). */
const identityPattern = /^[A-Za-z0-9*\-_=+|@.]{1,48}$/;
/** Larger frames close the connection (WebSocket 1009): 1.6 Core messages are a few kB, a full GetConfiguration tens. */
export const maxFrameBytes = 256 * 1024;

/**
 * Stations waiting for an operator at most: under the `pending` policy anyone who reaches the port can list a station,
 * and without a cap a loop of made-up ids would grow the table and bury the real ones in the operator's list.
 */
export const maxPendingStations = 1000;

/** What the admission decided about a station before its WebSocket opens. */
interface Session {
  readonly stationId: string;
  readonly securityProfile: number;
  readonly known: boolean;
  /** Registered and accepted when the handshake was admitted (decided there, so handlers can be installed at once). */
  readonly accepted: boolean;
}

/** The HTTP upgrade request of a station, as admission sees it. */
interface Handshake {
  readonly stationId: string;
  readonly endpoint: string;
  readonly remoteAddress: string;
  readonly offered: readonly string[];
  /** From Basic auth, only when its user name is the station id (the whitepaper's rule); bytes, as sent. */
  readonly password: Buffer | undefined;
  readonly request: IncomingMessage;
}

type Admission = { readonly session: Session } | { readonly status: number };

export interface CentralSystemDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly bus: Bus;
  readonly repo: OcppRepository;
  readonly tokens: TokenRegistry;
  readonly stats: OcppStats;
}

export interface OcppStats {
  connectionsAccepted: number;
  authFailures: number;
  /** Password logins refused unchecked: their address failed too often (auth-throttle.ts). */
  authThrottled: number;
  /** Unknown stations rejected because maxPendingStations were already waiting for an operator. */
  pendingRefused: number;
  noSubprotocol: number;
  framesIn: number;
  framesOut: number;
  badFrames: number;
  validationErrors: number;
  replacedConnections: number;
  /** Periodic exchanges left out of the message log (see message-log.ts). */
  exchangesNotLogged: number;
}

/** One live WebSocket of a station. */
export interface Connection {
  readonly stationId: string;
  readonly protocol: ProtocolVersion;
  readonly socket: StationSocket;
  readonly connectedAt: string;
  readonly remoteAddress: string;
  readonly securityProfile: number;
  /** Registered and accepted: may send transaction messages. Known stations reconnect accepted without a boot. */
  accepted: boolean;
  lastSeenMs: number;
  adapter: VersionAdapter | null;
  replaced: boolean;
}

export interface CentralSystemServer {
  readonly connections: ReadonlyMap<string, Connection>;
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Stops accepting and closes every station connection (they reconnect to whoever serves next). */
  close(): Promise<void>;
}

export function createCentralSystemServer(deps: CentralSystemDeps): CentralSystemServer {
  const { config, clock, bus, repo, stats } = deps;
  const log = deps.logger.child({ module: 'ocpp' });
  const connections = new Map<string, Connection>();
  /** Every open station socket, including one being replaced or one closed for want of a subprotocol. */
  const sockets = new Set<StationSocket>();
  const iso = isoClock(clock);
  const throttle = new AuthThrottle();
  /** Whether the last unknown station found the pending list full: warned once per filling. */
  let pendingFull = false;
  let accepting = true;

  const chosenProtocol = new WeakMap<IncomingMessage, string | false>();
  const wss = new WebSocketServer({
    noServer: true, clientTracking: false, maxPayload: maxFrameBytes, perMessageDeflate: false,
    handleProtocols: (_offered, request) => chosenProtocol.get(request) ?? false,
  });

  // One timer for every connection: each sweep drops sockets not heard from since the last one and pings the rest.
  const liveness = setInterval(() => { for (const s of sockets) s.sweep(); }, config.pingIntervalS * 1000);
  liveness.unref();

  async function admit(hs: Handshake): Promise<Admission> {
    const { stationId, remoteAddress } = hs;
    if (hs.endpoint !== '/ocpp') return { status: 404 };
    if (!identityPattern.test(stationId)) {
      log.warn({ remoteAddress, identity: stationId.slice(0, 64) }, 'station identity not allowed in the URL; refused');
      return { status: 400 };
    }
    if (!hs.offered.some((p) => (supportedProtocols as string[]).includes(p))) {
      // Let in only to be closed right after the handshake with a reason, as OCPP-J asks; nothing is stored.
      return { session: { stationId, securityProfile: 0, known: false, accepted: false } };
    }
    const socket = hs.request.socket as TLSSocket;
    const tls = socket.encrypted === true;
    const password = hs.password;
    const certificate = clientCertificate(socket);
    const station = await repo.station(stationId);
    const fail = (reason: string): Admission => {
      stats.authFailures++;
      const nowMs = clock.now();
      throttle.failed(remoteAddress, nowMs);
      // The reason stays in our log; the station only learns 401.
      log.warn({ stationId, remoteAddress, reason, failures: stats.authFailures, throttled: throttle.blocked(remoteAddress, nowMs) }, 'station authentication failed');
      return { status: 401 };
    };
    if (station) {
      if (station.security_profile >= 2 && !tls) return fail(`security profile ${station.security_profile} needs TLS`);
      if (station.security_profile === 3) {
        // Mutual TLS: the certificate is the credential, and the identity it names must be the one in the URL.
        if (!certificate.presented) return fail('security profile 3 needs a client certificate');
        if (!certificate.trusted) return fail(`client certificate not trusted: ${certificate.error}`);
        if (certificate.commonName !== stationId) return fail(`client certificate names ${JSON.stringify(certificate.commonName)}, not the URL identity`);
      } else if (station.security_profile >= 1) {
        if (!password) return fail('no Basic-auth password (or user name not equal to the station id)');
        if (throttle.blocked(remoteAddress, clock.now())) {
          // Not logged per attempt: a client hammering us would fill the log instead.
          stats.authThrottled++;
          return { status: 401 };
        }
        if (!station.password_hash || !await verifyPassword(password, station.password_hash)) return fail('wrong password');
        throttle.succeeded(remoteAddress);
      }
      return { session: { stationId, securityProfile: station.security_profile, known: true, accepted: station.registration === 'accepted' } };
    }
    const policy = config.unknownStations;
    if (policy === 'reject') return { session: { stationId, securityProfile: 0, known: false, accepted: false } };
    if (policy === 'pending') {
      if (await repo.pendingStations() >= maxPendingStations) {
        stats.pendingRefused++;
        if (!pendingFull) log.warn({ stationId, remoteAddress, maxPendingStations }, 'too many stations waiting for an operator: unknown stations are rejected until some are registered or removed');
        pendingFull = true;
        return { session: { stationId, securityProfile: 0, known: false, accepted: false } };
      }
      pendingFull = false;
    }
    // A pending station is listed under the strongest credential it showed: a trusted certificate naming it, a password, nothing.
    const provesIdentity = certificate.trusted && certificate.commonName === stationId;
    const profile = policy === 'accept' ? config.defaultSecurityProfile : provesIdentity && !password ? 3 : (password ? (tls ? 2 : 1) : 0);
    if (profile >= 2 && !tls) return fail(`default security profile ${profile} needs TLS`);
    if (profile >= 1 && profile <= 2 && (!password || password.length < 16)) return fail('the default security profile needs a Basic-auth password of at least 16 bytes');
    // accept: registered now (a lab). pending: listed for an operator, who registers it with its password.
    await repo.createStation({
      id: stationId, registration: policy === 'accept' ? 'accepted' : 'pending', security_profile: profile,
      password_hash: profile >= 1 && profile <= 2 && password ? await hashPassword(password) : null, created_at: iso(),
    });
    log.info({ stationId, remoteAddress, policy, securityProfile: profile }, policy === 'accept' ? 'unknown station registered (accept policy)' : 'unknown station waiting for an operator');
    return { session: { stationId, securityProfile: profile, known: true, accepted: policy === 'accept' } };
  }

  function handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A client that resets during admission must not take the process with it.
    const onSocketError = (err: Error) => log.debug({ reason: err.message }, 'WebSocket upgrade aborted');
    socket.on('error', onSocketError);
    const hs = handshakeOf(request);
    if (!accepting || !hs) return refuse(socket, accepting ? 400 : 503);
    void admit(hs).then((admission) => {
      if (socket.destroyed) return log.debug({ stationId: hs.stationId }, 'station left during admission');
      if ('status' in admission) return refuse(socket, admission.status);
      if (!accepting) return refuse(socket, 503);
      const protocol = supportedProtocols.find((p) => hs.offered.includes(p));
      chosenProtocol.set(request, protocol ?? false);
      wss.handleUpgrade(request, socket, head, (ws) => {
        socket.off('error', onSocketError);
        try {
          opened(ws, protocol, admission.session, hs);
        } catch (err) {
          // Thrown here it would reject a promise nobody awaits, and leave an open socket without handlers.
          log.error({ err, stationId: hs.stationId }, 'attaching a station connection failed');
          ws.terminate();
        }
      });
    }, (err: unknown) => {
      log.error({ err, stationId: hs.stationId }, 'station admission failed');
      refuse(socket, 500);
    });
  }

  function opened(ws: WebSocket, protocol: ProtocolVersion | undefined, session: Session, hs: Handshake): void {
    if (!protocol || !accepting) {
      if (!protocol) {
        stats.noSubprotocol++;
        log.warn({ stationId: session.stationId, remoteAddress: hs.remoteAddress, offered: hs.request.headers['sec-websocket-protocol'] ?? '(none)' }, 'connection negotiated no supported OCPP subprotocol; closed');
      }
      ws.on('error', () => undefined);
      ws.close(protocol ? 1001 : 1002, protocol ? 'central system shutting down' : `no supported subprotocol; offer one of ${supportedProtocols.join(', ')}`);
      return;
    }
    const { stationId, securityProfile, known } = session;
    const previous = connections.get(stationId);
    // Handlers go in before anything else: a station may send its BootNotification right after the handshake.
    // The socket's hooks keep the connection's last-seen time, and the connection holds the socket: one object, built
    // in two steps.
    const state: Omit<Connection, 'socket'> = {
      stationId, protocol, connectedAt: iso(), remoteAddress: hs.remoteAddress, securityProfile,
      accepted: session.accepted, lastSeenMs: clock.now(), adapter: null, replaced: false,
    };
    const socket = new StationSocket(ws, protocol, hooksFor(state));
    const conn: Connection = Object.assign(state, { socket });
    sockets.add(socket);
    conn.adapter = adapters[protocol](conn, deps);
    repo.forgetConnectors(stationId);
    connections.set(stationId, conn);
    stats.connectionsAccepted++;
    if (previous) {
      // The station reconnected before we noticed the old socket die (or two devices share an id): the newest wins.
      previous.replaced = true;
      stats.replacedConnections++;
      log.warn({ stationId, remoteAddress: hs.remoteAddress, previousAddress: previous.remoteAddress }, 'second connection for a station replaces the first');
      void previous.socket.close(1000, 'replaced by a newer connection of this station');
    }
    const attached = (async () => {
      if (known) await repo.updateStation(stationId, { online: 1, protocol, last_seen_at: conn.connectedAt });
      log.info({ stationId, protocol, remoteAddress: hs.remoteAddress, securityProfile, accepted: conn.accepted }, 'station connected');
      bus.publish({ type: 'StationConnected', stationId, at: conn.connectedAt, receivedAt: conn.connectedAt, protocol, remoteAddress: hs.remoteAddress, securityProfile });
    })().catch((err: unknown) => {
      log.error({ err, stationId }, 'attaching a station connection failed');
      void socket.close(1011, 'internal error');
    });
    void socket.closed.then(async ({ code, reason }) => {
      sockets.delete(socket);
      if (conn.replaced || connections.get(stationId) !== conn) return;
      connections.delete(stationId);
      // A station that leaves at once (or whose store is slow) must not be announced gone before it was announced
      // connected, nor marked online after it was marked offline: the disconnect waits for the attach.
      await attached;
      // It came back meanwhile: the new connection's own events and row stand.
      if (connections.has(stationId)) return;
      const at = iso();
      log.info({ stationId, code, reason }, 'station disconnected');
      if (known) void repo.updateStation(stationId, { online: 0, last_seen_at: new Date(conn.lastSeenMs).toISOString() }).catch((err: unknown) => log.error({ err, stationId }, 'marking station offline failed'));
      bus.publish({ type: 'StationDisconnected', stationId, at, receivedAt: at, reason: closeReason(code, reason) });
    }).catch((err: unknown) => log.error({ err, stationId }, 'detaching a station connection failed'));
  }

  function hooksFor(conn: Omit<Connection, 'socket'>): SocketHooks {
    const { stationId, protocol } = conn;
    const frames = config.messageLogRetentionDays > 0
      // The log's clock is the frame's arrival time, read once per frame for liveness too.
      ? frameLog(protocol, (direction, frame, at) => repo.logMessage({ station_id: stationId, direction, at, frame }), () => { stats.exchangesNotLogged++; }, () => conn.lastSeenMs, iso)
      : null;
    return {
      frame(direction, text) {
        if (direction === 'in') {
          stats.framesIn++;
          conn.lastSeenMs = clock.now();
          frames?.inbound(text);
        } else {
          stats.framesOut++;
          frames?.outbound(text);
        }
      },
      badFrame(text, reason, answered) {
        stats.badFrames++;
        log.warn({ stationId, reason, frame: text.slice(0, 200), answered }, 'malformed OCPP-J frame');
      },
      invalid(what, action, error) {
        stats.validationErrors++;
        log.warn({ stationId, action, what, reason: error.message.slice(0, 300) }, 'OCPP message failed schema validation');
      },
      failed(action, err) {
        log.error({ err, stationId, action }, 'handling a station message failed');
      },
      socketError(err) {
        log.warn({ stationId, reason: err.message }, 'station socket error');
      },
    };
  }

  return {
    connections,
    handleUpgrade,
    async close() {
      accepting = false;
      clearInterval(liveness);
      const open = [...sockets];
      const closing = Promise.all(open.map((s) => s.close(1001, 'central system shutting down')));
      // Stations that do not finish the close handshake in time are dropped.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<void>((resolve) => { timer = setTimeout(resolve, 2000); });
      await Promise.race([closing, late]);
      clearTimeout(timer);
      for (const s of open) if (s.open) s.terminate();
      wss.close();
    },
  };
}

/** Station id, endpoint, offered subprotocols and Basic-auth password of an upgrade request; null if unreadable. */
function handshakeOf(request: IncomingMessage): Handshake | null {
  let url: URL;
  let stationId: string;
  try {
    url = new URL(request.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/');
    stationId = decodeURIComponent(parts.pop() ?? '');
    const endpoint = parts.join('/') || '/';
    const header = request.headers['sec-websocket-protocol'];
    const offered = header ? header.split(',').map((p) => p.trim()).filter(Boolean) : [];
    return { stationId, endpoint, offered, password: basicAuthPassword(request.headers.authorization, stationId), remoteAddress: request.socket.remoteAddress ?? '', request };
  } catch {
    return null;
  }
}

/**
 * The password of `Authorization: Basic base64(<stationId>:<password>)`. The user name must be the station id; the
 * password may hold colons and any bytes (the whitepaper recommends random binary keys, sent as they are).
 */
function basicAuthPassword(header: string | undefined, stationId: string): Buffer | undefined {
  const m = header ? /^ *[Bb][Aa][Ss][Ii][Cc] +([A-Za-z0-9._~+/-]+=*) *$/.exec(header) : null;
  if (!m) return undefined;
  const userPass = Buffer.from(m[1]!, 'base64');
  const user = Buffer.from(`${stationId}:`);
  if (userPass.length < user.length || user.compare(userPass, 0, user.length) !== 0) return undefined;
  return userPass.subarray(user.length);
}

/** Answers an upgrade request with an HTTP error and drops the socket. */
function refuse(socket: Duplex, status: number): void {
  if (socket.writable) {
    const text = STATUS_CODES[status] ?? 'Error';
    socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
  }
  socket.destroy();
}

interface ClientCertificate { presented: boolean; trusted: boolean; commonName: string | null; error: string | null }

/** What the TLS handshake proved about the client (the server asks for a certificate when VOLTYARD_TLS_CA is set). */
function clientCertificate(socket: TLSSocket): ClientCertificate {
  if (socket.encrypted !== true || typeof socket.getPeerCertificate !== 'function') return { presented: false, trusted: false, commonName: null, error: null };
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return { presented: false, trusted: false, commonName: null, error: null };
  const cn = cert.subject?.CN;
  const commonName = Array.isArray(cn) ? null : (cn ?? null);
  const error = socket.authorizationError ? String(socket.authorizationError) : null;
  return { presented: true, trusted: socket.authorized === true, commonName, error };
}

function closeReason(code: number, reason: string): string {
  if (code === 1006) return 'connection lost (no close frame)';
  if (code === 1009) return 'frame too large';
  return reason ? `${code}: ${reason}` : String(code);
}

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import ocppRpc from 'ocpp-rpc';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { isoClock, type Clock } from '../clock.ts';
import type { Bus } from '../bus/bus.ts';
import type { ProtocolVersion } from '../bus/events.ts';
import type { TokenRegistry } from '../fleet/tokens.ts';
import type { OcppRepository } from './repository.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { isUnaddressable, respellCallError } from './rpc.ts';
import { installV16, type VersionAdapter } from './v16/handlers.ts';
import { installV201 } from './v201/handlers.ts';
import { CommandError } from './commands.ts';
import { frameLog } from './message-log.ts';

const { RPCServer } = ocppRpc;
/** The part of ocpp-rpc's RPCServerClient we use (its own typings are loose about session and handshake). */
export interface RpcClient {
  readonly identity: string;
  readonly protocol: string | undefined;
  readonly session: Session;
  readonly handshake: { remoteAddress: string; request: IncomingMessage };
  sendRaw(message: string): void;
  close(options?: { code?: number; reason?: string; force?: boolean; awaitPending?: boolean }): Promise<unknown>;
  call(method: string, params?: unknown, options?: { callTimeoutMs?: number }): Promise<unknown>;
  handle(method: string, handler: (call: { method: string; params: unknown; messageId: string }) => unknown): void;
  on(event: string, listener: (...args: never[]) => void): void;
  once(event: string, listener: (...args: never[]) => void): void;
}

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

interface Session {
  readonly stationId: string;
  readonly securityProfile: number;
  readonly known: boolean;
  /** Registered and accepted when the handshake was admitted (decided there, so handlers can be installed at once). */
  readonly accepted: boolean;
  readonly noProtocol?: boolean;
}

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
  readonly client: RpcClient;
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
  const iso = isoClock(clock);

  const rpc = new RPCServer({
    protocols: [...supportedProtocols],
    strictMode: true,
    callTimeoutMs: config.callTimeoutS * 1000,
    pingIntervalMs: config.pingIntervalS * 1000,
    callConcurrency: 1,
    respondWithDetailedErrors: false,
    wssOptions: { maxPayload: maxFrameBytes, perMessageDeflate: false },
  });

  rpc.auth(async (accept, reject, handshake) => {
    const stationId = handshake.identity;
    const remoteAddress = handshake.remoteAddress;
    const offered = [...handshake.protocols];
    try {
      if (handshake.endpoint !== '/ocpp') return reject(404, 'Not Found');
      if (!identityPattern.test(stationId)) {
        log.warn({ remoteAddress, identity: stationId.slice(0, 64) }, 'station identity not allowed in the URL; refused');
        return reject(400, 'Bad Request');
      }
      if (!offered.some((p) => (supportedProtocols as string[]).includes(p))) {
        // Accepted only to be closed right after the handshake with a reason, as OCPP-J asks; nothing is stored.
        return accept({ stationId, securityProfile: 0, known: false, accepted: false, noProtocol: true } satisfies Session);
      }
      const socket = handshake.request.socket as TLSSocket;
      const tls = socket.encrypted === true;
      const password = handshake.password;
      const certificate = clientCertificate(socket);
      const station = await repo.station(stationId);
      const fail = (reason: string) => {
        stats.authFailures++;
        // The reason stays in our log; the station only learns 401.
        log.warn({ stationId, remoteAddress, reason, failures: stats.authFailures }, 'station authentication failed');
        reject(401, 'Unauthorized');
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
          if (!station.password_hash || !await verifyPassword(password, station.password_hash)) return fail('wrong password');
        }
        return accept({ stationId, securityProfile: station.security_profile, known: true, accepted: station.registration === 'accepted' } satisfies Session);
      }
      const policy = config.unknownStations;
      if (policy === 'reject') return accept({ stationId, securityProfile: 0, known: false, accepted: false } satisfies Session);
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
      return accept({ stationId, securityProfile: profile, known: true, accepted: policy === 'accept' } satisfies Session);
    } catch (err) {
      log.error({ err, stationId }, 'station admission failed');
      return reject(500, 'Internal Server Error');
    }
  });

  rpc.on('client', (rawClient) => {
    const client = rawClient as unknown as RpcClient;
    const session = client.session;
    const remoteAddress = client.handshake.remoteAddress;
    if (session.noProtocol || !client.protocol || !(supportedProtocols as string[]).includes(client.protocol)) {
      stats.noSubprotocol++;
      const offered = client.handshake.request.headers['sec-websocket-protocol'] ?? '(none)';
      log.warn({ stationId: session.stationId, remoteAddress, offered }, 'connection negotiated no supported OCPP subprotocol; closed');
      void client.close({ code: 1002, reason: `no supported subprotocol; offer one of ${supportedProtocols.join(', ')}` });
      return;
    }
    void attach(client, client.protocol as ProtocolVersion, remoteAddress).catch((err) => {
      log.error({ err, stationId: session.stationId }, 'attaching a station connection failed');
      void client.close({ code: 1011, reason: 'internal error' });
    });
  });

  rpc.on('upgradeAborted', ({ error, identity }: { error: Error; identity: string }) => {
    log.debug({ identity, reason: error.message }, 'WebSocket upgrade aborted');
  });

  async function attach(client: RpcClient, protocol: ProtocolVersion, remoteAddress: string): Promise<void> {
    const { stationId, securityProfile } = client.session;
    const previous = connections.get(stationId);
    const known = client.session.known;
    // Handlers go in before the first await: a station may send its BootNotification right after the handshake.
    const conn: Connection = {
      stationId, protocol, client, connectedAt: iso(), remoteAddress, securityProfile,
      accepted: client.session.accepted, lastSeenMs: clock.now(), adapter: null, replaced: false,
    };
    installFrameHooks(conn);
    conn.adapter = adapters[protocol](conn, deps);
    repo.forgetConnectors(stationId);
    connections.set(stationId, conn);
    stats.connectionsAccepted++;
    if (previous) {
      // The station reconnected before we noticed the old socket die (or two devices share an id): the newest wins.
      previous.replaced = true;
      stats.replacedConnections++;
      log.warn({ stationId, remoteAddress, previousAddress: previous.remoteAddress }, 'second connection for a station replaces the first');
      void previous.client.close({ code: 1000, reason: 'replaced by a newer connection of this station' });
    }
    client.once('close', ({ code, reason }: { code: number; reason: string }) => {
      if (conn.replaced || connections.get(stationId) !== conn) return;
      connections.delete(stationId);
      const at = iso();
      log.info({ stationId, code, reason: String(reason ?? '') }, 'station disconnected');
      if (known) void repo.updateStation(stationId, { online: 0, last_seen_at: new Date(conn.lastSeenMs).toISOString() }).catch((err) => log.error({ err, stationId }, 'marking station offline failed'));
      bus.publish({ type: 'StationDisconnected', stationId, at, receivedAt: at, reason: closeReason(code, String(reason ?? '')) });
    });
    if (known) await repo.updateStation(stationId, { online: 1, protocol, last_seen_at: conn.connectedAt });
    log.info({ stationId, protocol, remoteAddress, securityProfile, accepted: conn.accepted }, 'station connected');
    bus.publish({ type: 'StationConnected', stationId, at: conn.connectedAt, receivedAt: conn.connectedAt, protocol, remoteAddress, securityProfile });
  }

  function installFrameHooks(conn: Connection): void {
    const { client, stationId, protocol } = conn;
    const logFrames = config.messageLogRetentionDays > 0;
    let dropNextError = false;
    const send = client.sendRaw.bind(client);
    client.sendRaw = (message: string) => {
      if (typeof message === 'string' && message.startsWith('[4,')) {
        if (dropNextError) { dropNextError = false; return; }
        message = respellCallError(message, protocol);
      }
      send(message);
    };
    const frames = logFrames
      ? frameLog(protocol, (direction, frame, at) => repo.logMessage({ station_id: stationId, direction, at, frame }), () => { stats.exchangesNotLogged++; }, () => clock.now(), iso)
      : null;
    client.on('message', ({ message, outbound }: { message: string | Buffer; outbound: boolean }) => {
      if (outbound) stats.framesOut++;
      else { stats.framesIn++; conn.lastSeenMs = clock.now(); }
      if (frames) {
        if (outbound) frames.outbound(String(message));
        else frames.inbound(String(message));
      }
    });
    client.on('badMessage', ({ buffer, error }: { buffer: Buffer; error: Error }) => {
      stats.badFrames++;
      if (isUnaddressable(error)) dropNextError = true;
      log.warn({ stationId, reason: error.message, frame: String(buffer).slice(0, 200), dropped: dropNextError }, 'malformed OCPP-J frame');
    });
    // A call of ours that fails the schema never leaves: that is our error (400), not the station's (502). ocpp-rpc
    // reports it with the very params object we passed, which tells it apart from an invalid answer of the station.
    const invalidCalls = new WeakSet<object>();
    const call = client.call.bind(client);
    client.call = async (method, params, options) => {
      try {
        return await call(method, params, options);
      } catch (err) {
        if (typeof params === 'object' && params !== null && invalidCalls.has(params)) {
          throw new CommandError('Invalid', `${method} would not be valid ${protocol}: ${(err as Error).message.slice(0, 300)}`);
        }
        throw err;
      }
    };
    client.on('strictValidationFailure', ({ method, error, outbound, isCall, params }: { method: string; error: Error; outbound: boolean; isCall: boolean; params: unknown }) => {
      if (outbound && isCall && typeof params === 'object' && params !== null) invalidCalls.add(params);
      stats.validationErrors++;
      const what = outbound ? (isCall ? 'our call' : 'our response') : (isCall ? 'station call' : 'station response');
      log.warn({ stationId, method, what, reason: error.message.slice(0, 300) }, 'OCPP message failed schema validation');
    });
    client.on('socketError', (err: Error) => {
      log.warn({ stationId, reason: err.message }, 'station socket error');
    });
  }

  return {
    connections,
    handleUpgrade(request, socket, head) {
      rpc.handleUpgrade(request, socket as never, head);
    },
    async close() {
      await rpc.close({ code: 1001, reason: 'central system shutting down' });
    },
  };
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

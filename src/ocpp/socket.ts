import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { ProtocolVersion } from '../bus/events.ts';
import { messageSchemas, type MessageSchemas } from './schemas.ts';
import { RpcError, schemaError, spell, internalError, type CallHandler } from './rpc.ts';

/**
 * OCPP-J (RPC over one WebSocket) as the central system speaks it to one station: CALLs from the station are checked
 * against the official schema of their version, answered by the handler registered for their action, and the answer
 * is checked too; our own CALLs go out one at a time (OCPP-J allows one in flight per side), each with a timeout.
 *
 * Every station frame passes here, thousands a second, so the path is short on purpose: no event emitter, no promise
 * or abort controller per call, a synchronous answer leaves synchronously, and hooks are plain functions.
 */

/** What the connection's owner wants to know; each hook is called synchronously. */
export interface SocketHooks {
  /** Every text frame, both ways, as received or sent. */
  frame(direction: 'in' | 'out', text: string): void;
  /** A frame that is not OCPP-J. `answered`: it had a message id, and got a CALLERROR. */
  badFrame(text: string, reason: string, answered: boolean): void;
  /** A payload that failed its schema. */
  invalid(what: 'station call' | 'station response' | 'our call' | 'our response', action: string, error: RpcError): void;
  /** A handler threw something that is not an RpcError (a bug of ours): the station gets InternalError. */
  failed(action: string, err: unknown): void;
  socketError(err: Error): void;
}

/** Why one of our calls got no answer the command can use; a CALLERROR from the station is an RpcError instead. */
export class CallError extends Error {
  readonly reason: 'timeout' | 'closed' | 'invalid-call' | 'invalid-response';
  constructor(reason: CallError['reason'], message: string) {
    super(message);
    this.name = 'CallError';
    this.reason = reason;
  }
}

interface PendingCall {
  readonly id: string;
  readonly action: string;
  readonly resolve: (payload: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

const CALL = 2;
const CALLRESULT = 3;
const CALLERROR = 4;
const OPEN = 1;
/** Frames to a station not yet taken by it (ws's bufferedAmount) beyond which the connection is dropped. */
export const maxUnreadBytes = 1024 * 1024;

export class StationSocket {
  readonly protocol: ProtocolVersion;
  readonly #ws: WebSocket;
  readonly #schemas: MessageSchemas;
  readonly #hooks: SocketHooks;
  readonly #handlers = new Map<string, CallHandler>();
  /** Station calls whose (asynchronous) answer is still being made: a second CALL with the same id is an error. */
  readonly #answering = new Set<string>();
  #pending: PendingCall | null = null;
  readonly #waiting: (() => void)[] = [];
  readonly #closed: Promise<{ code: number; reason: string }>;
  #open = true;
  /** Heard from since the last liveness sweep (any frame or a pong). */
  #alive = true;

  constructor(ws: WebSocket, protocol: ProtocolVersion, hooks: SocketHooks) {
    this.#ws = ws;
    this.protocol = protocol;
    this.#schemas = messageSchemas(protocol);
    this.#hooks = hooks;
    ws.on('message', (data: Buffer) => {
      try {
        this.#onMessage(data);
      } catch (err) {
        // A bug of ours on one frame must not take the process (and every other station) down.
        hooks.failed('(frame)', err);
      }
    });
    ws.on('pong', () => { this.#alive = true; });
    ws.on('error', (err: Error) => hooks.socketError(err));
    this.#closed = new Promise((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => {
        this.#open = false;
        const gone = new CallError('closed', 'the station disconnected');
        if (this.#pending) {
          clearTimeout(this.#pending.timer);
          this.#pending.reject(gone);
          this.#pending = null;
        }
        // Waiting calls start, find the socket closed, and fail with the same reason.
        this.#next();
        resolve({ code, reason: reason.toString() });
      });
    });
  }

  get open(): boolean { return this.#open; }
  /** Resolves once the WebSocket is closed, by either side or by a lost link. */
  get closed(): Promise<{ code: number; reason: string }> { return this.#closed; }

  /** The handler for one action the station may call; the payload it gets has passed the schema. */
  handle(action: string, handler: CallHandler): void {
    this.#handlers.set(action, handler);
  }

  /** Calls the station; resolves with its validated response, rejects with RpcError (its CALLERROR) or CallError. */
  call(action: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      // Starts the call, or fails it at once (closed, invalid); never throws, and never starts the next one itself:
      // #next does, in a loop, so a queue of failing calls cannot grow the stack.
      const start = () => {
        // Closing counts as closed: a call sent now would be dropped and wait out its timeout (a replaced connection).
        if (this.#ws.readyState !== OPEN) return reject(new CallError('closed', 'the station is not connected'));
        const verdict = this.#schemas.check(action, 'req', payload);
        if (verdict === 'unknown') return reject(new CallError('invalid-call', `${action} is not an OCPP ${this.protocol} message`));
        if (verdict !== null) {
          const err = schemaError(action, verdict);
          this.#hooks.invalid('our call', action, err);
          return reject(new CallError('invalid-call', `${action} would not be valid ${this.protocol}: ${err.message}`));
        }
        const id = randomUUID();
        let text: string;
        try {
          text = JSON.stringify([CALL, id, action, payload]);
        } catch (err) {
          return reject(new CallError('invalid-call', `${action} cannot be written as JSON: ${(err as Error).message}`));
        }
        const timer = setTimeout(() => {
          if (this.#pending?.id !== id) return;
          this.#pending = null;
          reject(new CallError('timeout', `no answer to ${action} within ${timeoutMs / 1000} s`));
          this.#next();
        }, timeoutMs);
        this.#pending = { id, action, resolve, reject, timer };
        this.#send(text);
      };
      if (this.#pending || this.#waiting.length > 0) this.#waiting.push(start);
      else start();
    });
  }

  /** Closes with a close frame; resolves when the socket is closed. */
  close(code: number, reason: string): Promise<{ code: number; reason: string }> {
    if (this.#open) this.#ws.close(code, fitCloseReason(reason));
    return this.#closed;
  }

  /** Drops the connection without a close handshake (a link that no longer answers). */
  terminate(): void {
    this.#ws.terminate();
  }

  /**
   * One liveness step, run by the server every ping interval: a socket not heard from since the last step is dead
   * and dropped; otherwise it is pinged. A dead link is so found within two intervals.
   */
  sweep(): void {
    if (!this.#open) return;
    if (!this.#alive) return this.terminate();
    this.#alive = false;
    this.#ws.ping();
  }

  /** Starts waiting calls until one is in flight (or none is left). */
  #next(): void {
    while (this.#pending === null) {
      const start = this.#waiting.shift();
      if (!start) return;
      start();
    }
  }

  #send(text: string): void {
    if (this.#ws.readyState !== OPEN) return;
    if (this.#ws.bufferedAmount > maxUnreadBytes) {
      // A station that sends calls but does not read the answers would have us buffer them without end.
      this.#hooks.socketError(new Error(`the station left over ${maxUnreadBytes} bytes unread; connection dropped`));
      return this.#ws.terminate();
    }
    this.#ws.send(text);
    this.#hooks.frame('out', text);
  }

  #onMessage(data: Buffer): void {
    this.#alive = true;
    const text = data.toString();
    // Some chargers send empty frames as keep-alives.
    if (text.length === 0) return;
    this.#hooks.frame('in', text);
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return this.#hooks.badFrame(text, 'not JSON', false);
    }
    if (!Array.isArray(message)) return this.#hooks.badFrame(text, 'not a JSON array', false);
    const type: unknown = message[0];
    const id: unknown = message[1];
    if (typeof id !== 'string') return this.#hooks.badFrame(text, 'message id is not a string', false);
    if (typeof type !== 'number') {
      // ["2", id, ...]: most likely a call from a station that quotes numbers; answered, so it does not wait out its timeout.
      this.#hooks.badFrame(text, 'message type is not a number', true);
      return this.#sendError(id, new RpcError('RpcFrameworkError', 'the message type must be a number'));
    }
    if (type === CALL) return this.#onCall(text, id, message[2], message[3]);
    if (type === CALLRESULT) return this.#onResult(text, id, message[2]);
    if (type === CALLERROR) return this.#onError(text, id, message[2], message[3], message[4]);
    this.#hooks.badFrame(text, `message type ${type} is not one of OCPP-J's`, true);
    this.#sendError(id, new RpcError('MessageTypeNotSupported', `message type ${type} is not supported`));
  }

  #onCall(text: string, id: string, action: unknown, payload: unknown): void {
    if (typeof action !== 'string') {
      this.#hooks.badFrame(text, 'action is not a string', true);
      return this.#sendError(id, new RpcError('RpcFrameworkError', 'the action of a CALL must be a string'));
    }
    if (this.#answering.has(id)) {
      this.#hooks.badFrame(text, 'message id already in use', true);
      return this.#sendError(id, new RpcError('RpcFrameworkError', `already answering a call with message id ${id.slice(0, 64)}`));
    }
    const handler = this.#handlers.get(action);
    // An unknown action is named back only in part: the station chose its length.
    if (!handler) return this.#sendError(id, new RpcError('NotImplemented', `${action.slice(0, 64)} is not a message this central system handles in ${this.protocol}`));
    const verdict = this.#schemas.check(action, 'req', payload);
    if (verdict !== null) {
      if (verdict === 'unknown') return this.#sendError(id, new RpcError('NotImplemented', `${action.slice(0, 64)} is not an OCPP ${this.protocol} message`));
      const err = schemaError(action, verdict);
      this.#hooks.invalid('station call', action, err);
      return this.#sendError(id, err);
    }
    let result: unknown;
    try {
      result = handler(payload);
    } catch (err) {
      return this.#fail(id, action, err);
    }
    if (!(result instanceof Promise)) return this.#answer(id, action, result);
    this.#answering.add(id);
    result.then(
      (value) => { this.#answering.delete(id); this.#settled(id, action, value, false); },
      (err) => { this.#answering.delete(id); this.#settled(id, action, err, true); },
    );
  }

  /**
   * A promised answer, once its handler settled (perhaps after the station left: #send then sends nothing). Nothing
   * here may throw: the throw would reject a promise nobody awaits.
   */
  #settled(id: string, action: string, outcome: unknown, failed: boolean): void {
    try {
      if (failed) this.#fail(id, action, outcome);
      else this.#answer(id, action, outcome);
    } catch (err) {
      this.#hooks.failed(action, err);
    }
  }

  #answer(id: string, action: string, result: unknown): void {
    const verdict = this.#schemas.check(action, 'conf', result);
    if (verdict !== null) {
      this.#hooks.invalid('our response', action, verdict === 'unknown' ? new RpcError('ProtocolError', 'no response schema') : schemaError(action, verdict));
      return this.#sendError(id, internalError());
    }
    let text: string;
    try {
      text = JSON.stringify([CALLRESULT, id, result]);
    } catch (err) {
      // Valid by its schema and still not JSON (a BigInt, a cycle): our bug, and the station still gets its answer.
      this.#hooks.failed(action, err);
      return this.#sendError(id, internalError());
    }
    this.#send(text);
  }

  #fail(id: string, action: string, err: unknown): void {
    if (err instanceof RpcError) return this.#sendError(id, err);
    this.#hooks.failed(action, err);
    this.#sendError(id, internalError());
  }

  #sendError(id: string, err: RpcError): void {
    const code = spell(err.code, this.protocol);
    let text: string;
    try {
      text = JSON.stringify([CALLERROR, id, code, err.message, err.details]);
    } catch {
      // Details that are not JSON (a handler's RpcError with a BigInt or a cycle in them) are left out.
      text = JSON.stringify([CALLERROR, id, code, err.message, {}]);
    }
    this.#send(text);
  }

  #onResult(text: string, id: string, payload: unknown): void {
    const call = this.#pending;
    if (!call || call.id !== id) return this.#hooks.badFrame(text, 'CALLRESULT for no call of ours in flight', false);
    this.#settle(call);
    const verdict = this.#schemas.check(call.action, 'conf', payload);
    if (verdict === null) {
      call.resolve(payload);
    } else {
      const err = verdict === 'unknown' ? new RpcError('ProtocolError', 'no response schema') : schemaError(call.action, verdict);
      this.#hooks.invalid('station response', call.action, err);
      call.reject(new CallError('invalid-response', `the answer to ${call.action} is not valid ${this.protocol}: ${err.message}`));
    }
    this.#next();
  }

  #onError(text: string, id: string, code: unknown, description: unknown, details: unknown): void {
    const call = this.#pending;
    if (!call || call.id !== id) return this.#hooks.badFrame(text, 'CALLERROR for no call of ours in flight', false);
    this.#settle(call);
    const detailObject = typeof details === 'object' && details !== null && !Array.isArray(details) ? details as Record<string, unknown> : {};
    call.reject(new RpcError(typeof code === 'string' ? code : 'GenericError', typeof description === 'string' ? description : '', detailObject));
    this.#next();
  }

  /** The call in flight got its answer (the caller then lets the next waiting call go). */
  #settle(call: PendingCall): void {
    clearTimeout(call.timer);
    this.#pending = null;
  }
}

/**
 * A close reason as RFC 6455 (5.5) allows it: at most 123 bytes of UTF-8 (control frames carry 125, two are the
 * code), cut before a character rather than inside one (ws throws on a longer reason, and a cut character would
 * decode as a 3-byte replacement character).
 */
function fitCloseReason(reason: string): string {
  const bytes = Buffer.from(reason);
  if (bytes.length <= 123) return reason;
  let end = 123;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // back to the first byte of the character cut
  return bytes.subarray(0, end).toString();
}

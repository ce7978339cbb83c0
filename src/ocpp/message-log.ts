/**
 * What of a connection's traffic goes into the OCPP message log. Everything, except periodic traffic beyond one
 * exchange per minute of each kind: Heartbeats, MeterValues (per connector), StatusNotifications that repeat the
 * connector's previous status, and 2.0.1 TransactionEvents that only carry periodic meter values. Their content is
 * kept elsewhere (last seen, meter samples, connector status); the log keeps a recent raw example of each for
 * debugging a charger, and every exchange that changed something or failed. A periodic call answered with a
 * CALLERROR is always logged, request and answer. Skipped exchanges are counted (`onSkip`; the central system's
 * `stats.exchangesNotLogged`).
 */
export const periodicLogIntervalMs = 60_000;
/** Connectors (EVSEs) per connection whose periodic traffic is thinned out; beyond that, everything is logged. */
const maxTrackedConnectors = 64;
/** A StatusNotification payload longer than this is not one a charger sends repeatedly: logged, not remembered. */
const maxStatusChars = 1024;

export interface FrameLog {
  inbound(frame: string): void;
  outbound(frame: string): void;
}

type Write = (direction: 'in' | 'out', frame: string, at: string) => void;

/** `[2,"<id>","<Action>",…` read without parsing the payload; null for anything else. */
const callHead = /^\[\s*2\s*,\s*"([^"\\]*)"\s*,\s*"([A-Za-z0-9]+)"/;
/** `[3,"<id>",…` or `[4,"<id>",…`. */
const answerHead = /^\[\s*([34])\s*,\s*"([^"\\]*)"/;
const timestampField = /"timestamp"\s*:\s*"[^"]*"/;

/**
 * The message id and action of a CALL. Frames are read as text, not parsed: this runs for every frame. The compact
 * spelling (`[2,"id","Action",`, what chargers and JSON.stringify write) is read with indexOf, anything else with
 * the regular expression.
 */
function readCall(frame: string): { id: string; action: string; payloadAt: number } | null {
  if (frame.charCodeAt(0) === 91 && frame.charCodeAt(1) === 50 && frame.charCodeAt(2) === 44 && frame.charCodeAt(3) === 34) {
    const idEnd = frame.indexOf('"', 4);
    if (idEnd > 0 && frame.charCodeAt(idEnd + 1) === 44 && frame.charCodeAt(idEnd + 2) === 34) {
      const actionEnd = frame.indexOf('"', idEnd + 3);
      const id = frame.slice(4, idEnd);
      if (actionEnd > 0 && !id.includes('\\')) return { id, action: frame.slice(idEnd + 3, actionEnd), payloadAt: actionEnd + 1 };
    }
  }
  const m = callHead.exec(frame);
  return m ? { id: m[1]!, action: m[2]!, payloadAt: m[0].length } : null;
}

/** Type (3 or 4) and message id of a CALLRESULT or CALLERROR. */
function readAnswer(frame: string): { type: number; id: string } | null {
  const type = frame.charCodeAt(1) - 48;
  if (frame.charCodeAt(0) === 91 && (type === 3 || type === 4) && frame.charCodeAt(2) === 44 && frame.charCodeAt(3) === 34) {
    const idEnd = frame.indexOf('"', 4);
    if (idEnd > 0) return { type, id: frame.slice(4, idEnd) };
  }
  const m = answerHead.exec(frame);
  return m ? { type: Number(m[1]), id: m[2]! } : null;
}

/**
 * The number in `"field": 12` in a frame (-1 if absent), read with indexOf: this runs for every periodic frame, where
 * a regular expression costs an allocation per match. The first occurrence counts, as the regular expressions did.
 */
function numberAfter(frame: string, field: string): number {
  const at = frame.indexOf(field);
  if (at < 0) return -1;
  let k = at + field.length;
  for (let c = frame.charCodeAt(k); c === 32 || c === 9 || c === 10 || c === 13 || c === 58; c = frame.charCodeAt(++k)); // white space, the colon
  let n = -1;
  for (let c = frame.charCodeAt(k); c >= 48 && c <= 57 && n < 1e6; c = frame.charCodeAt(++k)) n = (n < 0 ? 0 : n * 10) + c - 48;
  return n;
}

/** A StatusNotification's payload without its timestamp: equal text, equal status. */
function withoutTimestamp(payload: string): string {
  const at = payload.indexOf('"timestamp":"');
  if (at < 0) return payload.replace(timestampField, '');
  const end = payload.indexOf('"', at + 13);
  return end < 0 ? payload : payload.slice(0, at) + payload.slice(end + 1);
}

export function frameLog(protocol: 'ocpp1.6' | 'ocpp2.0.1', write: Write, onSkip: () => void, nowMs: () => number, iso: () => string): FrameLog {
  // MeterValues name their connector (1.6) or EVSE (2.0.1).
  const meterConnectorField = protocol === 'ocpp1.6' ? '"connectorId"' : '"evseId"';
  // Keys are numbers (kind and connector), not strings: this runs for every frame of every station.
  const heartbeatKey = -1;
  const transactionEventKey = -2;
  const meterKey = (connector: number) => 2 * (connector + 1);
  const statusKey = (connector: number) => 2 * (connector + 1) + 1;
  const lastLoggedMs = new Map<number, number>();
  /** Last status seen per connector (payload without its timestamp): an equal one is a repeat. */
  const lastStatus = new Map<number, string>();
  /**
   * The periodic call held back until its answer shows whether it failed. OCPP-J lets a station have one call
   * waiting for an answer at a time, so one slot does; a station that sends another call before the answer loses
   * the first from the log (it was a periodic one, and counted as not logged only when its success is seen).
   */
  let held: { id: string; frame: string; atMs: number } | null = null;

  function periodicKey(action: string, frame: string, payloadAt: number): number | null {
    switch (action) {
      case 'Heartbeat':
        return heartbeatKey;
      case 'MeterValues': {
        const key = meterKey(numberAfter(frame, meterConnectorField));
        return lastLoggedMs.has(key) || lastLoggedMs.size < 2 * maxTrackedConnectors ? key : null;
      }
      case 'TransactionEvent':
        return frame.includes('"eventType":"Updated"') && frame.includes('"triggerReason":"MeterValuePeriodic"') ? transactionEventKey : null;
      case 'StatusNotification': {
        // The payload without its timestamp (read as text: this runs for every frame) stands for the status. 1.6
        // frames name no EVSE: no need to search them for one.
        const connector = numberAfter(frame, '"connectorId"');
        const connectorKey = protocol === 'ocpp1.6' ? connector : (numberAfter(frame, '"evseId"') + 1) * 1_000_000 + connector;
        // Frames are read before validation: an odd one (huge, or naming ever new connectors) is logged, not tracked,
        // so a station cannot grow this memo without end.
        if (frame.length - payloadAt > maxStatusChars) return null;
        const status = withoutTimestamp(frame.slice(payloadAt));
        const key = statusKey(connectorKey);
        if (lastStatus.get(connectorKey) === status) return key;
        if (lastStatus.size >= maxTrackedConnectors && !lastStatus.has(connectorKey)) return null;
        // A change is always logged, and is the example of its repeats for the next minute.
        lastStatus.set(connectorKey, status);
        lastLoggedMs.set(key, nowMs());
        return null;
      }
      default:
        return null;
    }
  }

  return {
    inbound(frame) {
      const call = readCall(frame);
      const key = call ? periodicKey(call.action, frame, call.payloadAt) : null;
      if (call && key !== null) {
        const t = nowMs();
        const last = lastLoggedMs.get(key);
        if (last !== undefined && t - last < periodicLogIntervalMs) {
          held = { id: call.id, frame, atMs: t };
          return;
        }
        lastLoggedMs.set(key, t);
      }
      write('in', frame, iso());
    },
    outbound(frame) {
      if (held) {
        const answer = readAnswer(frame);
        if (answer && answer.id === held.id) {
          const call = held;
          held = null;
          if (answer.type === 3) { onSkip(); return; }
          write('in', call.frame, new Date(call.atMs).toISOString());
        }
      }
      write('out', frame, iso());
    },
  };
}

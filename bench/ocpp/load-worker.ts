// A load worker: a share of the simulated stations, each a raw `ws` client writing OCPP-J text frames. Lean on
// purpose (no schema validation, no simulator state beyond a meter register) so the client is not what is measured.
import { parentPort } from 'node:worker_threads';
import WebSocket from 'ws';
import { CALL, CALLERROR, CALLRESULT, bootNotification, meterValues, startTransaction, statusNotification, answerServerCall, bootNotification201, statusNotification201, transactionEvent201 } from './frames.ts';
import type { Command, ConnectReport, HeldReport, PhaseReport, Report } from './messages.ts';

if (!parentPort) throw new Error('load-worker.ts runs as a worker thread of bench/ocpp.ts');
const port = parentPort;
const post = (report: Report, transfer: Transferable[] = []) => port.postMessage(report, transfer as never);

const nowAbs = () => performance.timeOrigin + performance.now();

class Phase {
  sent = 0;
  answered = 0;
  callErrors: Record<string, number> = {};
  skippedBusy = 0;
  latencies: number[] = [];
  active = true;
  readonly name: string;
  readonly startAt: number;
  readonly endAt: number;
  readonly closedLoop: boolean;
  constructor(name: string, startAt: number, endAt: number, closedLoop: boolean) {
    this.name = name;
    this.startAt = startAt;
    this.endAt = endAt;
    this.closedLoop = closedLoop;
  }

  record(at: number, rttMs: number, errorCode: string | null): void {
    if (errorCode !== null) {
      this.callErrors[errorCode] = (this.callErrors[errorCode] ?? 0) + 1;
      return;
    }
    this.answered++;
    if (at >= this.startAt && at < this.endAt) this.latencies.push(rttMs);
  }

  report(unanswered: number): PhaseReport {
    const latencies = Float64Array.from(this.latencies);
    return { evt: 'phase', name: this.name, sent: this.sent, answered: this.answered, callErrors: this.callErrors, unanswered, skippedBusy: this.skippedBusy, latencies };
  }
}

type Frame = [number, string, unknown, unknown?];

interface Station {
  readonly id: string;
  readonly index: number;
  ws: WebSocket | null;
  seq: number;
  /** The one outstanding call (OCPP-J allows a sender one at a time): its id, send time and phase. */
  outId: string | null;
  outAt: number;
  outPhase: Phase | null;
  waiter: ((frame: Frame | null) => void) | null;
  transactionId: number | null;
  energyWh: number;
  sendStatusNext: boolean;
  lastAnswerAt: number;
  /** BootNotification answered Accepted: only then may a station send more than Boot and Heartbeat. */
  accepted: boolean;
  /** Speaks OCPP 2.0.1 (else 1.6J). */
  readonly v201: boolean;
  /** 2.0.1: the TransactionEvent sequence number. */
  txSeqNo: number;
  readonly group: Group;
}

/** The stations this worker runs against one target server. */
interface Group {
  stations: Station[];
  current: Phase | null;
  closing: boolean;
  closedByServer: Record<string, number>;
  serverCalls: Record<string, number>;
  strayFrames: number;
}

const groups = new Map<string, Group>();
function groupOf(target: string): Group {
  let g = groups.get(target);
  if (!g) groups.set(target, g = { stations: [], current: null, closing: false, closedByServer: {}, serverCalls: {}, strayFrames: 0 });
  return g;
}

// ISO timestamps are formatted at most once per millisecond: at tens of thousands of frames a second it shows.
let isoMs = 0;
let iso = '';
function timestamp(): string {
  const ms = Date.now();
  if (ms !== isoMs) { isoMs = ms; iso = new Date(ms).toISOString(); }
  return iso;
}

function send(st: Station, messageId: string, frame: string, phase: Phase): void {
  st.outId = messageId;
  st.outAt = performance.now();
  st.outPhase = phase;
  phase.sent++;
  st.ws!.send(frame);
}

function sendSteady(st: Station, phase: Phase): void {
  const id = String(++st.seq);
  if (st.sendStatusNext) {
    send(st, id, st.v201 ? statusNotification201(id, timestamp()) : statusNotification(id, 'Charging', timestamp()), phase);
  } else {
    st.energyWh += 31; // 11 kW for ~10 s per sample
    send(st, id, st.v201
      ? transactionEvent201(id, 'Updated', `BTX${st.index}`, ++st.txSeqNo, '', st.energyWh, 11_000, timestamp())
      : meterValues(id, st.transactionId, st.energyWh, 11_000, timestamp()), phase);
  }
  st.sendStatusNext = !st.sendStatusNext;
}

/**
 * The id of a CALLRESULT written the usual way (`[3,"<id>",`), read without parsing the payload: in the load phases
 * only the match with the outstanding call matters, and parsing every answer would make the client the bottleneck.
 */
function resultId(text: string): string | null {
  if (!text.startsWith('[3,"')) return null;
  const end = text.indexOf('"', 4);
  return end > 4 && text.charCodeAt(end + 1) === 44 /* , */ ? text.slice(4, end) : null;
}

function onFrame(st: Station, data: WebSocket.RawData): void {
  const text = data.toString();
  if (st.waiter === null && st.outId !== null && resultId(text) === st.outId) { answered(st, [CALLRESULT, st.outId, null]); return; }
  let frame: Frame;
  try {
    frame = JSON.parse(text);
  } catch {
    st.group.strayFrames++;
    return;
  }
  if (!Array.isArray(frame)) { st.group.strayFrames++; return; }
  if (frame[0] === CALL) {
    const action = String(frame[2]);
    st.group.serverCalls[action] = (st.group.serverCalls[action] ?? 0) + 1;
    st.ws?.send(answerServerCall(String(frame[1]), action));
    return;
  }
  if ((frame[0] !== CALLRESULT && frame[0] !== CALLERROR) || frame[1] !== st.outId || st.outPhase === null) { st.group.strayFrames++; return; }
  answered(st, frame);
}

function answered(st: Station, frame: Frame): void {
  const t = performance.now();
  const phase = st.outPhase;
  if (phase === null) return;
  const rtt = t - st.outAt;
  st.outId = null;
  st.outPhase = null;
  st.lastAnswerAt = performance.timeOrigin + t;
  phase.record(st.lastAnswerAt, rtt, frame[0] === CALLERROR ? String(frame[2]) : null);
  const waiter = st.waiter;
  st.waiter = null;
  waiter?.(frame);
  if (phase === st.group.current && phase.active && phase.closedLoop && st.ws?.readyState === WebSocket.OPEN) sendSteady(st, phase);
}

function open(st: Station, url: string, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const protocol = st.v201 ? 'ocpp2.0.1' : 'ocpp1.6';
    const ws = new WebSocket(url + encodeURIComponent(st.id), [protocol], { perMessageDeflate: false, handshakeTimeout: timeoutMs, skipUTF8Validation: true });
    let settled = false;
    const done = (failure: string | null) => { if (!settled) { settled = true; resolve(failure); } };
    ws.on('unexpected-response', (_req, res) => { done(`HTTP ${res.statusCode}`); ws.terminate(); });
    ws.on('error', (err) => done(`socket error: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    ws.on('open', () => {
      if (ws.protocol !== protocol) { done(`subprotocol "${ws.protocol}"`); ws.terminate(); return; }
      st.ws = ws;
      done(null);
    });
    ws.on('message', (data) => onFrame(st, data));
    ws.on('close', (code) => {
      if (st.ws === ws && !st.group.closing) st.group.closedByServer[code] = (st.group.closedByServer[code] ?? 0) + 1;
      if (st.ws === ws) st.ws = null;
      done(`closed ${code} during handshake`);
    });
  });
}

/** One call during the boot sequence; null when no answer came within the timeout. */
function call(st: Station, messageId: string, frame: string, phase: Phase, timeoutMs: number): Promise<Frame | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { st.waiter = null; resolve(null); }, timeoutMs);
    st.waiter = (answer) => { clearTimeout(timer); resolve(answer); };
    send(st, messageId, frame, phase);
  });
}

async function boot(st: Station, phase: Phase, ocpp: boolean, timeoutMs: number, status: Record<string, number>): Promise<boolean> {
  const count = (s: string) => { status[s] = (status[s] ?? 0) + 1; };
  let id = String(++st.seq);
  const bootAnswer = await call(st, id, st.v201 ? bootNotification201(id, st.id) : bootNotification(id, st.id), phase, timeoutMs);
  if (bootAnswer === null) { count('unanswered'); return true; }
  if (bootAnswer[0] === CALLERROR) { count(`CALLERROR ${bootAnswer[2]}`); return true; }
  // The echo server answers with the request's own payload; only Voltyard's answer has a registration status.
  const bootStatus = ocpp ? String((bootAnswer[2] as { status?: unknown }).status) : 'Accepted';
  count(bootStatus);
  if (bootStatus !== 'Accepted') return true;
  st.accepted = true;
  id = String(++st.seq);
  if (st.v201) {
    // 2.0.1: the station names its own transaction; the answer carries only the token's status.
    const started = await call(st, id, transactionEvent201(id, 'Started', `BTX${st.index}`, 0, `BENCH${st.index}`, st.energyWh, 0, timestamp()), phase, timeoutMs);
    st.transactionId = started !== null && started[0] === CALLRESULT ? st.index : null;
    id = String(++st.seq);
    await call(st, id, statusNotification201(id, timestamp()), phase, timeoutMs);
    return st.transactionId !== null;
  }
  const started = await call(st, id, startTransaction(id, `BENCH${st.index}`, st.energyWh, timestamp()), phase, timeoutMs);
  const tx = ocpp ? (started?.[2] as { transactionId?: unknown } | undefined)?.transactionId : st.index + 1;
  st.transactionId = Number.isInteger(tx) ? tx as number : null;
  id = String(++st.seq);
  await call(st, id, statusNotification(id, 'Charging', timestamp()), phase, timeoutMs);
  // A charger samples its meter as the session begins; the first MeterValues of a connection also costs the server
  // a look-up, which belongs to the boot, not to the steady state measured afterwards.
  id = String(++st.seq);
  await call(st, id, meterValues(id, st.transactionId, st.energyWh, 11_000, timestamp()), phase, timeoutMs);
  return st.transactionId !== null;
}

async function connect(cmd: Extract<Command, { cmd: 'connect' }>): Promise<void> {
  const group = groupOf(cmd.target);
  const stations = group.stations;
  for (const id of cmd.stationIds) {
    const index = Number(id.replace(/\D/g, ''));
    stations.push({ id, index, ws: null, seq: 0, outId: null, outAt: 0, outPhase: null, waiter: null, transactionId: null, energyWh: 100_000, sendStatusNext: true, lastAnswerAt: 0, accepted: false, group, v201: cmd.ocpp201Every > 0 && index % cmd.ocpp201Every === 0, txSeqNo: 0 });
  }
  const phase = new Phase('boot', nowAbs(), Infinity, false);
  group.current = phase;
  const failures: Record<string, number> = {};
  const bootStatus: Record<string, number> = {};
  const boots: Promise<boolean>[] = [];
  const firstAttemptAt = nowAbs();
  let lastOpenAt = firstAttemptAt;
  let opened = 0;
  let next = 0;
  // A fixed number of handshakes in flight: what a fleet reconnecting after an outage looks like, without
  // overflowing the listen backlog. Each station boots as soon as its socket is open, concurrently with the rest.
  const lane = async () => {
    while (next < stations.length) {
      const st = stations[next++];
      const failure = await open(st, cmd.url, cmd.timeoutMs);
      if (failure !== null) { failures[failure] = (failures[failure] ?? 0) + 1; continue; }
      opened++;
      lastOpenAt = nowAbs();
      boots.push(boot(st, phase, cmd.ocpp, cmd.timeoutMs, bootStatus));
    }
  };
  await Promise.all(Array.from({ length: Math.min(cmd.concurrency, stations.length) }, lane));
  const withTx = await Promise.all(boots);
  const lastBootedAt = nowAbs();
  phase.active = false;
  const unanswered = stations.filter((s) => s.outPhase === phase).length;
  const report: ConnectReport = {
    evt: 'connect', opened, failures, firstAttemptAt, lastOpenAt, lastBootedAt, bootStatus,
    noTransactionId: withTx.filter((ok) => !ok).length, boot: phase.report(unanswered),
  };
  post(report, [report.boot.latencies.buffer]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

async function runPhase(cmd: Extract<Command, { cmd: 'phase' }>): Promise<void> {
  const { stations } = groupOf(cmd.target);
  const phase = new Phase(cmd.name, cmd.startAt, cmd.startAt + cmd.durationMs, cmd.closedLoop);
  await sleep(cmd.startAt - nowAbs());
  groupOf(cmd.target).current = phase;
  const live = stations.filter((s) => s.ws !== null && s.accepted);
  if (cmd.closedLoop) {
    for (const st of live) if (st.outId === null) sendSteady(st, phase);
    await sleep(phase.endAt - nowAbs());
  } else {
    // Fixed offered rate: calls go out in round-robin order, so each station sends every live.length / rate seconds.
    let issued = 0;
    let cursor = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const t = nowAbs();
        const due = Math.floor(Math.min(t - phase.startAt, cmd.durationMs) / 1000 * cmd.ratePerSec);
        while (issued < due && live.length > 0) {
          const st = live[cursor];
          cursor = (cursor + 1) % live.length;
          issued++;
          if (st.ws === null) continue;
          if (st.outId !== null) { phase.skippedBusy++; continue; }
          sendSteady(st, phase);
        }
        if (t >= phase.endAt) { clearInterval(timer); resolve(); }
      };
      const timer = setInterval(tick, 1);
    });
  }
  phase.active = false;
  const drainUntil = nowAbs() + cmd.drainMs;
  while (nowAbs() < drainUntil && stations.some((s) => s.outPhase === phase)) await sleep(20);
  const unanswered = stations.filter((s) => s.outPhase === phase).length;
  const report = phase.report(unanswered);
  post(report, [report.latencies.buffer]);
}

function held(group: Group): void {
  const since = group.current?.startAt ?? 0;
  const report: HeldReport = {
    evt: 'held',
    held: group.stations.filter((s) => s.ws?.readyState === WebSocket.OPEN && s.lastAnswerAt >= since).length,
    closedByServer: group.closedByServer, serverCalls: group.serverCalls, strayFrames: group.strayFrames,
  };
  post(report);
}

async function closeAll(group: Group): Promise<void> {
  group.closing = true;
  await Promise.all(group.stations.map((st) => new Promise<void>((resolve) => {
    const ws = st.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) { resolve(); return; }
    const timer = setTimeout(() => { ws.terminate(); resolve(); }, 5000);
    ws.once('close', () => { clearTimeout(timer); resolve(); });
    ws.close(1000);
  })));
  post({ evt: 'closed' });
}

port.on('message', (cmd: Command) => {
  const run = cmd.cmd === 'connect' ? connect(cmd)
    : cmd.cmd === 'phase' ? runPhase(cmd)
      : cmd.cmd === 'held' ? Promise.resolve(held(groupOf(cmd.target)))
        : closeAll(groupOf(cmd.target));
  run.catch((err: Error) => post({ evt: 'error', message: err.stack ?? err.message }));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootCharger, nextFrame, rawSocket } from '../helpers/charger.ts';
import { spell } from '../../src/ocpp/rpc.ts';
import { onBothStores, sleep, startOcppServer, waitFor, type OcppTestServer } from './helpers.ts';
import { bootCharger201, txEvent } from './v201.ts';
import { rng as seeded } from '../../bench/planner/random.ts';

/**
 * A bounded, seeded fuzz of the OCPP-J layer over real WebSockets: mutated frames of each version go to the real
 * server, and every CALL with a readable string id must get exactly one answer with that id (a CALLRESULT or a
 * CALLERROR with a code of that version), every other frame none; the connection, the server and a normal charging
 * session carry on afterwards. The seed is fixed: a failure replays the same frames (FUZZ_SEED overrides it).
 */

const framesPerVersion = 3000;
const seed = Number(process.env.FUZZ_SEED ?? 20261128);

const errorCodes: Record<string, ReadonlySet<string>> = {
  'ocpp1.6': new Set(['FormationViolation', 'OccurenceConstraintViolation', 'PropertyConstraintViolation', 'TypeConstraintViolation',
    'ProtocolError', 'NotImplemented', 'NotSupported', 'InternalError', 'SecurityError', 'GenericError']),
  'ocpp2.0.1': new Set(['FormatViolation', 'OccurrenceConstraintViolation', 'PropertyConstraintViolation', 'TypeConstraintViolation',
    'RpcFrameworkError', 'MessageTypeNotSupported', 'ProtocolError', 'NotImplemented', 'NotSupported', 'InternalError', 'SecurityError', 'GenericError']),
};

const now = '2026-11-20T10:00:00.000Z';
const templates: Record<string, [string, unknown][]> = {
  'ocpp1.6': [
    ['BootNotification', { chargePointVendor: 'Fuzz', chargePointModel: 'F-1', firmwareVersion: '1.0' }],
    ['Heartbeat', {}],
    ['StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: now }],
    ['Authorize', { idTag: 'FUZZ-TAG' }],
    ['StartTransaction', { connectorId: 1, idTag: 'FUZZ-TAG', meterStart: 1000, timestamp: now }],
    ['MeterValues', { connectorId: 1, transactionId: 1, meterValue: [{ timestamp: now, sampledValue: [{ value: '1200', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }] }],
    ['StopTransaction', { transactionId: 1, meterStop: 2000, timestamp: now, reason: 'Local' }],
    ['DataTransfer', { vendorId: 'Fuzz', messageId: 'm', data: 'd' }],
    ['FirmwareStatusNotification', { status: 'Idle' }],
    ['DiagnosticsStatusNotification', { status: 'Idle' }],
    ['SecurityEventNotification', { type: 'x', timestamp: now }],
    ['TransactionEvent', { eventType: 'Started' }],
  ],
  'ocpp2.0.1': [
    ['BootNotification', { chargingStation: { vendorName: 'Fuzz', model: 'F-2' }, reason: 'PowerUp' }],
    ['Heartbeat', {}],
    ['StatusNotification', { timestamp: now, connectorStatus: 'Available', evseId: 1, connectorId: 1 }],
    ['Authorize', { idToken: { idToken: 'FUZZ-TAG', type: 'ISO14443' } }],
    ['TransactionEvent', txEvent('Started', { transactionId: 'fuzz-tx', seqNo: 0, timestamp: now, evseId: 1, idToken: 'FUZZ-TAG', chargingState: 'Charging', meter: [{ wh: 1000 }] })],
    ['TransactionEvent', txEvent('Updated', { transactionId: 'fuzz-tx', seqNo: 1, timestamp: now, meter: [{ wh: 1200, w: 7000, soc: 50 }] })],
    ['TransactionEvent', txEvent('Ended', { transactionId: 'fuzz-tx', seqNo: 2, timestamp: now, stoppedReason: 'Local', meter: [{ wh: 2000, context: 'Transaction.End' }] })],
    ['MeterValues', { evseId: 1, meterValue: [{ timestamp: now, sampledValue: [{ value: 1200 }] }] }],
    ['NotifyEVChargingNeeds', { evseId: 1, chargingNeeds: { requestedEnergyTransfer: 'AC_single_phase', acChargingParameters: { energyAmount: 20000, evMinCurrent: 6, evMaxCurrent: 32, evMaxVoltage: 400 } } }],
    ['DataTransfer', { vendorId: 'Fuzz', messageId: 'm', data: { any: ['thing'] } }],
    ['FirmwareStatusNotification', { status: 'Idle' }],
    ['SignCertificate', { csr: 'x' }],
    ['StartTransaction', { connectorId: 1, idTag: 'FUZZ-TAG', meterStart: 1000, timestamp: now }],
  ],
};

/** The project's seeded PRNG (bench/planner/random.ts) with the shorthands a fuzzer wants. */
function prng(s: number) {
  const r = seeded(s);
  const int = (n: number) => r.int(0, n - 1);
  return { next: r.next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]!, chance: (p: number) => r.next() < p };
}
type Rng = ReturnType<typeof prng>;

const oddStrings = ['', ' ', '0', 'null', '💥⚡🔌', 'é\u0301', '\u0000', '\ud800', '\udfff\ud800', 'العربية', '\u202e', '"quoted"', '\\', '</script>', '__proto__', 'constructor', 'toString', 'x'.repeat(60), 'y'.repeat(5000)];
const oddNumbers = [0, -0, -1, 1.5, 0.1, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e21, 1e308, -1e308, 5e-324, 1e-7];

/**
 * Deep nesting is written into the frame's text (JSON.stringify would overflow the stack on it): a placeholder string
 * `"\u0001deep:<depth>"` becomes that many arrays or objects around a leaf.
 */
const deep = (depth: number): string => `\u0001deep:${depth}`;
const deepPlaceholder = /"\\u0001deep:(\d+)"/g;
function expandDeep(text: string): string {
  return text.replace(deepPlaceholder, (_m, n: string) => {
    const depth = Number(n);
    return depth % 2 === 0 ? '['.repeat(depth) + '1' + ']'.repeat(depth) : '{"d":'.repeat(depth) + '"leaf"' + '}'.repeat(depth);
  });
}

/** Any JSON value, some of them nasty. */
function randomValue(rng: Rng, budget = 3): unknown {
  switch (rng.int(9)) {
    case 0: return null;
    case 1: return rng.chance(0.5);
    case 2: return rng.pick(oddNumbers);
    case 3: return rng.int(1000) - 500;
    case 4: return rng.pick(oddStrings);
    case 5: return String.fromCodePoint(...Array.from({ length: rng.int(12) }, () => rng.chance(0.8) ? 32 + rng.int(95) : rng.int(0x10ffff + 1 - 0xe000) + 0xe000));
    case 6: return budget > 0 ? Array.from({ length: rng.int(4) }, () => randomValue(rng, budget - 1)) : [];
    case 7: return budget > 0 ? Object.fromEntries(Array.from({ length: rng.int(4) }, () => [rng.pick(['a', 'status', 'id', 'value', 'timestamp', 'customData', '__proto__']), randomValue(rng, budget - 1)])) : {};
    default: return deep(rng.chance(0.9) ? rng.int(50) : 2000 + rng.int(3000));
  }
}

function clone<T>(v: T): T { return JSON.parse(JSON.stringify(v)) as T; }

/** One mutation somewhere in a payload tree: a value of another type, a property gone or added, an array emptied. */
function mutate(rng: Rng, root: unknown): unknown {
  if (root === null || typeof root !== 'object' || rng.chance(0.1)) return randomValue(rng);
  const paths: (Record<string, unknown> | unknown[])[] = [];
  const walk = (v: unknown) => {
    if (v && typeof v === 'object') {
      paths.push(v as Record<string, unknown>);
      for (const child of Object.values(v)) walk(child);
    }
  };
  walk(root);
  const node = rng.pick(paths);
  const keys = Object.keys(node);
  const key = keys.length > 0 ? rng.pick(keys) : '0';
  const rec = node as Record<string, unknown>;
  switch (rng.int(6)) {
    case 0: delete rec[key]; break;
    case 1: rec[rng.pick(['surprise', 'customData', 'Status', key + 'X'])] = randomValue(rng); break;
    case 2: rec[key] = rng.pick(oddNumbers); break;
    case 3: rec[key] = rng.pick(oddStrings); break;
    case 4: rec[key] = Array.isArray(rec[key]) ? [] : [rec[key]]; break;
    default: rec[key] = randomValue(rng); break;
  }
  return root;
}

interface Frame { text?: string; binary?: Buffer }

/** The n-th generated frame: a CALL of the version, mutated at the payload or the frame level, or no OCPP-J at all. */
function generate(rng: Rng, protocol: string, usedIds: string[], n: number): Frame {
  const [action, valid] = rng.pick(templates[protocol]!);
  const payload = rng.chance(0.25) ? clone(valid) : mutate(rng, clone(valid));
  const freshId = `f${n}`;
  const id = usedIds.length > 0 && rng.chance(0.05) ? rng.pick(usedIds) : freshId;
  if (id === freshId) usedIds.push(id);
  const kind = rng.int(100);
  let frame: unknown[];
  if (kind < 55) frame = [2, id, action, payload];
  else if (kind < 60) frame = [2, rng.pick([id, `${id}-${rng.pick(oddStrings)}`, '', 'z'.repeat(300)]), rng.pick([action, 42, null, 'FlyToTheMoon', 'Heartbeat ', 'heartbeat', '__proto__', 'constructor', '']), payload];
  else if (kind < 66) frame = [rng.pick([0, 1, 5, 6, 2.5, -2, 1e308, '2', null, true, [2]]), id, action, payload];
  else if (kind < 72) frame = [2, rng.pick([17, null, true, {}, [id], 1e308]), action, payload];
  else if (kind < 76) frame = [2, id];
  else if (kind < 80) frame = [2, id, action];
  else if (kind < 83) frame = [2, id, action, payload, 'extra', 1];
  else if (kind < 88) frame = rng.chance(0.5) ? [3, id, payload] : [4, id, rng.pick(['GenericError', 42, null]), rng.pick(['x', 7]), rng.pick([{}, [], 'x', null])];
  else if (kind < 90) return { text: rng.pick(['', ' ', '[]', '{}', 'null', '2', '"[2,"', '[2,"x","Heartbeat",{}', '[2,"x","Heartbeat",{}]]', '\u0000', '[2,"nan",NaN]']) };
  else if (kind < 93) {
    // Random printable noise, sometimes starting like a CALL.
    const noise = Array.from({ length: rng.int(200) }, () => String.fromCharCode(32 + rng.int(95))).join('');
    return { text: rng.chance(0.5) ? `[2,"${id}",${noise}` : noise };
  } else if (kind < 97) {
    // Binary frames: random bytes, or a CALL sent as binary.
    if (rng.chance(0.5)) return { binary: Buffer.from(Array.from({ length: rng.int(300) }, () => rng.int(256))) };
    return { binary: Buffer.from(expandDeep(JSON.stringify([2, id, action, payload]))) };
  } else {
    // The payload nested deep inside a CALL, as a whole payload or (2.0.1) as customData.
    const nested = deep(1000 + rng.int(20000));
    frame = [2, id, action, rng.chance(0.5) ? nested : { ...(valid as object), customData: { vendorId: 'x', deep: nested } }];
  }
  const text = expandDeep(JSON.stringify(frame));
  if (rng.chance(0.03)) return { text: text.replaceAll(',', ' ,\n ') };
  return { text };
}

/** The message id the server should answer, or null: the rule of docs/ocpp.md on the text the server receives. */
function expectedAnswer(frame: Frame): string | null {
  const text = frame.binary ? frame.binary.toString() : Buffer.from(frame.text!).toString();
  let message: unknown;
  try { message = JSON.parse(text); } catch { return null; }
  if (!Array.isArray(message) || typeof message[1] !== 'string') return null;
  // A CALLRESULT or CALLERROR for no call of ours is dropped; every other message type is answered, a type that is not
  // a number too.
  return message[0] === 3 || message[0] === 4 ? null : message[1];
}

async function fuzzConnection(server: OcppTestServer, protocol: string, stationId: string): Promise<void> {
  const rng = prng(seed + (protocol === 'ocpp1.6' ? 16 : 201));
  const ws = await rawSocket(server.url, stationId, protocol, { maxPayload: 1024 * 1024 * 1024 });
  const expected = new Map<string, number>();
  const answered = new Map<string, number>();
  const wrong: string[] = [];
  let closedWith: string | null = null;
  ws.on('close', (code, reason) => { closedWith = `${code} ${String(reason)}`; });
  let wake: (() => void) | null = null;
  ws.on('message', (data, isBinary) => {
    const reply = JSON.parse(String(data)) as unknown[];
    wake?.();
    if (reply[0] === 2) return; // a call of the central system's own (none expected, but not an answer)
    const id = reply[1] as string;
    answered.set(id, (answered.get(id) ?? 0) + 1);
    if (isBinary) wrong.push(`binary answer to ${id}`);
    if (reply[0] === 4) {
      if (!errorCodes[protocol]!.has(reply[2] as string)) wrong.push(`${id}: ${protocol} has no error code ${JSON.stringify(reply[2])}`);
      if (typeof reply[3] !== 'string' || typeof reply[4] !== 'object' || reply[4] === null || Array.isArray(reply[4]) || reply.length !== 5) wrong.push(`${id}: malformed CALLERROR ${JSON.stringify(reply).slice(0, 200)}`);
    } else if (reply[0] !== 3 || reply.length !== 3) {
      wrong.push(`${id}: not an answer ${JSON.stringify(reply).slice(0, 200)}`);
    }
  });
  const outstanding = () => {
    let n = 0;
    for (const [id, count] of expected) n += Math.max(0, count - (answered.get(id) ?? 0));
    return n;
  };
  // Waits for the outstanding answers while they keep coming: gives up after `idleTicks` quiet turns of at least
  // 50 ms each (turns, not a deadline: a process paused meanwhile does not count as a silent server).
  const settle = async (idleTicks: number) => {
    let idle = 0;
    let left = outstanding();
    while (left > 0 && idle < idleTicks && closedWith === null) {
      await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, 50); });
      wake = null;
      const now = outstanding();
      idle = now < left ? 0 : idle + 1;
      left = now;
    }
  };

  const usedIds: string[] = [];
  for (let n = 0; n < framesPerVersion; n++) {
    const frame = generate(rng, protocol, usedIds, n);
    const id = expectedAnswer(frame);
    if (id !== null) expected.set(id, (expected.get(id) ?? 0) + 1);
    if (frame.binary) ws.send(frame.binary, { binary: true });
    else ws.send(frame.text!);
    // A station has few calls in flight: let the answers catch up every 25 frames.
    if (n % 25 === 24) await settle(100);
  }
  await settle(200);
  // Answers that should not come would come right behind the others.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(closedWith, null, `the connection stays open (${protocol})`);
  assert.deepEqual(wrong, [], `answers are well formed (${protocol})`);
  const missing = [...expected].filter(([id, count]) => (answered.get(id) ?? 0) < count).map(([id]) => id);
  const extra = [...answered].filter(([id, count]) => count > (expected.get(id) ?? 0)).map(([id]) => id);
  assert.deepEqual(missing.slice(0, 10), [], `every CALL with a readable id is answered (${protocol}; ${missing.length} missing)`);
  assert.deepEqual(extra.slice(0, 10), [], `nothing else is answered, nothing twice (${protocol}; ${extra.length} extra)`);
  assert.ok(expected.size > framesPerVersion / 2, 'most frames were answerable calls');

  // The same connection still answers a Heartbeat.
  ws.removeAllListeners('message');
  ws.send(JSON.stringify([2, 'after-fuzz', 'Heartbeat', {}]));
  const heartbeat = await nextFrame(ws, 5000);
  assert.equal(heartbeat?.[0], 3);
  assert.equal(heartbeat?.[1], 'after-fuzz');
  ws.close();
}

test('fuzzed OCPP-J frames of both versions: one well-formed answer per readable CALL, none otherwise, and the server carries on', async () => {
  const server = await startOcppServer();
  try {
    await server.putToken('FUZZ-TAG');
    await server.putToken('RFID-OK');
    await fuzzConnection(server, 'ocpp1.6', 'FUZZ-16');
    await fuzzConnection(server, 'ocpp2.0.1', 'FUZZ-201');

    // A valid session of each version still works on the same server.
    const cp16 = await bootCharger(server.url, 'AFTER-16');
    const start = await cp16.call<{ transactionId: number; idTagInfo: { status: string } }>('StartTransaction', { connectorId: 1, idTag: 'RFID-OK', meterStart: 0, timestamp: '2026-11-21T10:00:00.000Z' });
    assert.equal(start.idTagInfo.status, 'Accepted');
    await cp16.call('StopTransaction', { transactionId: start.transactionId, meterStop: 5000, timestamp: '2026-11-21T11:00:00.000Z', reason: 'Local' });
    await cp16.close();
    const cp201 = await bootCharger201(server.url, 'AFTER-201');
    const started = await cp201.call<{ idTokenInfo: { status: string } }>('TransactionEvent', txEvent('Started', { transactionId: 'after-tx', seqNo: 0, timestamp: '2026-11-21T10:00:00.000Z', evseId: 1, idToken: 'RFID-OK', chargingState: 'Charging', meter: [{ wh: 0 }] }));
    assert.equal(started.idTokenInfo.status, 'Accepted');
    await cp201.call('TransactionEvent', txEvent('Ended', { transactionId: 'after-tx', seqNo: 1, timestamp: '2026-11-21T11:00:00.000Z', stoppedReason: 'Local', meter: [{ wh: 5000, context: 'Transaction.End' }] }));
    await cp201.close();
    const ended = (await server.eventsOf('SessionEnded')).filter((e) => e.stationId === 'AFTER-16' || e.stationId === 'AFTER-201');
    assert.deepEqual(ended.map((e) => [e.stationId, e.energyKwh]).sort(), [['AFTER-16', 5], ['AFTER-201', 5]]);
  } finally {
    await server.stop();
  }
});

test('error codes go out as the connection\'s version spells them, whatever code a handler throws', () => {
  const rng = prng(seed);
  const codes = [...errorCodes['ocpp1.6']!, ...errorCodes['ocpp2.0.1']!, 'constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'NotAnOcppCode', ''];
  for (let i = 0; i < 500; i++) {
    const code = rng.chance(0.8) ? rng.pick(codes) : String(randomValue(rng));
    for (const protocol of ['ocpp1.6', 'ocpp2.0.1'] as const) {
      const spelled = spell(code, protocol);
      assert.ok(errorCodes[protocol]!.has(spelled), `${JSON.stringify(code)} goes out on ${protocol} as ${String(spelled)}`);
      if (errorCodes[protocol]!.has(code)) assert.equal(spelled, code, 'a code of the version is kept');
    }
  }
  assert.equal(spell('RpcFrameworkError', 'ocpp1.6'), 'FormationViolation');
  assert.equal(spell('FormationViolation', 'ocpp2.0.1'), 'FormatViolation');
  assert.equal(spell('OccurenceConstraintViolation', 'ocpp2.0.1'), 'OccurrenceConstraintViolation');
});

/** Alternates the version of the flapping stations. */
let flaps = 0;
const nextProtocol = () => (flaps++ % 2 === 0 ? 'ocpp1.6' : 'ocpp2.0.1');

onBothStores('stations that connect and drop at once are announced connected, then disconnected, and left offline', async (_t, overrides) => {
  const server = await startOcppServer(overrides);
  try {
    const ids = Array.from({ length: 12 }, (_, i) => `FLAP-${i}`);
    for (const id of ids) (await rawSocket(server.url, id, nextProtocol())).terminate();
    for (const id of ids) {
      const last = await waitFor(`${id} disconnected`, async () => {
        await server.services.bus.drain();
        const types = server.events.filter((e) => 'stationId' in e && e.stationId === id && (e.type === 'StationConnected' || e.type === 'StationDisconnected')).map((e) => e.type);
        return types.length === 2 ? types : null;
      });
      assert.deepEqual(last, ['StationConnected', 'StationDisconnected'], id);
    }
    await sleep(200);
    for (const id of ids) assert.equal((await (await server.api(`/api/stations/${id}`)).json()).online, false, `${id} is offline`);
  } finally {
    await server.stop();
  }
}, test);

test('a station that sends calls but never reads the answers is dropped, not buffered without end', async () => {
  const server = await startOcppServer();
  try {
    const ws = await rawSocket(server.url, 'NO-READ');
    // Stop reading on the station's side: the answers pile up in the kernel, then in the server.
    (ws as unknown as { _socket: { pause(): void } })._socket.pause();
    for (let i = 0; i < 100_000; i++) {
      ws.send(`[2,"n${i}","NoSuchAction${'x'.repeat(40)}",{}]`);
      if (i % 2000 === 1999) await sleep(10);
    }
    const gone = await waitFor('the station dropped', async () => (await server.eventsOf('StationDisconnected')).find((e) => e.stationId === 'NO-READ'), 15_000);
    assert.equal(gone.reason, 'connection lost (no close frame)');
    assert.equal((await (await server.api('/api/stations/NO-READ')).json()).online, false);
    ws.terminate();
  } finally {
    await server.stop();
  }
});

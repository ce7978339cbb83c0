import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bootCharger, closed, connectCharger, nextFrame, rawSocket, rpcClient } from '../helpers/charger.ts';
import type { Kysely } from 'kysely';
import { startOcppServer, waitFor } from './helpers.ts';
import { maxPendingStations } from '../../src/ocpp/server.ts';
import type { OcppTables } from '../../src/ocpp/migrations.ts';

const bootParams = { chargePointVendor: 'V', chargePointModel: 'M' };
const password = 'correct-horse-battery-staple';

test('unknown stations: reject answers Rejected and registers nothing', async () => {
  const server = await startOcppServer({ unknownStations: 'reject' });
  try {
    const cp = await connectCharger(server.url, 'STRANGER');
    const boot = await cp.call<{ status: string; interval: number }>('BootNotification', bootParams);
    assert.equal(boot.status, 'Rejected');
    assert.ok(boot.interval >= 60);
    assert.equal((await server.api('/api/stations/STRANGER')).status, 404);
    await cp.close();
  } finally {
    await server.stop();
  }
});

test('unknown stations: pending waits for an operator, whose registration makes it boot Accepted at once', async () => {
  const server = await startOcppServer({ unknownStations: 'pending' });
  try {
    let triggered = 0;
    const cp = await connectCharger(server.url, 'NEW-01', { handlers: { TriggerMessage: () => { triggered++; return { status: 'Accepted' }; } } });
    assert.equal((await cp.call<{ status: string }>('BootNotification', bootParams)).status, 'Pending');
    const listed = await (await server.api('/api/stations')).json();
    assert.deepEqual(listed.items.map((s: { id: string; registration: string }) => [s.id, s.registration]), [['NEW-01', 'pending']]);
    const put = await server.api('/api/stations/NEW-01', { method: 'PUT', body: JSON.stringify({ securityProfile: 0 }) });
    assert.equal(put.status, 200);
    await waitFor('TriggerMessage(BootNotification)', () => triggered === 1);
    assert.equal((await cp.call<{ status: string }>('BootNotification', bootParams)).status, 'Accepted');
    await cp.close();
  } finally {
    await server.stop();
  }
});

test('unknown stations: accept registers them under the default security profile', async () => {
  const server = await startOcppServer({ unknownStations: 'accept' });
  try {
    const cp = await bootCharger(server.url, 'LAB-01');
    const station = await (await server.api('/api/stations/LAB-01')).json();
    assert.equal(station.registration, 'accepted');
    assert.equal(station.securityProfile, 0);
    await cp.close();
  } finally {
    await server.stop();
  }
});

test('security profile 1: the right password connects; a wrong or missing one gets 401, is logged and counted, and never echoed', async () => {
  const server = await startOcppServer({ unknownStations: 'reject' });
  try {
    const weak = await server.api('/api/stations/SECURE-01', { method: 'PUT', body: JSON.stringify({ securityProfile: 1, password: 'short' }) });
    assert.equal(weak.status, 400);
    const put = await server.api('/api/stations/SECURE-01', { method: 'PUT', body: JSON.stringify({ securityProfile: 1, password }) });
    assert.equal(put.status, 201);
    const body = await put.json();
    assert.equal(body.hasPassword, true);
    assert.ok(!JSON.stringify(body).includes(password));

    const ok = await bootCharger(server.url, 'SECURE-01', { password });
    await ok.close();
    for (const attempt of ['wrong-password-0000000', undefined]) {
      await assert.rejects(connectCharger(server.url, 'SECURE-01', { password: attempt }), /Unauthorized/);
    }
    const stats = await (await server.api('/api/ocpp/stats')).json();
    assert.equal(stats.authFailures, 2);
    const failures = server.logs.find('station authentication failed');
    assert.equal(failures.length, 2);
    assert.ok(!JSON.stringify(server.logs.lines).includes('wrong-password-0000000'), 'a presented password is never logged');
    assert.ok(!JSON.stringify(server.logs.lines).includes(password));
  } finally {
    await server.stop();
  }
});

test('security profile 2 needs TLS: Basic auth over wss connects, the same station over plain ws is refused', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'voltyard-tls-'));
  try {
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
    const server = await startOcppServer({ unknownStations: 'reject', tlsCertFile: cert, tlsKeyFile: key });
    try {
      assert.ok(server.url.startsWith('https://'));
      const https = await import('node:https');
      // fetch has no per-request CA option; node:https with the test CA registers the station over TLS.
      await new Promise<void>((resolve, reject) => {
        const req = https.request(`${server.url}/api/stations/TLS-01`, { method: 'PUT', ca: readFileSync(cert), headers: { authorization: 'Bearer test-admin-key-0123456789', 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => res.statusCode === 201 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)));
        });
        req.on('error', reject);
        req.end(JSON.stringify({ securityProfile: 2, password }));
      });
      const client = rpcClient({
        endpoint: `${server.url.replace(/^https/, 'wss')}/ocpp`, identity: 'TLS-01', protocols: ['ocpp1.6'], password, reconnect: false,
        wsOpts: { ca: readFileSync(cert) },
      });
      await client.connect();
      assert.equal(((await client.call('BootNotification', bootParams)) as { status: string }).status, 'Accepted');
      await client.close({ force: true });
    } finally {
      await server.stop();
    }
    // The same registration on a server without TLS: refused, because profile 2 needs it.
    const plain = await startOcppServer({ unknownStations: 'reject', dataDir: undefined });
    try {
      await plain.api('/api/stations/TLS-02', { method: 'PUT', body: JSON.stringify({ securityProfile: 2, password }) });
      await assert.rejects(connectCharger(plain.url, 'TLS-02', { password }), /Unauthorized/);
      assert.equal(plain.logs.find('station authentication failed')[0].reason, 'security profile 2 needs TLS');
    } finally {
      await plain.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a connection that negotiates no supported subprotocol is closed right after the handshake, with a logged reason', async () => {
  const server = await startOcppServer();
  try {
    const ws = await rawSocket(server.url, 'CP-PROTO', []);
    assert.equal(ws.protocol, '');
    const { code, reason } = await closed(ws);
    assert.equal(code, 1002);
    assert.match(reason, /ocpp1\.6/);
    // A client that offered only other subprotocols sees none chosen (and ws gives up by itself); the server closes too.
    for (const offered of [['ocpp1.5'], ['json']]) {
      await assert.rejects(rawSocket(server.url, 'CP-PROTO', offered), /no subprotocol/);
    }
    await waitFor('three logged closes', () => server.logs.find('negotiated no supported OCPP subprotocol').length === 3);
    assert.equal((await server.api('/api/stations/CP-PROTO')).status, 404, 'nothing was registered');
  } finally {
    await server.stop();
  }
});

test('identities that OCPP does not allow in the URL, and other paths, are refused at the handshake', async () => {
  const server = await startOcppServer();
  try {
    await assert.rejects(rawSocket(server.url, 'has:colon'), /HTTP 400/);
    await assert.rejects(rawSocket(server.url, 'x'.repeat(49)), /HTTP 400/);
    await assert.rejects(new Promise((resolve, reject) => {
      import('ws').then(({ default: WebSocket }) => {
        const ws = new WebSocket(`${server.url.replace(/^http/, 'ws')}/elsewhere/CP-1`, 'ocpp1.6');
        ws.once('open', resolve);
        ws.once('error', reject);
      });
    }));
  } finally {
    await server.stop();
  }
});

test('a second connection for a station replaces the first', async () => {
  const server = await startOcppServer();
  try {
    const first = await rawSocket(server.url, 'CP-TWICE');
    const firstClosed = closed(first);
    const second = await bootCharger(server.url, 'CP-TWICE');
    const { reason } = await firstClosed;
    assert.match(reason, /replaced/);
    assert.equal((await second.call<{ currentTime: string }>('Heartbeat')).currentTime.length > 0, true);
    const station = await (await server.api('/api/stations/CP-TWICE')).json();
    assert.equal(station.online, true, 'the replaced socket closing does not mark the station offline');
    assert.equal((await server.eventsOf('StationDisconnected')).length, 0);
    await second.close();
  } finally {
    await server.stop();
  }
});

test('a dead connection (no pong) is marked offline within two ping intervals', async () => {
  const server = await startOcppServer({ pingIntervalS: 1 });
  try {
    // autoPong off: the socket stays open at TCP level but never answers pings, like a charger whose link died.
    const ws = await rawSocket(server.url, 'CP-DEAD', 'ocpp1.6', { autoPong: false });
    ws.send(JSON.stringify([2, 'b', 'BootNotification', bootParams]));
    await nextFrame(ws);
    const since = Date.now();
    await waitFor('offline', async () => (await (await server.api('/api/stations/CP-DEAD')).json()).online === false, 5000);
    const elapsed = Date.now() - since;
    assert.ok(elapsed <= 2500, `offline after ${elapsed} ms`);
    const [event] = await server.eventsOf('StationDisconnected');
    assert.equal(event.stationId, 'CP-DEAD');
    ws.terminate();
  } finally {
    await server.stop();
  }
});

test('password logins: an address that failed five times is refused unchecked for a minute; a station without a password is not', async () => {
  const server = await startOcppServer({ unknownStations: 'reject' });
  try {
    assert.equal((await server.api('/api/stations/SECURE-02', { method: 'PUT', body: JSON.stringify({ securityProfile: 1, password }) })).status, 201);
    assert.equal((await server.api('/api/stations/OPEN-02', { method: 'PUT', body: JSON.stringify({ securityProfile: 0 }) })).status, 201);
    for (let k = 0; k < 5; k++) await assert.rejects(connectCharger(server.url, 'SECURE-02', { password: `wrong-password-000000${k}` }), /Unauthorized/);
    // The right password from the same address now fails too: nothing is checked until the address has been quiet.
    await assert.rejects(connectCharger(server.url, 'SECURE-02', { password }), /Unauthorized/);
    const stats = await (await server.api('/api/ocpp/stats')).json();
    assert.equal(stats.authFailures, 5);
    assert.equal(stats.authThrottled, 1);
    assert.equal(server.logs.find('station authentication failed').length, 5, 'a refused attempt is counted, not logged');
    const open = await bootCharger(server.url, 'OPEN-02');
    await open.close();
  } finally {
    await server.stop();
  }
});

test(`unknown stations: pending lists at most ${maxPendingStations}; past that, newcomers are rejected, counted and warned about once`, async () => {
  const server = await startOcppServer({ unknownStations: 'pending' });
  try {
    const db = server.services.store.db as unknown as Kysely<OcppTables>;
    const rows = Array.from({ length: maxPendingStations - 1 }, (_, k) => ({
      id: `FLOOD-${k}`, registration: 'pending' as const, security_profile: 0, password_hash: null, created_at: new Date().toISOString(), vendor: null, model: null,
      serial_number: null, firmware_version: null, protocol: null, online: 0, last_seen_at: null, last_boot_at: null, firmware_status: null, diagnostics_status: null,
    }));
    for (let k = 0; k < rows.length; k += 200) await db.insertInto('ocpp_stations').values(rows.slice(k, k + 200)).execute();
    const last = await connectCharger(server.url, 'NEW-LAST');
    assert.equal((await last.call<{ status: string }>('BootNotification', bootParams)).status, 'Pending', 'the last place on the list');
    await last.close();
    for (const id of ['NEW-OVER-1', 'NEW-OVER-2']) {
      const cp = await connectCharger(server.url, id);
      assert.equal((await cp.call<{ status: string }>('BootNotification', bootParams)).status, 'Rejected');
      await cp.close();
      assert.equal((await server.api(`/api/stations/${id}`)).status, 404, 'nothing stored');
    }
    assert.equal((await (await server.api('/api/ocpp/stats')).json()).pendingRefused, 2);
    assert.equal(server.logs.find('too many stations waiting for an operator').length, 1);
  } finally {
    await server.stop();
  }
});

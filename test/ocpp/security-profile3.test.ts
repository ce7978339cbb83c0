import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'node:https';
import { connectCharger } from '../helpers/charger.ts';
import { testAdminKey } from '../helpers/server.ts';
import { startOcppServer } from './helpers.ts';
import { boot201 } from './v201.ts';

/** A throwaway PKI made with openssl: a CSMS server certificate, a station CA and client certificates it signs. */
function makePki(dir: string) {
  const file = (name: string) => path.join(dir, name);
  const run = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('server-key.pem'), '-out', file('server.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost');
  const ca = (name: string) => run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file(`${name}-key.pem`), '-out', file(`${name}.pem`), '-days', '1', '-subj', `/CN=${name}`);
  ca('station-ca');
  ca('rogue-ca');
  writeFileSync(file('ext.cnf'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  const client = (name: string, cn: string, issuer: string) => {
    run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file(`${name}-key.pem`), '-out', file(`${name}.csr`), '-subj', `/O=Voltyard Test/CN=${cn}`);
    run('x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${issuer}.pem`), '-CAkey', file(`${issuer}-key.pem`), '-CAcreateserial', '-out', file(`${name}.pem`), '-days', '1', '-extfile', file('ext.cnf'));
    return { cert: readFileSync(file(`${name}.pem`)), key: readFileSync(file(`${name}-key.pem`)) };
  };
  return {
    serverCert: file('server.pem'), serverKey: file('server-key.pem'), ca: file('station-ca.pem'), serverCa: readFileSync(file('server.pem')),
    mtls01: client('mtls01', 'MTLS-01', 'station-ca'),
    other: client('other', 'MTLS-99', 'station-ca'),
    rogue: client('rogue', 'MTLS-01', 'rogue-ca'),
  };
}

/** The REST API over the test server's TLS (fetch takes no per-request CA). */
function apiTls(url: string, ca: Buffer, method: string, route: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${route}`, { method, ca, headers: { authorization: `Bearer ${testAdminKey}`, 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (chunk) => { text += String(chunk); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : {} }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

test('security profile 3 (mutual TLS): the certificate must be signed by the station CA and name the URL identity, over 1.6 and 2.0.1', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'voltyard-mtls-'));
  try {
    const pki = makePki(dir);
    const server = await startOcppServer({ unknownStations: 'reject', tlsCertFile: pki.serverCert, tlsKeyFile: pki.serverKey, tlsCaFile: pki.ca });
    try {
      assert.equal((await apiTls(server.url, pki.serverCa, 'PUT', '/api/stations/MTLS-01', { securityProfile: 3 })).status, 201);
      const connect = (identity: string, protocols: string[], cert?: { cert: Buffer; key: Buffer }, password?: string) =>
        connectCharger(server.url, identity, { protocols, password, wsOpts: { ca: pki.serverCa, ...(cert ?? {}) } });

      for (const protocols of [['ocpp1.6'], ['ocpp2.0.1']]) {
        const cp = await connect('MTLS-01', protocols, pki.mtls01);
        assert.equal(cp.client.protocol, protocols[0]);
        const boot = await cp.call<{ status: string }>('BootNotification', protocols[0] === 'ocpp1.6' ? { chargePointVendor: 'V', chargePointModel: 'M' } : boot201);
        assert.equal(boot.status, 'Accepted');
        await cp.close();
      }
      const station = (await apiTls(server.url, pki.serverCa, 'GET', '/api/stations/MTLS-01')).json;
      assert.deepEqual([station.securityProfile, station.hasPassword], [3, false]);

      // No certificate (a password does not stand in for it), a certificate for another station, one from another CA.
      await assert.rejects(connect('MTLS-01', ['ocpp2.0.1'], undefined, 'correct-horse-battery-staple'), /Unauthorized/);
      await assert.rejects(connect('MTLS-01', ['ocpp2.0.1'], pki.other), /Unauthorized/);
      await assert.rejects(connect('MTLS-01', ['ocpp1.6'], pki.rogue), /Unauthorized/);
      const reasons = server.logs.find('station authentication failed').map((l) => l.reason as string);
      assert.equal(reasons.length, 3);
      assert.match(reasons[0]!, /needs a client certificate/);
      assert.match(reasons[1]!, /names "MTLS-99", not the URL identity/);
      assert.match(reasons[2]!, /not trusted/);
    } finally {
      await server.stop();
    }
    // An unknown station proving its identity with a trusted certificate is listed for the operator under profile 3.
    const pending = await startOcppServer({ unknownStations: 'pending', tlsCertFile: pki.serverCert, tlsKeyFile: pki.serverKey, tlsCaFile: pki.ca });
    try {
      const cp = await connectCharger(pending.url, 'MTLS-99', { protocols: ['ocpp2.0.1'], wsOpts: { ca: pki.serverCa, ...pki.other } });
      assert.equal((await cp.call<{ status: string }>('BootNotification', boot201)).status, 'Pending');
      await cp.close();
      const listed = (await apiTls(pending.url, pki.serverCa, 'GET', '/api/stations/MTLS-99')).json;
      assert.deepEqual([listed.registration, listed.securityProfile, listed.hasPassword], ['pending', 3, false]);
    } finally {
      await pending.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('security profile 3 cannot be registered on a server without a client CA', async () => {
  const server = await startOcppServer();
  try {
    const r = await server.api('/api/stations/MTLS-02', { method: 'PUT', body: JSON.stringify({ securityProfile: 3 }) });
    assert.equal(r.status, 400);
    assert.match((await r.json()).detail, /VOLTYARD_TLS_CA/);
  } finally {
    await server.stop();
  }
});

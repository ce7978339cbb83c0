// npm run bench:dashboard — what a dispatcher's screen costs the server. A depot of N bays (default 48) with a van
// charging on each, every charger a real OCPP 1.6J client on loopback; then, in one run:
//   1. request latency of the dashboard's one-call overview, against the raw plan and /api/health as floors;
//   2. live-update latency: a MeterValues frame sent by a charger until its SSE event reaches a subscriber;
//   3. CSV: importing and exporting 1000 vehicles.
// Bounded: a few hundred requests; stops by itself.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ocppRpc from 'ocpp-rpc';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { startVoltyard } from '../src/app.ts';
import { openStore } from '../src/store/store.ts';
import { parseScenario } from '../src/fleet/scenario.ts';
import { importScenario } from '../src/cli/commands/import.ts';

const { RPCClient } = ocppRpc;
const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const k = args.indexOf(`--${name}`);
  const v = k < 0 ? fallback : Number(args[k + 1]);
  if (!Number.isInteger(v) || v <= 0) { console.error(`--${name}: expected a positive integer`); process.exit(2); }
  return v;
};
const bays = flag('bays', 48);
const requests = flag('requests', 300);
const samples = flag('samples', 100);

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const p95 = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]; };
const ms = (x: number) => `${x.toFixed(2)} ms`;

const nowMs = Date.now();
const iso = (x: number) => new Date(x).toISOString();
const scenario = {
  format: 'voltyard-scenario/1', name: 'bench-depot', now: iso(nowMs),
  depot: { id: 'bench', timeZone: 'Europe/Amsterdam', slotMinutes: 15, gridLimitKw: bays * 4 },
  circuits: [{ id: 'main', parentId: null, maxPowerKw: bays * 5 }],
  chargers: Array.from({ length: bays }, (_, k) => ({ id: `AC-${k + 1}`, circuitId: 'main', kind: 'AC', maxPowerKw: 11, minPowerKw: 1.4, phases: 3 })),
  vehicles: Array.from({ length: bays }, (_, k) => ({ id: `van-${k + 1}`, batteryKwh: 60, acMaxPowerKw: 11, dcMaxPowerKw: 50 })),
  sessions: Array.from({ length: bays }, (_, k) => ({
    id: `s-${k + 1}`, vehicleId: `van-${k + 1}`, chargerId: `AC-${k + 1}`, arrival: iso(nowMs - 60_000), departure: iso(nowMs + (6 + (k % 8)) * 3_600_000), socPercent: 20 + (k % 30), targetSocPercent: 90,
  })),
  tariff: { name: 'tou', currency: 'EUR', defaultPricePerKwh: 0.3, rules: [{ from: '23:00', to: '07:00', pricePerKwh: 0.12 }] },
};

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'voltyard-bench-dashboard-'));
const logger = pino({ level: 'silent' });
const adminKey = 'bench-admin-key-0123456789';
{
  const store = await openStore({ databaseUrl: null, dataDir, logger });
  await importScenario(store, parseScenario(scenario), 'automatic', iso(nowMs));
  await store.close();
}
const server = await startVoltyard(loadConfig({}, { port: 0, host: '127.0.0.1', adminKey, logLevel: 'silent', unknownStations: 'accept', dataDir }), { logger });
const api = (p: string, init: RequestInit = {}) => fetch(server.url + p, { ...init, headers: { authorization: `Bearer ${adminKey}`, ...init.headers } });
const clients: InstanceType<typeof RPCClient>[] = [];
try {
  const txIds: number[] = [];
  for (let k = 0; k < bays; k++) {
    const client = new RPCClient({ endpoint: `${server.url.replace(/^http/, 'ws')}/ocpp`, identity: `AC-${k + 1}`, protocols: ['ocpp1.6'], reconnect: false, strictMode: false } as ConstructorParameters<typeof RPCClient>[0]);
    client.handle(async () => ({ status: 'Accepted' }));
    await client.connect();
    await client.call('BootNotification', { chargePointVendor: 'Bench', chargePointModel: 'B-1' });
    const tx = await client.call('StartTransaction', { connectorId: 1, idTag: `van-${k + 1}`, meterStart: 0, timestamp: iso(Date.now()) }) as { transactionId: number };
    txIds.push(tx.transactionId);
    clients.push(client);
  }
  // Wait for a plan that has every van in it.
  for (const until = Date.now() + 30_000; ;) {
    const plan = await (await api('/api/depots/bench/plan')).json().catch(() => null) as { plan?: { sessions: unknown[] } } | null;
    if ((plan?.plan?.sessions.length ?? 0) >= bays) break;
    if (Date.now() > until) throw new Error('no plan with every van within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }

  // 1. request latency, the three endpoints interleaved so load on this shared machine hits each alike.
  const timings: Record<string, number[]> = { '/api/health': [], '/api/depots/bench/plan': [], '/api/depots/bench/overview': [] };
  let overviewBytes = 0;
  for (let i = 0; i < requests; i++) {
    for (const p of Object.keys(timings)) {
      const t0 = performance.now();
      const body = await (await api(p)).text();
      timings[p].push(performance.now() - t0);
      if (p.endsWith('overview')) overviewBytes = body.length;
    }
  }
  console.log(`depot: ${bays} bays, ${bays} vans charging; ${requests} requests per endpoint, sequential, loopback`);
  for (const [p, xs] of Object.entries(timings)) console.log(`  GET ${p.padEnd(28)} median ${ms(median(xs))}  p95 ${ms(p95(xs))}`);
  console.log(`  overview / plan median ratio ${(median(timings['/api/depots/bench/overview']) / median(timings['/api/depots/bench/plan'])).toFixed(2)}; overview body ${(overviewBytes / 1024).toFixed(1)} KiB`);

  // 2. live-update latency: charger frame -> SSE frame at a subscriber.
  const controller = new AbortController();
  const stream = await fetch(`${server.url}/api/events/stream?key=${adminKey}`, { signal: controller.signal });
  const reader = stream.body!.getReader();
  const seen = new Map<number, number>();
  let buffer = '';
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += new TextDecoder().decode(value);
      for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const m = /^event: MeterSampled\ndata: (.*)$/m.exec(frame);
        if (m) { const e = JSON.parse(m[1]) as { energyKwh: number | null }; if (e.energyKwh !== null) seen.set(Math.round(e.energyKwh * 1000), performance.now()); }
      }
    }
  })();
  const latencies: number[] = [];
  for (let i = 1; i <= samples; i++) {
    const wh = 1_000_000 + i;
    const t0 = performance.now();
    await clients[i % bays].call('MeterValues', { connectorId: 1, transactionId: txIds[i % bays], meterValue: [{ timestamp: iso(Date.now()), sampledValue: [{ value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }, { value: '7000', measurand: 'Power.Active.Import', unit: 'W' }] }] });
    for (const until = Date.now() + 2000; !seen.has(wh) && Date.now() < until;) await new Promise((r) => setImmediate(r));
    if (seen.has(wh)) latencies.push(seen.get(wh)! - t0);
  }
  controller.abort();
  await reading;
  console.log(`live updates: ${latencies.length}/${samples} MeterValues seen on the SSE stream; charger send -> SSE frame median ${ms(median(latencies))}  p95 ${ms(p95(latencies))}`);

  // 3. CSV import/export of 1000 vehicles.
  const csv = 'id,depotId,name,batteryKwh,acMaxPowerKw,dcMaxPowerKw\n' + Array.from({ length: 1000 }, (_, k) => `csv-${k},bench,Truck ${k},${200 + (k % 100)},22,150`).join('\n') + '\n';
  let t0 = performance.now();
  const imported = await (await api('/api/vehicles.csv', { method: 'POST', body: csv, headers: { 'content-type': 'text/csv' } })).json();
  const importMs = performance.now() - t0;
  t0 = performance.now();
  const exported = await (await api('/api/vehicles.csv')).text();
  const exportMs = performance.now() - t0;
  console.log(`CSV: import of 1000 vehicles ${ms(importMs)} (${JSON.stringify(imported)}); export of ${exported.trim().split('\n').length - 1} ${ms(exportMs)}`);
} finally {
  for (const c of clients) await c.close({ force: true }).catch(() => undefined);
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, testAdminKey, type TestServer } from '../helpers/server.ts';
import { bootCharger, type TestCharger } from '../helpers/charger.ts';
import { importInto, smallDepot } from '../control/helpers.ts';
import { waitFor } from '../ocpp/helpers.ts';
import { launch, shot, signIn } from './browser.ts';

/**
 * The dashboard in headless Chromium against the real server: a small depot imported, four test chargers connected
 * over OCPP, three vans charging and reporting power and SoC that change every half second.
 */

interface ProfileCall { csChargingProfiles: { chargingProfilePurpose: string } }

async function smartCharger(url: string, id: string): Promise<TestCharger> {
  return bootCharger(url, id, {
    handlers: {
      SetChargingProfile: (_p: ProfileCall) => ({ status: 'Accepted' }),
      GetConfiguration: () => ({ configurationKey: [{ key: 'ChargingScheduleMaxPeriods', readonly: true, value: '24' }, { key: 'ChargingScheduleAllowedChargingRateUnit', readonly: true, value: 'Current,Power' }] }),
      TriggerMessage: () => ({ status: 'Accepted' }),
      GetCompositeSchedule: () => ({ status: 'Rejected' }),
    },
  });
}

test('dashboard: live overview, override, alert acknowledge, CSV import, and a viewer who cannot change anything', async (t) => {
  const browser = await launch(t);
  if (!browser) return;
  const nowMs = Date.now();
  const dataDir = await importInto(null, smallDepot(nowMs, { n: 3, bays: 4, gridLimitKw: 12 }), 'automatic');
  const server: TestServer = await startTestServer({ dataDir });
  const chargers: TestCharger[] = [];
  const timers: NodeJS.Timeout[] = [];
  t.after(async () => {
    for (const timer of timers) clearInterval(timer);
    for (const c of chargers) await c.close().catch(() => undefined);
    await server.stop();
  });

  for (const id of ['AC-1', 'AC-2', 'AC-3', 'AC-4']) chargers.push(await smartCharger(server.url, id));
  const tx: number[] = [];
  for (let k = 0; k < 3; k++) {
    const r = await chargers[k].call<{ transactionId: number }>('StartTransaction', { connectorId: 1, idTag: `van-${k + 1}`, meterStart: 0, timestamp: new Date().toISOString() });
    tx.push(r.transactionId);
  }
  // Each van reports power and SoC; both move every tick, so the overview must keep changing without a reload.
  let tick = 0;
  const feed = async () => {
    tick++;
    await Promise.all(tx.map((transactionId, k) => chargers[k].call('MeterValues', {
      connectorId: 1, transactionId,
      meterValue: [{
        timestamp: new Date().toISOString(),
        sampledValue: [
          { value: String(3000 + 100 * k + 37 * tick), measurand: 'Power.Active.Import', unit: 'W' },
          { value: String(30 + k + tick * 0.5), measurand: 'SoC', unit: 'Percent' },
          { value: String(100 * tick), measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
        ],
      }],
    }).catch(() => undefined)));
  };
  await feed();
  timers.push(setInterval(() => void feed(), 500));

  const viewerKey = (await (await server.api('/api/keys', { method: 'POST', body: JSON.stringify({ name: 'tablet', role: 'viewer' }) })).json()).secret as string;
  const context = await browser.newContext({ viewport: { width: 1180, height: 820 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const consoleErrors: string[] = [];
  page.on('pageerror', (err) => consoleErrors.push(String(err)));

  // --- overview: live values that change ---
  await signIn(page, server.url, testAdminKey);
  await page.waitForSelector('[data-testid=site-power]');
  const firstPower = await page.textContent('[data-testid=site-power]');
  await page.waitForFunction((before) => document.querySelector('[data-testid=site-power]')?.textContent !== before, firstPower, { timeout: 8000 });
  await page.waitForSelector('#vehicles tr[data-vehicle="van-1"] .badge');
  await page.waitForSelector('svg rect.bar');
  assert.equal(await page.locator('.bay').count(), 4);
  assert.match(await page.textContent('.bay[data-bay="AC-1"]') ?? '', /van-1/);
  await shot(page, 'overview');

  // --- an override changes the plan: pausing van-3 takes all its planned power away ---
  const planFor = async (vehicleId: string) => {
    const o = await (await server.api('/api/depots/small/overview')).json();
    return { planId: o.planId as number, kwh: o.chart.series.filter((s: { vehicleId: string }) => s.vehicleId === vehicleId).flatMap((s: { powerKw: number[] }) => s.powerKw).reduce((a: number, b: number) => a + b, 0) };
  };
  const before = await planFor('van-3');
  assert.ok(before.kwh > 0, 'van-3 is planned to charge');
  await page.goto(server.url + '/#/vehicle/van-3');
  await page.waitForSelector('[data-testid=why]');
  await page.selectOption('#override select[name=paused]', 'yes');
  await page.click('#override button:not([type])');
  await waitFor('a re-plan without van-3', async () => { const p = await planFor('van-3'); return p.planId > before.planId && p.kwh === 0; }, 8000);
  await page.waitForSelector('text=In force:', { timeout: 8000 });
  await page.waitForFunction(() => document.querySelector('main section.chart')?.querySelectorAll('rect.bar').length === 0, undefined, { timeout: 8000 });
  await shot(page, 'vehicle');

  // --- an alert appears and is acknowledged: a stranger plugs into the free bay ---
  await chargers[3].call('StartTransaction', { connectorId: 1, idTag: 'STRANGER', meterStart: 0, timestamp: new Date().toISOString() });
  await page.goto(server.url + '/#/alerts');
  const row = page.locator('tr[data-kind="unknown-vehicle"]');
  await row.waitFor({ timeout: 8000 });
  await shot(page, 'alerts');
  await row.locator('button.ack').click();
  await page.waitForSelector('tr[data-kind="unknown-vehicle"] >> text=acknowledged by admin', { timeout: 5000 });
  const alerts = await (await server.api('/api/alerts?depotId=small')).json();
  const acked = alerts.items.find((a: { kind: string }) => a.kind === 'unknown-vehicle');
  assert.equal(acked.acknowledgedBy, 'admin');
  const audit = await (await server.api('/api/audit?action=' + encodeURIComponent('POST /api/alerts/:id/ack'))).json();
  assert.equal(audit.items[0].after.id, acked.id, 'the acknowledgement is in the audit log');

  // --- a CSV import adds vehicles ---
  await page.goto(server.url + '/#/setup/vehicles');
  await page.waitForSelector('[data-testid=vehicle-count]');
  assert.equal(await page.textContent('[data-testid=vehicle-count]'), '3');
  await page.fill('#vehicles-csv textarea', 'id,depotId,name,batteryKwh,acMaxPowerKw\nvan-9,small,Van nine,60,11\nvan-10,small,Van ten,75,11\nvan-11,small,Van eleven,lots,11\n');
  await page.click('#vehicles-csv button');
  await page.waitForSelector('#vehicles-csv .result >> text=line 4, column 4 (batteryKwh)');
  assert.equal(await page.textContent('[data-testid=vehicle-count]'), '3', 'a bad sheet imports nothing');
  await page.fill('#vehicles-csv textarea', 'id,depotId,name,batteryKwh,acMaxPowerKw\nvan-9,small,Van nine,60,11\nvan-10,small,Van ten,75,11\n');
  await page.click('#vehicles-csv button');
  await page.waitForFunction(() => document.querySelector('[data-testid=vehicle-count]')?.textContent === '5', undefined, { timeout: 5000 });
  assert.equal(await page.locator('#vehicle-list tr[data-vehicle="van-10"]').count(), 1);
  await shot(page, 'setup-vehicles');
  // A weekly block entered on the departures page becomes departures the planner uses.
  await page.goto(server.url + '/#/setup/departures');
  await page.waitForSelector('#block');
  await page.fill('#block input[name=id]', 'early-shift');
  await page.fill('#block input[name=vehicleId]', 'van-9');
  await page.fill('#block input[name=days]', 'mon tue wed thu fri sat sun');
  await page.fill('#block input[name=departureTime]', '06:30');
  await page.fill('#block input[name=energyNeededKwh]', '20');
  await page.click('#block button');
  await page.waitForSelector('main >> text=mon tue wed thu fri sat sun');
  const upcoming = await (await server.api('/api/depots/small/departures/upcoming?limit=100')).json();
  assert.ok(upcoming.items.some((x: { id: string; kind: string }) => x.id.startsWith('wk:early-shift:') && x.kind === 'weekly'));
  for (const p of ['approvals', 'setup/chargers', 'setup/departures', 'setup/tariff', 'setup/tokens', 'setup/circuits']) {
    await page.goto(`${server.url}/#/${p}`);
    await page.waitForSelector('main .card h2');
    await shot(page, p.replace('/', '-'));
  }
  assert.match(await page.textContent('main') ?? '', /panel/);

  // --- a viewer key cannot change anything ---
  await signIn(page, server.url, viewerKey);
  await page.goto(server.url + '/#/vehicle/van-1');
  await page.waitForSelector('#override');
  for (const b of await page.locator('#override button').all()) assert.equal(await b.isDisabled(), true);
  await page.goto(server.url + '/#/setup/vehicles');
  await page.waitForSelector('#vehicles-csv');
  assert.equal(await page.locator('#vehicles-csv button').isDisabled(), true);
  await page.goto(server.url + '/#/approvals');
  await page.waitForSelector('#mode');
  assert.equal(await page.locator('#mode button').isDisabled(), true);
  // And the server says no even when the page is bypassed.
  const statuses = await page.evaluate(async (key) => {
    const h = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    return Promise.all([
      fetch('/api/vehicles/van-1/override', { method: 'PUT', headers: h, body: '{"paused":true}' }).then((r) => r.status),
      fetch('/api/depots/small/mode', { method: 'PUT', headers: h, body: '{"mode":"shadow"}' }).then((r) => r.status),
      fetch('/api/vehicles.csv', { method: 'POST', headers: { ...h, 'content-type': 'text/csv' }, body: 'id,depotId,batteryKwh,acMaxPowerKw\nx,small,50,11\n' }).then((r) => r.status),
      fetch('/api/alerts/1/ack', { method: 'POST', headers: { authorization: h.authorization } }).then((r) => r.status),
    ]);
  }, viewerKey);
  assert.deepEqual(statuses, [403, 403, 403, 403]);
  await shot(page, 'viewer-approvals');
  assert.deepEqual(consoleErrors, []);
});

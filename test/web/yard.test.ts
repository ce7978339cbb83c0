// The yard page and the gate kiosk in headless Chromium against the real server: vans in the lot, chargers over OCPP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, testAdminKey } from '../helpers/server.ts';
import { waitFor } from '../ocpp/helpers.ts';
import { launch, shot, signIn } from './browser.ts';
import { yardCharger, yardDepot, type TaskJson } from '../control/yard-helpers.ts';

test('yard page: tasks live, acknowledged by name, closed when the van plugs in; the kiosk shows the bay in big letters', async (t) => {
  const browser = await launch(t);
  if (!browser) return;
  const server = await startTestServer({ dataDir: await yardDepot(Date.now(), { vans: 3, bays: 3 }) });
  t.after(() => server.stop());
  const chargers = new Map<string, Awaited<ReturnType<typeof yardCharger>>>();
  for (const id of ['AC-1', 'AC-2', 'AC-3']) chargers.set(id, await yardCharger(server.url, id));
  t.after(async () => { for (const c of chargers.values()) await c.charger.close(); });
  const tasks = await waitFor('three plug tasks', async () => {
    const r = (await (await server.api('/api/depots/yard/yard/tasks')).json()).items as TaskJson[];
    return r.length === 3 ? r : null;
  });

  const page = await (await browser.newContext({ viewport: { width: 1180, height: 820 } })).newPage();
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  await signIn(page, server.url, testAdminKey);

  // The task list, in the words of the plan.
  await page.goto(server.url + '/#/yard');
  await page.waitForSelector('#yard-tasks tr[data-task]');
  assert.equal(await page.locator('#yard-tasks tr[data-task]').count(), 3);
  const van1 = tasks.find((x) => x.vehicleId === 'van-1')!;
  assert.match(await page.textContent(`#yard-tasks tr[data-task="${van1.id}"]`) ?? '', new RegExp(van1.bayId));

  // Acknowledge with a name: the row says who, and so does the API.
  await page.fill('#yard-who input[name=who]', 'Robin');
  await page.press('#yard-who input[name=who]', 'Enter');
  await page.click(`#yard-tasks tr[data-task="${van1.id}"] button[data-act=ack]`);
  await page.waitForSelector(`#yard-tasks tr[data-task="${van1.id}"][data-status=acknowledged] >> text=by Robin`);
  const acked = (await (await server.api('/api/depots/yard/yard/tasks?vehicleId=van-1')).json()).items[0];
  assert.equal(acked.acknowledgedBy, 'Robin');
  await shot(page, 'yard');

  // Robin plugs van-1 in: the task leaves the open list by itself (live, no reload) and shows as done.
  await chargers.get(van1.bayId)!.plug('van-1');
  await page.waitForFunction((id) => !document.querySelector(`#yard-tasks tr[data-task="${id}"]`), van1.id, { timeout: 10_000 });
  await page.waitForSelector(`#yard-closed tr[data-task="${van1.id}"][data-status=done]`);
  assert.equal(await page.textContent('[data-testid=yard-open]'), '2');

  // Skip from the page.
  const van2 = tasks.find((x) => x.vehicleId === 'van-2')!;
  await page.click(`#yard-tasks tr[data-task="${van2.id}"] button[data-act=skip]`);
  await page.waitForSelector(`#yard-closed tr[data-task="${van2.id}"][data-status=skipped]`);

  // The gate kiosk: no navigation, a van number in, the bay out, large.
  await page.goto(server.url + '/#/kiosk');
  await page.waitForSelector('#kiosk input[name=vehicle]');
  assert.equal(await page.locator('header select#depot').count(), 0, 'no depot switcher or menu on the kiosk');
  const van3 = tasks.find((x) => x.vehicleId === 'van-3')!;
  const advice = await (await server.api('/api/depots/yard/bay?vehicle=van-3')).json();
  assert.equal(advice.bayId, van3.bayId);
  // Moved by the crew later: the driver parks in the lot, and the screen says so before the bay.
  const expected = advice.action === 'wait' ? 'Lot' : van3.bayId;
  await page.fill('#kiosk input[name=vehicle]', 'VAN-3');
  await page.press('#kiosk input[name=vehicle]', 'Enter');
  await page.waitForSelector('[data-testid=kiosk-bay]');
  assert.equal((await page.textContent('[data-testid=kiosk-bay]'))?.trim(), expected);
  const size = await page.$eval('[data-testid=kiosk-bay]', (el) => parseFloat(getComputedStyle(el).fontSize));
  assert.ok(size >= 80, `bay letters ${size}px`);
  assert.match(await page.textContent('[data-testid=kiosk-message]') ?? '', new RegExp(van3.bayId));
  await shot(page, 'kiosk');
  // A plugged-in van is told where it is; an unknown number gets a clear no.
  await page.fill('#kiosk input[name=vehicle]', 'van-1');
  await page.press('#kiosk input[name=vehicle]', 'Enter');
  await page.waitForFunction((bay) => document.querySelector('[data-testid=kiosk-bay]')?.textContent?.trim() === bay, van1.bayId);
  await page.fill('#kiosk input[name=vehicle]', 'nobody-here');
  await page.press('#kiosk input[name=vehicle]', 'Enter');
  await page.waitForFunction(() => document.querySelector('[data-testid=kiosk-bay]')?.textContent?.trim() === '?');
  assert.match(await page.textContent('[data-testid=kiosk-message]') ?? '', /no vehicle or token/);
  assert.deepEqual(errors, []);

  // The gate screen's own key: signing in lands on the kiosk, with no way to the rest of the dashboard.
  const kioskKey = (await (await server.api('/api/keys', { method: 'POST', body: JSON.stringify({ name: 'gate', role: 'kiosk' }) })).json()).secret as string;
  const gate = await (await browser.newContext({ viewport: { width: 1180, height: 820 } })).newPage();
  gate.setDefaultTimeout(10_000);
  const gateErrors: string[] = [];
  gate.on('pageerror', (err) => gateErrors.push(String(err)));
  const refused: string[] = [];
  const asked: string[] = [];
  gate.on('request', (r) => asked.push(new URL(r.url()).pathname));
  gate.on('response', (r) => { if (r.status() >= 400) refused.push(`${r.status()} ${new URL(r.url()).pathname}`); });
  await gate.goto(server.url + '/#/yard');
  await gate.fill('input[name=key]', kioskKey);
  await gate.click('#login button');
  await gate.waitForSelector('#kiosk input[name=vehicle]');
  assert.equal(new URL(gate.url()).hash, '#/kiosk');
  assert.equal(await gate.locator('header a, header select').count(), 0, 'no menu, no depot switcher, no way back to the dashboard');
  assert.equal((await gate.textContent('[data-testid=kiosk-depot]'))?.trim(), (await (await server.api('/api/depots/yard')).json()).name);
  await gate.fill('#kiosk input[name=vehicle]', 'van-1');
  await gate.press('#kiosk input[name=vehicle]', 'Enter');
  await gate.waitForFunction((bay) => document.querySelector('[data-testid=kiosk-bay]')?.textContent?.trim() === bay, van1.bayId);
  // Another page by address: still the kiosk.
  await gate.goto(server.url + '/#/setup/vehicles');
  await gate.waitForFunction(() => location.hash === '#/kiosk');
  await gate.waitForSelector('#kiosk input[name=vehicle]');
  assert.equal(await gate.locator('#vehicle-list').count(), 0);
  // The link on the yard page pins the kiosk to its depot.
  await gate.goto(server.url + '/#/kiosk/yard');
  await gate.waitForSelector('#kiosk input[name=vehicle]');
  assert.deepEqual(refused, [], 'the kiosk calls nothing its key may not');
  assert.ok(!asked.includes('/api/events/stream') && !asked.includes('/api/depots'), asked.join(' '));
  await shot(gate, 'kiosk-key');
  assert.deepEqual(gateErrors, []);
});

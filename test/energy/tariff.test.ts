import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fromAcnportal, type AcnportalTariff } from '../../src/energy/acnportal.ts';
import { costOf } from '../../src/energy/cost.ts';
import { billingMonth, demandChargeAtLocal, localTimeIn, priceAtLocal, slotPrices, type Tariff } from '../../src/energy/tariff.ts';

const tou: Tariff = {
  currency: 'EUR', defaultPricePerKwh: 0.2,
  rules: [
    { from: '16:00', to: '21:00', pricePerKwh: 0.31 },
    { from: '23:00', to: '05:00', pricePerKwh: 0.08 },
    { days: 'weekends', from: '00:00', to: '24:00', pricePerKwh: 0.1 },
  ],
  demandCharges: [{ dates: { from: '06-01', to: '09-30' }, pricePerKw: 20 }, { pricePerKw: 10 }],
};

test('prices are read on the depot clock, not UTC', () => {
  // 2026-03-10 15:30Z is 16:30 in Amsterdam (peak) but 08:30 in Los Angeles (default).
  const ms = Date.parse('2026-03-10T15:30:00Z');
  assert.equal(priceAtLocal(tou, localTimeIn('Europe/Amsterdam')(ms)), 0.31);
  assert.equal(priceAtLocal(tou, localTimeIn('America/Los_Angeles')(ms)), 0.2);
});

test('a window that ends before it starts wraps midnight', () => {
  const local = localTimeIn('UTC');
  assert.equal(priceAtLocal(tou, local(Date.parse('2026-03-10T23:30:00Z'))), 0.08);
  assert.equal(priceAtLocal(tou, local(Date.parse('2026-03-11T04:45:00Z'))), 0.08);
  assert.equal(priceAtLocal(tou, local(Date.parse('2026-03-11T05:00:00Z'))), 0.2);
});

test('the first matching rule wins and weekday sets apply', () => {
  // Saturday 2026-03-14 17:00 UTC: the peak rule comes before the weekend rule.
  assert.equal(priceAtLocal(tou, localTimeIn('UTC')(Date.parse('2026-03-14T17:00:00Z'))), 0.31);
  assert.equal(priceAtLocal(tou, localTimeIn('UTC')(Date.parse('2026-03-14T12:00:00Z'))), 0.1);
});

test('slot prices follow a DST change in the depot zone', () => {
  // Europe/Amsterdam moves to UTC+2 on 2026-03-29 at 01:00Z; 14:00Z is 16:00 local after, 15:00 local before.
  const prices = slotPrices(tou, [Date.parse('2026-03-28T14:00:00Z'), Date.parse('2026-03-30T14:00:00Z')], 'Europe/Amsterdam');
  assert.deepEqual(Array.from(prices), [0.1, 0.31]);
});

test('demand charge by season and billing month in the depot zone', () => {
  const local = localTimeIn('America/Los_Angeles');
  assert.equal(demandChargeAtLocal(tou, local(Date.parse('2026-07-01T12:00:00Z'))), 20);
  assert.equal(demandChargeAtLocal(tou, local(Date.parse('2026-10-01T12:00:00Z'))), 10);
  // 1 April 03:00Z is still 31 March in Los Angeles.
  assert.equal(billingMonth(Date.parse('2026-04-01T03:00:00Z'), 'America/Los_Angeles'), '2026-03');
});

test('costing charges only the peak above the peak so far', () => {
  const c = costOf([10, 20], [15, 25], [0.25, 0.25], [0.1, 0.2], 10, 22);
  assert.equal(c.peakKw, 25);
  assert.ok(Math.abs(c.energyCost - (10 * 0.25 * 0.1 + 20 * 0.25 * 0.2)) < 1e-12);
  assert.ok(Math.abs(c.demandChargeIncrement - 30) < 1e-12);
  assert.equal(costOf([10], [10], [1], [0.1], 10, 50).demandChargeIncrement, 0);
});

test('acnportal SCE TOU-EV-4 converts to the same prices', () => {
  const source = JSON.parse(readFileSync(new URL('../../../shared/data/tariffs/sce_tou_ev_4_march_2019.json', import.meta.url), 'utf8')) as AcnportalTariff;
  const tariff = fromAcnportal(source);
  const local = localTimeIn('America/Los_Angeles');
  // Summer weekday 2019-07-10 (Wednesday) 13:00 PDT is on-peak 0.26668; 02:00 is 0.05623; Saturday 13:00 is 0.05623.
  assert.equal(priceAtLocal(tariff, local(Date.parse('2019-07-10T20:00:00Z'))), 0.26668);
  assert.equal(priceAtLocal(tariff, local(Date.parse('2019-07-10T09:00:00Z'))), 0.05623);
  assert.equal(priceAtLocal(tariff, local(Date.parse('2019-07-13T20:00:00Z'))), 0.05623);
  // Winter wraps the year: 2019-11-13 (Wednesday) 13:00 PST is 0.0869.
  assert.equal(priceAtLocal(tariff, local(Date.parse('2019-11-13T21:00:00Z'))), 0.0869);
  assert.equal(demandChargeAtLocal(tariff, local(Date.parse('2019-11-13T21:00:00Z'))), 15.51);
});

test('acnportal PG&E A-10 fractional hours and unpadded dates', () => {
  const source = JSON.parse(readFileSync(new URL('../../../shared/data/tariffs/pge_a10_tou_aug_2019.json', import.meta.url), 'utf8')) as AcnportalTariff;
  const tariff = fromAcnportal(source);
  const local = localTimeIn('America/Los_Angeles');
  // Summer weekday 08:29 is off-peak, 08:30 part-peak.
  assert.equal(priceAtLocal(tariff, local(Date.parse('2019-08-07T15:29:00Z'))), 0.14903);
  assert.equal(priceAtLocal(tariff, local(Date.parse('2019-08-07T15:30:00Z'))), 0.1771);
  assert.equal(demandChargeAtLocal(tariff, local(Date.parse('2019-12-02T20:00:00Z'))), 11.66);
});

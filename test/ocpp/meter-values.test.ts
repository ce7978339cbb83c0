import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../../src/store/store.ts';
import { ocppMigrations, type MeterSampleRow } from '../../src/ocpp/migrations.ts';
import { ocppRepository } from '../../src/ocpp/repository.ts';
import { expandMeterValue, kindsOf, meterValueRow } from '../../src/ocpp/meter-values.ts';
import { needService } from '../helpers/services.ts';
import { createTempDatabase } from '../helpers/postgres.ts';
import { captureLogs } from '../helpers/logger.ts';

const before = ocppMigrations.filter((m) => m.name < '0103');

/** Samples as 0101 stored them: two instants of one transaction (one with a value per phase), one of another EVSE. */
const legacy: MeterSampleRow[] = [
  ...['', 'L1', 'L2'].map((phase, k) => ({ station_id: 'CP-1', connector_id: 1, transaction_id: 7, sampled_at: '2026-11-28T10:00:00.000Z', measurand: phase ? 'Current.Import' : 'Energy.Active.Import.Register', phase, location: 'Outlet', context: 'Sample.Periodic', value: phase ? 16 + k : 10.5, unit: phase ? 'A' : 'kWh' })),
  { station_id: 'CP-1', connector_id: 1, transaction_id: 7, sampled_at: '2026-11-28T10:01:00.000Z', measurand: 'Energy.Active.Import.Register', phase: '', location: 'Outlet', context: 'Sample.Periodic', value: 10.75, unit: 'kWh' },
  { station_id: 'CP-1', connector_id: 2, transaction_id: null, sampled_at: '2026-11-28T10:00:00.000Z', measurand: 'Power.Active.Import', phase: '', location: 'Outlet', context: 'Sample.Periodic', value: 0, unit: 'kW' },
];

/** Stores samples the old way, then opens the store with every migration: the samples come back as they went in. */
async function upgrade(open: (migrations: typeof ocppMigrations) => Promise<Store>): Promise<void> {
  const old = await open(before);
  try {
    await old.db.withTables<{ ocpp_meter_samples: MeterSampleRow }>().insertInto('ocpp_meter_samples').values(legacy).execute();
  } finally {
    await old.close();
  }
  const store = await open(ocppMigrations);
  try {
    const repo = ocppRepository(store, captureLogs().logger);
    const samples = await repo.samples({ transactionId: 7, limit: 100 });
    const key = (s: MeterSampleRow) => `${s.sampled_at} ${s.measurand} ${s.phase} ${s.value} ${s.unit}`;
    assert.deepEqual(samples.map(key).sort(), legacy.filter((s) => s.transaction_id === 7).map(key).sort());
    assert.equal(await repo.latestEnergyKwh(7), 10.75);
    assert.equal(await repo.latestSampleAt('CP-1', 2), '2026-11-28T10:00:00.000Z');
    // A replay of an instant stored after the upgrade inserts nothing.
    const again = meterValueRow('CP-1', 1, 7, '2026-11-28T10:02:00.000Z', [{ measurand: 'Energy.Active.Import.Register', phase: '', location: 'Outlet', context: 'Sample.Periodic', value: 11, unit: 'kWh' }]);
    await repo.addMeterValues([again]);
    await repo.addMeterValues([again]);
    assert.equal((await repo.samples({ transactionId: 7, limit: 100 })).length, legacy.filter((s) => s.transaction_id === 7).length + 1);
    assert.equal(await repo.latestEnergyKwh(7), 11);
  } finally {
    await store.close();
  }
}

test('stored samples become one row per instant on upgrade (sqlite)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'voltyard-mv-'));
  try {
    await upgrade((migrations) => openStore({ databaseUrl: null, dataDir: dir, logger: captureLogs().logger, migrations }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stored samples become one row per instant on upgrade (postgres)', async (t: TestContext) => {
  if (!await needService(t, 'postgres')) return;
  const temp = await createTempDatabase();
  try {
    await upgrade((migrations) => openStore({ databaseUrl: temp.url, dataDir: '/nonexistent', logger: captureLogs().logger, migrations }));
  } finally {
    await temp.drop();
  }
});

test('an instant is told apart by which values it carries, and stored values come back', () => {
  const energy = { measurand: 'Energy.Active.Import.Register', phase: '', location: 'Outlet', context: 'Sample.Periodic', value: 1.5, unit: 'kWh' };
  const clock = { ...energy, context: 'Sample.Clock' };
  const later = { ...energy, value: 2 };
  assert.equal(kindsOf([energy]), kindsOf([later]), 'the value is not part of the identity');
  assert.notEqual(kindsOf([energy]), kindsOf([clock]));
  assert.notEqual(kindsOf([energy]), kindsOf([energy, energy]));
  const row = meterValueRow('CP-9', 3, null, '2026-11-28T00:00:00.000Z', [energy, clock]);
  assert.deepEqual(expandMeterValue(row).map((s) => [s.station_id, s.connector_id, s.transaction_id, s.context, s.value]), [
    ['CP-9', 3, null, 'Sample.Periodic', 1.5], ['CP-9', 3, null, 'Sample.Clock', 1.5],
  ]);
  assert.deepEqual(expandMeterValue({ ...row, samples: 'not json' }), []);
});

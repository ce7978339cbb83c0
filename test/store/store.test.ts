import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openStore, type Store } from '../../src/store/store.ts';
import type { Migration } from '../../src/store/migration.ts';
import { needService } from '../helpers/services.ts';
import { createTempDatabase } from '../helpers/postgres.ts';
import { captureLogs } from '../helpers/logger.ts';

type WidgetTables = {
  widget: { id: import('kysely').Generated<number>; name: string; at: string; power_kw: number; active: number };
};

const widgetMigration: Migration = {
  name: '9000_test_widget',
  async up(db, dialect) {
    await dialect.addIdColumn(db.schema.createTable('widget'), 'id')
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('power_kw', 'double precision', (c) => c.notNull())
      .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
      .execute();
  },
};

/** Runs `body` against a fresh SQLite file and a fresh PostgreSQL database: one data-access layer, both engines. */
function bothStores(name: string, body: (store: Store, reopen: () => Promise<Store>) => Promise<void>) {
  test(`${name} (sqlite)`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'voltyard-store-'));
    const open = () => openStore({ databaseUrl: null, dataDir: dir, logger: captureLogs().logger, migrations: [widgetMigration] });
    const store = await open();
    try { await body(store, open); } finally { await store.close(); rmSync(dir, { recursive: true, force: true }); }
  });
  test(`${name} (postgres)`, async (t: TestContext) => {
    if (!await needService(t, 'postgres')) return;
    const temp = await createTempDatabase();
    const open = () => openStore({ databaseUrl: temp.url, dataDir: '/nonexistent', logger: captureLogs().logger, migrations: [widgetMigration] });
    const store = await open();
    try { await body(store, open); } finally { await store.close(); await temp.drop(); }
  });
}

bothStores('migrations apply once and ids are generated', async (store, reopen) => {
  const db = store.db.withTables<WidgetTables>();
  const first = await db.insertInto('widget').values({ name: 'a', at: '2026-11-22T00:00:00.000Z', power_kw: 7.2, active: 1 }).returning('id').executeTakeFirstOrThrow();
  const second = await db.insertInto('widget').values({ name: 'b', at: '2026-11-22T00:15:00.000Z', power_kw: 50.5, active: 0 }).returning('id').executeTakeFirstOrThrow();
  assert.equal(typeof first.id, 'number');
  assert.ok(second.id > first.id);
  const again = await reopen();
  try {
    const rows = await again.db.withTables<WidgetTables>().selectFrom('widget').selectAll().orderBy('at').execute();
    assert.deepEqual(rows.map((r) => [r.name, r.power_kw, r.active]), [['a', 7.2, 1], ['b', 50.5, 0]]);
    const applied = await sql<{ n: number }>`select count(*) as n from schema_migrations`.execute(again.db);
    assert.equal(Number(applied.rows[0].n), 1);
  } finally {
    await again.close();
  }
});

bothStores('constraint violations reject the write and keep what was there', async (store) => {
  const db = store.db.withTables<WidgetTables>();
  await db.insertInto('widget').values({ name: 'a', at: '2026-11-22T00:00:00.000Z', power_kw: 1, active: 1 }).execute();
  await assert.rejects(db.insertInto('widget').values({ name: 'a', at: '2026-11-22T00:00:00.000Z', power_kw: 2, active: 1 }).execute());
  await assert.rejects(db.transaction().execute(async (trx) => {
    await trx.updateTable('widget').set({ power_kw: 99 }).where('name', '=', 'a').execute();
    throw new Error('abort');
  }));
  const row = await db.selectFrom('widget').select('power_kw').where('name', '=', 'a').executeTakeFirstOrThrow();
  assert.equal(row.power_kw, 1);
});

bothStores('upserts with onConflict behave the same on both engines', async (store) => {
  const db = store.db.withTables<WidgetTables>();
  for (const power of [1, 2, 3]) {
    await db.insertInto('widget').values({ name: 'x', at: '2026-11-22T00:00:00.000Z', power_kw: power, active: 1 })
      .onConflict((oc) => oc.column('name').doUpdateSet({ power_kw: power })).execute();
  }
  const rows = await db.selectFrom('widget').select(['name', 'power_kw']).execute();
  assert.deepEqual(rows, [{ name: 'x', power_kw: 3 }]);
});

test('a PostgreSQL URL that cannot be reached fails start-up with a clear error', async () => {
  await assert.rejects(
    openStore({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none', dataDir: '/nonexistent', logger: captureLogs().logger }),
    /migration failed|ECONNREFUSED|connect/,
  );
});

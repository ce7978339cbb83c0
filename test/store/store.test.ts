import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { DatabaseSync } from 'node:sqlite';
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

bothStores('insertRows and write resolve once committed: the rows are there for the next read, a conflict inserts nothing', async (store) => {
  const db = store.db.withTables<WidgetTables>();
  const row = (name: string, kw: number) => [name, '2026-11-22T00:00:00.000Z', kw, 1];
  await store.insertRows('widget', ['name', 'at', 'power_kw', 'active'], [row('a', 1), row('b', 2), row('a', 3)]);
  assert.deepEqual(await db.selectFrom('widget').select(['name', 'power_kw']).orderBy('name').execute(), [{ name: 'a', power_kw: 1 }, { name: 'b', power_kw: 2 }]);

  const [updated, inserted] = await store.write([
    db.updateTable('widget').set({ power_kw: 7.5 }).where('name', '=', 'b').compile(),
    db.insertInto('widget').values({ name: 'c', at: '2026-11-22T01:00:00.000Z', power_kw: 11, active: 0 }).returning(['id', 'name']).compile(),
  ]);
  assert.equal(updated.changes, 1);
  assert.equal(inserted.rows[0]?.name, 'c');
  assert.equal(typeof inserted.rows[0]?.id, 'number');
  assert.equal((await db.selectFrom('widget').select('power_kw').where('name', '=', 'b').executeTakeFirstOrThrow()).power_kw, 7.5);
});

bothStores('a write call whose statement fails is rolled back as a whole and rejected; the others are not affected', async (store) => {
  const db = store.db.withTables<WidgetTables>();
  const ok = store.write([db.insertInto('widget').values({ name: 'kept', at: '2026-11-22T00:00:00.000Z', power_kw: 1, active: 1 }).compile()]);
  const failing = store.write([
    db.insertInto('widget').values({ name: 'rolled-back', at: '2026-11-22T00:00:00.000Z', power_kw: 1, active: 1 }).compile(),
    db.insertInto('widget').values({ name: null as unknown as string, at: '2026-11-22T00:00:00.000Z', power_kw: 2, active: 1 }).compile(),
  ]);
  // On PostgreSQL the two run on separate connections, so the failing one may settle first: watch it from the start.
  const rejected = assert.rejects(failing, /null/i);
  await ok;
  await rejected;
  assert.deepEqual((await db.selectFrom('widget').select('name').execute()).map((r) => r.name), ['kept']);
});

test('sqlite: while another connection holds the write lock, main-thread writes wait without blocking the event loop', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'voltyard-store-'));
  const store = await openStore({ databaseUrl: null, dataDir: dir, logger: captureLogs().logger, migrations: [widgetMigration] });
  // Another writer of the file (as the writer thread is): it holds the lock until a timer of this thread releases
  // it, which can only fire if waiting for the lock does not block the event loop.
  const other = new DatabaseSync(path.join(dir, 'voltyard.sqlite'));
  try {
    const db = store.db.withTables<WidgetTables>();
    other.exec('BEGIN IMMEDIATE');
    other.exec(`insert into widget (name, at, power_kw, active) values ('other', '2026-11-22T00:00:00.000Z', 1, 1)`);
    const released = new Promise<void>((resolve) => setTimeout(() => { other.exec('COMMIT'); resolve(); }, 150));
    const mainWrites = Array.from({ length: 5 }, (_, i) => db.insertInto('widget').values({ name: `main-${i}`, at: '2026-11-22T00:00:00.000Z', power_kw: i, active: 1 }).execute());
    const inTransaction = db.transaction().execute(async (trx) => {
      await trx.insertInto('widget').values({ name: 'trx-1', at: '2026-11-22T00:00:00.000Z', power_kw: 1, active: 1 }).execute();
      await new Promise((r) => setTimeout(r, 5));
      await trx.updateTable('widget').set({ power_kw: 2 }).where('name', '=', 'trx-1').execute();
    });
    const batched = store.insertRows('widget', ['name', 'at', 'power_kw', 'active'], [['batched', '2026-11-22T00:00:00.000Z', 3, 1]]);
    await Promise.all([released, ...mainWrites, inTransaction, batched]);
    const names = (await db.selectFrom('widget').select('name').orderBy('name').execute()).map((r) => r.name);
    assert.deepEqual(names, ['batched', 'main-0', 'main-1', 'main-2', 'main-3', 'main-4', 'other', 'trx-1']);
    assert.equal((await db.selectFrom('widget').select('power_kw').where('name', '=', 'trx-1').executeTakeFirstOrThrow()).power_kw, 2);
  } finally {
    other.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a PostgreSQL URL that cannot be reached fails start-up with a clear error', async () => {
  await assert.rejects(
    openStore({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none', dataDir: '/nonexistent', logger: captureLogs().logger }),
    /migration failed|ECONNREFUSED|connect/,
  );
});

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { services } from './services.ts';

const adminUrl = process.env.VOLTYARD_TEST_PG_ADMIN_URL ?? `postgres://postgres@${services.postgres.host}:${services.postgres.port}/postgres`;

/** A fresh, empty PostgreSQL database for one test, dropped afterwards (even with connections still open). */
export async function createTempDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `voltyard_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

import type { Kysely } from 'kysely';
import type { Dialect } from './dialect.ts';

/**
 * One schema change. Migrations are written with Kysely's schema builder so the same file serves SQLite and
 * PostgreSQL; `dialect` covers the few differences. Names sort in the order they apply: `NNNN_context_what`.
 */
export interface Migration {
  readonly name: string;
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
}

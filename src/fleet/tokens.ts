import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import type { Migration } from '../store/migration.ts';

/**
 * The token registry: RFID cards and app tokens a driver presents at a charger, and what they may do. The OCPP
 * central system asks it on Authorize and StartTransaction; a token may name the vehicle it belongs to.
 */

export const tokenStatuses = ['Accepted', 'Blocked', 'Expired', 'Invalid'] as const;
export type TokenStatus = typeof tokenStatuses[number];

export interface Token {
  readonly idTag: string;
  readonly status: TokenStatus;
  /** ISO-8601 UTC; past it the token answers Expired. */
  readonly expiresAt: string | null;
  readonly parentIdTag: string | null;
  readonly vehicleId: string | null;
  readonly updatedAt: string;
}

export const tokenMigrations: readonly Migration[] = [{
  name: '0201_fleet_tokens',
  async up(db: Kysely<unknown>) {
    await db.schema.createTable('fleet_tokens')
      .addColumn('id_tag', 'text', (c) => c.primaryKey())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text')
      .addColumn('parent_id_tag', 'text')
      .addColumn('vehicle_id', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
  },
}];

type TokenTables = {
  fleet_tokens: { id_tag: string; status: string; expires_at: string | null; parent_id_tag: string | null; vehicle_id: string | null; updated_at: string };
};

export interface TokenRegistry {
  get(idTag: string): Promise<Token | null>;
  put(token: Omit<Token, 'updatedAt'>, at: string): Promise<Token>;
  remove(idTag: string): Promise<boolean>;
  list(page: { limit: number; offset: number }): Promise<{ items: Token[]; total: number }>;
  /** The answer a charger gets for this token at `at` (ISO): unknown tokens are Invalid, past expiry Expired. */
  check(idTag: string, at: string): Promise<{ status: TokenStatus; expiresAt: string | null; parentIdTag: string | null }>;
}

export function tokenRegistry(store: Store): TokenRegistry {
  const db = store.db.withTables<TokenTables>();
  const toToken = (r: TokenTables['fleet_tokens']): Token => ({
    idTag: r.id_tag, status: r.status as TokenStatus, expiresAt: r.expires_at, parentIdTag: r.parent_id_tag, vehicleId: r.vehicle_id, updatedAt: r.updated_at,
  });
  const get = async (idTag: string) => {
    const row = await db.selectFrom('fleet_tokens').selectAll().where('id_tag', '=', idTag).executeTakeFirst();
    return row ? toToken(row) : null;
  };
  return {
    get,
    async put(token, at) {
      const row = {
        id_tag: token.idTag, status: token.status, expires_at: token.expiresAt, parent_id_tag: token.parentIdTag, vehicle_id: token.vehicleId, updated_at: at,
      };
      await db.insertInto('fleet_tokens').values(row)
        .onConflict((oc) => oc.column('id_tag').doUpdateSet({ status: row.status, expires_at: row.expires_at, parent_id_tag: row.parent_id_tag, vehicle_id: row.vehicle_id, updated_at: at }))
        .execute();
      return toToken(row);
    },
    async remove(idTag) {
      const result = await db.deleteFrom('fleet_tokens').where('id_tag', '=', idTag).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    async list({ limit, offset }) {
      const rows = await db.selectFrom('fleet_tokens').selectAll().orderBy('id_tag').limit(limit).offset(offset).execute();
      const { n } = await db.selectFrom('fleet_tokens').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return { items: rows.map(toToken), total: Number(n) };
    },
    async check(idTag, at) {
      const token = await get(idTag);
      if (!token) return { status: 'Invalid', expiresAt: null, parentIdTag: null };
      const expired = token.expiresAt !== null && Date.parse(token.expiresAt) <= Date.parse(at);
      return { status: expired && token.status === 'Accepted' ? 'Expired' : token.status, expiresAt: token.expiresAt, parentIdTag: token.parentIdTag };
    },
  };
}

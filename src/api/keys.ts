import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Store } from '../store/store.ts';
import type { Migration } from '../store/migration.ts';
import { sha256, type KeyResolver, type Principal, type Role } from './auth.ts';

/**
 * Stored API keys: each has a role (kiosk, viewer, dispatcher, admin) and is kept only as a SHA-256 hash. The full key is
 * `vy_<id>_<secret>` and is returned once, at creation. The id in the key finds the row without scanning; the hash
 * is compared in constant time. SHA-256 (not a slow password hash) is enough: the secret is 32 random bytes.
 */

/** Lowest first; the order of `rank` in auth.ts. */
export const roles = ['kiosk', 'viewer', 'dispatcher', 'admin'] as const satisfies readonly Role[];

export interface ApiKey {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly revokedAt: string | null;
}

export const apiKeyMigrations: readonly Migration[] = [{
  name: '0601_api_keys',
  async up(db: Kysely<unknown>) {
    await db.schema.createTable('api_key')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('secret_sha256', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'text')
      .execute();
  },
}];

type Tables = {
  api_key: { id: string; name: string; role: string; secret_sha256: string; created_at: string; created_by: string; revoked_at: string | null };
};

const keyPattern = /^vy_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface KeyStore {
  /** Creates a key; `secret` is the full key, to be shown once and never again. */
  create(input: { name: string; role: Role }, by: string, at: string): Promise<{ key: ApiKey; secret: string }>;
  get(id: string): Promise<ApiKey | null>;
  list(page: { limit: number; offset: number }): Promise<{ items: ApiKey[]; total: number }>;
  /** Marks a key revoked (kept for the audit trail); false when there is no such active key. */
  revoke(id: string, at: string): Promise<boolean>;
  resolver: KeyResolver;
}

export function keyStore(store: Store): KeyStore {
  const db = store.db.withTables<Tables>();
  const view = (r: Tables['api_key']): ApiKey => ({ id: r.id, name: r.name, role: r.role as Role, createdAt: r.created_at, createdBy: r.created_by, revokedAt: r.revoked_at });
  return {
    async create({ name, role }, by, at) {
      const id = randomBytes(6).toString('hex');
      const secret = `vy_${id}_${randomBytes(32).toString('base64url')}`;
      const row = { id, name, role, secret_sha256: sha256(secret).toString('hex'), created_at: at, created_by: by, revoked_at: null };
      await db.insertInto('api_key').values(row).execute();
      return { key: view(row), secret };
    },
    async get(id) {
      const r = await db.selectFrom('api_key').selectAll().where('id', '=', id).executeTakeFirst();
      return r ? view(r) : null;
    },
    async list({ limit, offset }) {
      const rows = await db.selectFrom('api_key').selectAll().orderBy('created_at').orderBy('id').limit(limit).offset(offset).execute();
      const { n } = await db.selectFrom('api_key').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return { items: rows.map(view), total: Number(n) };
    },
    async revoke(id, at) {
      const r = await db.updateTable('api_key').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async resolver(presented): Promise<Principal | null> {
      const m = keyPattern.exec(presented);
      if (!m) return null;
      const r = await db.selectFrom('api_key').select(['id', 'role', 'secret_sha256', 'revoked_at']).where('id', '=', m[1]).executeTakeFirst();
      if (!r || r.revoked_at !== null) return null;
      return timingSafeEqual(sha256(presented), Buffer.from(r.secret_sha256, 'hex')) ? { keyId: r.id, role: r.role as Role } : null;
    },
  };
}

/** The first resolver that knows the key wins (the configured admin key first, then stored keys). */
export function chainKeyResolvers(...resolvers: KeyResolver[]): KeyResolver {
  return async (presented) => {
    for (const resolve of resolvers) {
      const principal = await resolve(presented);
      if (principal) return principal;
    }
    return null;
  };
}

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyRequest } from 'fastify';
import type { Logger } from '../log.ts';
import { HttpProblem } from './problem.ts';

/**
 * Roles by rank, each allowed what the ones below it are. `kiosk` (the gate screen) sits below viewer: it may ask
 * "which bay?" and learn its own role and the depots' names, nothing that shows the fleet.
 */
export type Role = 'kiosk' | 'viewer' | 'dispatcher' | 'admin';
const rank: Record<Role, number> = { kiosk: 0, viewer: 1, dispatcher: 2, admin: 3 };

/** Whether a key with role `held` may do what needs `needed` (for routes that authenticate without `requireRole`). */
export function hasRole(held: Role, needed: Role): boolean {
  // A stored role this build does not know (a newer version wrote it) is worth nothing rather than a crash.
  return (rank[held] ?? -1) >= rank[needed];
}

export interface Principal {
  readonly keyId: string;
  readonly role: Role;
}

/** Finds who holds a presented key. The admin key from configuration is the first; stored API keys join later. */
export type KeyResolver = (presentedKey: string) => Promise<Principal | null>;

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Compares hashes, so timing says nothing about how much of a key matched. */
export function adminKeyResolver(adminKey: string): KeyResolver {
  const expected = sha256(adminKey);
  return async (presented) => timingSafeEqual(sha256(presented), expected) ? { keyId: 'admin', role: 'admin' } : null;
}

/** The configured admin key, or one generated on first start and kept (0600) in the data dir so restarts keep it. */
export function resolveAdminKey(configured: string | null, dataDir: string, logger: Logger): string {
  if (configured) return configured;
  const file = path.join(dataDir, 'admin-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(24).toString('base64url');
  writeFileSync(file, key + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  logger.warn({ file }, 'VOLTYARD_ADMIN_KEY not set: generated an admin key and stored it in this file');
  return key;
}

export function presentedKey(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice(7).trim();
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey : null;
}

/** Marks the functions `requireRole` makes, so the access context can run them before body validation. */
export const authCheck = Symbol('voltyard.authCheck');

/** A preHandler that lets the request through only for a key with at least `role`. */
export function requireRole(resolve: KeyResolver, role: Role) {
  return Object.assign(async (request: FastifyRequest): Promise<void> => {
    const key = presentedKey(request);
    const principal = key ? await resolve(key) : null;
    if (!principal) {
      throw new HttpProblem({ title: 'Unauthorized', status: 401, detail: 'send an API key as "Authorization: Bearer <key>" or "X-Api-Key: <key>"' });
    }
    if (!hasRole(principal.role, role)) {
      throw new HttpProblem({ title: 'Forbidden', status: 403, detail: `this action needs the ${role} role; the key has ${principal.role}` });
    }
    (request as FastifyRequest & { principal?: Principal }).principal = principal;
  }, { [authCheck]: true });
}

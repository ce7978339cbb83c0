import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyRequest } from 'fastify';
import type { Logger } from '../log.ts';
import { HttpProblem } from './problem.ts';

export type Role = 'viewer' | 'dispatcher' | 'admin';
const rank: Record<Role, number> = { viewer: 0, dispatcher: 1, admin: 2 };

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
    if (rank[principal.role] < rank[role]) {
      throw new HttpProblem({ title: 'Forbidden', status: 403, detail: `this action needs the ${role} role; the key has ${principal.role}` });
    }
    (request as FastifyRequest & { principal?: Principal }).principal = principal;
  }, { [authCheck]: true });
}

import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** Station passwords (security profiles 1 and 2), kept only as salted scrypt hashes. */

const params = { N: 16384, r: 8, p: 1 };
const keyLength = 32;

function derive(password: Buffer, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, keyLength, options, (err, key) => err ? reject(err) : resolve(key)));
}

export async function hashPassword(password: Buffer | string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(Buffer.from(password), salt, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: Buffer | string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await derive(Buffer.from(password), Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

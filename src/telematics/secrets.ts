import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import path from 'node:path';

/**
 * Provider credentials at rest: AES-256-GCM with a key kept beside the database (0600 file in the data dir), so a
 * copied database or backup alone does not leak vendor tokens. Format: `v1.<iv>.<tag>.<ciphertext>` in base64url.
 */
export interface SecretBox {
  seal(plain: Record<string, unknown>): string;
  open(sealed: string): Record<string, unknown>;
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('telematics secret key must be 32 bytes');
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const data = Buffer.concat([cipher.update(JSON.stringify(plain), 'utf8'), cipher.final()]);
      return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
    },
    open(sealed) {
      const [version, iv, tag, data] = sealed.split('.');
      if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('credentials are not in the v1 sealed format');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      const plain = Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
      return JSON.parse(plain) as Record<string, unknown>;
    },
  };
}

/** The key from `<dataDir>/telematics-secret.key`, generated once. Cluster nodes must share this file. */
export function loadSecretKey(dataDir: string): Buffer {
  const file = path.join(dataDir, 'telematics-secret.key');
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64url') + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return key;
}

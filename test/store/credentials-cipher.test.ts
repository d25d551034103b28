import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CredentialsCipherError,
  createCredentialsCipher,
  createCredentialsCipherFromEnv,
  parseEncryptionKey,
  resolveEncryptionKey,
} from '../../src/store/credentials-cipher.js';

const key = randomBytes(32);
const cipher = createCredentialsCipher(key);
const secret = JSON.stringify({ accessToken: 'pat-na1-0123456789abcdef' });
const stateDirs: string[] = [];

function tempStateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'crm-sync-key-'));
  stateDirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of stateDirs) rmSync(dir, { recursive: true, force: true });
});

/** Flips one bit of one base64 part of a `v1:iv:tag:data` ciphertext. */
function tamper(ciphertext: string, part: 1 | 2 | 3): string {
  const parts = ciphertext.split(':');
  const bytes = Buffer.from(parts[part] as string, 'base64');
  bytes[0] = (bytes[0] as number) ^ 0x01;
  parts[part] = bytes.toString('base64');
  return parts.join(':');
}

describe('credentials cipher', () => {
  it('round-trips credentials through a versioned v1:iv:tag:data ciphertext', () => {
    const ciphertext = cipher.encrypt(secret, 'integration:a');
    expect(ciphertext).toMatch(/^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(ciphertext).not.toContain('pat-na1');
    expect(cipher.decrypt(ciphertext, 'integration:a')).toBe(secret);
  });

  it('uses a fresh IV every time, so equal credentials never look equal at rest', () => {
    expect(cipher.encrypt(secret)).not.toBe(cipher.encrypt(secret));
  });

  it.each([
    ['iv', 1],
    ['tag', 2],
    ['data', 3],
  ] as const)('refuses a ciphertext whose %s was altered', (_part, index) => {
    const altered = tamper(cipher.encrypt(secret, 'integration:a'), index);
    expect(() => cipher.decrypt(altered, 'integration:a')).toThrow(CredentialsCipherError);
    expect(() => cipher.decrypt(altered, 'integration:a')).toThrow(
      /could not be decrypted: they were altered/,
    );
  });

  it('refuses a ciphertext moved to another integration', () => {
    const ciphertext = cipher.encrypt(secret, 'integration:a');
    expect(() => cipher.decrypt(ciphertext, 'integration:b')).toThrow(/belong to another integration/);
  });

  it('refuses a ciphertext made with another key, naming the key variable', () => {
    const other = createCredentialsCipher(randomBytes(32));
    expect(() => other.decrypt(cipher.encrypt(secret))).toThrow(/CRM_SYNC_ENCRYPTION_KEY is not the key/);
  });

  it.each([
    [
      'an unknown version',
      'v9:a:b:c',
      /not in a known format \(expected "v1:iv:tag:data", got version "v9"\)/,
    ],
    ['missing parts', 'v1:AAAA', /malformed/],
    ['plain text', 'accessToken', /not in a known format/],
  ])('explains %s instead of failing obscurely', (_case, ciphertext, message) => {
    expect(() => cipher.decrypt(ciphertext)).toThrow(message);
  });

  it('fingerprints with the key, so equal text hashes equal and another key hashes differently', () => {
    expect(cipher.fingerprint('x')).toBe(cipher.fingerprint('x'));
    expect(cipher.fingerprint('x')).not.toBe(cipher.fingerprint('y'));
    expect(createCredentialsCipher(randomBytes(32)).fingerprint('x')).not.toBe(cipher.fingerprint('x'));
  });
});

describe('encryption key', () => {
  it('accepts 32 bytes as base64 or as 64 hex characters', () => {
    expect(parseEncryptionKey(key.toString('base64')).equals(key)).toBe(true);
    expect(parseEncryptionKey(key.toString('hex')).equals(key)).toBe(true);
    expect(parseEncryptionKey(key.toString('base64url')).equals(key)).toBe(true);
  });

  it.each([
    ['a short base64 key', randomBytes(16).toString('base64'), /decodes as base64 to 16 bytes/],
    ['a passphrase', 'correct horse battery staple', /got 28 characters that are neither/],
  ])('rejects %s, saying which encodings it takes and never echoing it', (_case, raw, message) => {
    const error = (() => {
      try {
        parseEncryptionKey(raw);
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a rejection');
    })();
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/32 bytes as base64 .* or 64 hex characters/);
    expect(error.message).not.toContain(raw);
  });

  it('is required in production', () => {
    expect(() => resolveEncryptionKey({ NODE_ENV: 'production' }, { stateDir: tempStateDir() })).toThrow(
      /CRM_SYNC_ENCRYPTION_KEY is required in production/,
    );
  });

  it('comes from CRM_SYNC_ENCRYPTION_KEY when it is set, in production too', () => {
    const resolved = resolveEncryptionKey({
      NODE_ENV: 'production',
      CRM_SYNC_ENCRYPTION_KEY: key.toString('hex'),
    });
    expect(resolved.equals(key)).toBe(true);
  });

  it('is generated once into the state folder in development, with a warning, then reused', () => {
    const stateDir = tempStateDir();
    const warnings: string[] = [];
    const first = resolveEncryptionKey(
      { NODE_ENV: 'development' },
      { stateDir, onWarning: (m) => warnings.push(m) },
    );
    const second = resolveEncryptionKey(
      { NODE_ENV: 'test' },
      { stateDir, onWarning: (m) => warnings.push(m) },
    );
    const file = join(stateDir, 'dev-encryption-key');
    expect(first.equals(second)).toBe(true);
    expect(parseEncryptionKey(readFileSync(file, 'utf8')).equals(first)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(warnings).toEqual([
      `CRM_SYNC_ENCRYPTION_KEY is not set: generated a development key in ${file}`,
      `CRM_SYNC_ENCRYPTION_KEY is not set: using the development key in ${file}`,
    ]);
  });

  it('names the development key file when its content is not a key', () => {
    const stateDir = tempStateDir();
    writeFileSync(join(stateDir, 'dev-encryption-key'), 'not a key\n');
    expect(() => createCredentialsCipherFromEnv({ NODE_ENV: 'development' }, { stateDir })).toThrow(
      `${join(stateDir, 'dev-encryption-key')} must be 32 bytes`,
    );
  });
});

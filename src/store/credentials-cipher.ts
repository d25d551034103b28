import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { localStateDir } from '../config/paths.js';

/**
 * Integration credentials at rest: AES-256-GCM under `CRM_SYNC_ENCRYPTION_KEY`. The stored form
 * is `v1:<iv>:<tag>:<data>` (base64 parts); the version names the format and key generation, so
 * a later `v2` can introduce key ids and rotation while `v1` rows stay readable.
 */

export const ENCRYPTION_KEY_VAR = 'CRM_SYNC_ENCRYPTION_KEY';
const VERSION = 'v1';
const IV_BYTES = 12; // the GCM standard nonce size (NIST SP 800-38D)
const TAG_BYTES = 16;

export class CredentialsCipherError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CredentialsCipherError';
  }
}

export interface CredentialsCipher {
  /**
   * Encrypts `plaintext`; `context` (e.g. `integration:hubspot-prod`) is authenticated with it,
   * so a ciphertext copied onto another row does not decrypt there.
   */
  encrypt(plaintext: string, context?: string): string;
  /** Throws `CredentialsCipherError` for a wrong key, a wrong context or any altered byte. */
  decrypt(ciphertext: string, context?: string): string;
  /**
   * A keyed digest (HMAC-SHA256 under a key derived from the encryption key) for detecting
   * changes to data that holds secrets without storing a plain, guessable hash of them.
   */
  fingerprint(text: string): string;
}

/**
 * @example
 * const cipher = createCredentialsCipher(parseEncryptionKey(process.env.CRM_SYNC_ENCRYPTION_KEY!));
 * cipher.decrypt(cipher.encrypt('{"accessToken":"…"}', 'integration:a'), 'integration:a');
 */
export function createCredentialsCipher(key: Buffer): CredentialsCipher {
  if (key.length !== 32)
    throw new CredentialsCipherError(`encryption key must be 32 bytes, got ${key.length}`);
  const encryptionKey = Buffer.from(key);
  const fingerprintKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'crm-sync/fingerprint/v1', 32));
  return {
    encrypt(plaintext, context = '') {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, iv, cipher.getAuthTag(), data]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64')))
        .join(':');
    },
    decrypt(ciphertext, context = '') {
      const parts = ciphertext.split(':');
      if (parts[0] !== VERSION) {
        throw new CredentialsCipherError(
          `credentials are not in a known format (expected "${VERSION}:iv:tag:data", got version "${parts[0]?.slice(0, 10) ?? ''}")`,
        );
      }
      const [iv, tag, data] = parts.slice(1).map((p) => Buffer.from(p, 'base64'));
      if (parts.length !== 4 || iv?.length !== IV_BYTES || tag?.length !== TAG_BYTES || !data) {
        throw new CredentialsCipherError(
          `credentials ciphertext is malformed (expected "${VERSION}:iv:tag:data")`,
        );
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', encryptionKey, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
      } catch (error) {
        throw new CredentialsCipherError(
          `credentials could not be decrypted: they were altered, belong to another integration, or ${ENCRYPTION_KEY_VAR} is not the key they were encrypted with`,
          { cause: error },
        );
      }
    },
    fingerprint(text) {
      return createHmac('sha256', fingerprintKey).update(text, 'utf8').digest('hex');
    },
  };
}

/**
 * Accepts 32 bytes as 64 hex characters (`openssl rand -hex 32`) or base64 (`openssl rand
 * -base64 32`, 44 characters). The error says what was wrong, never the value.
 */
export function parseEncryptionKey(raw: string, source = ENCRYPTION_KEY_VAR): Buffer {
  const text = raw.trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === 32) return bytes;
    throw new CredentialsCipherError(
      `${source} must be 32 bytes as base64 (44 characters, \`openssl rand -base64 32\`) or 64 hex characters (\`openssl rand -hex 32\`); it decodes as base64 to ${bytes.length} bytes`,
    );
  }
  throw new CredentialsCipherError(
    `${source} must be 32 bytes as base64 (44 characters, \`openssl rand -base64 32\`) or 64 hex characters (\`openssl rand -hex 32\`); got ${text.length} characters that are neither`,
  );
}

export interface EncryptionKeyOptions {
  /** Told when the development key is used (a CLI writes it to stderr, the worker logs it). */
  onWarning?: ((message: string) => void) | undefined;
  /** Where the development key lives; the project's `.crm-sync/` by default. */
  stateDir?: string | undefined;
}

type KeyEnv = { NODE_ENV?: string | undefined; CRM_SYNC_ENCRYPTION_KEY?: string | undefined };

/**
 * The key from `CRM_SYNC_ENCRYPTION_KEY`. In production its absence is an error. Elsewhere a
 * random key is generated once into `.crm-sync/dev-encryption-key` (git-ignored) with a warning,
 * so a fresh clone works while no key is ever hard-coded.
 */
export function resolveEncryptionKey(env: KeyEnv, options: EncryptionKeyOptions = {}): Buffer {
  const configured = env.CRM_SYNC_ENCRYPTION_KEY?.trim();
  if (configured) return parseEncryptionKey(configured);
  if (env.NODE_ENV === 'production') {
    throw new CredentialsCipherError(
      `${ENCRYPTION_KEY_VAR} is required in production: set it to 32 random bytes as base64 (\`openssl rand -base64 32\`) or hex (\`openssl rand -hex 32\`)`,
    );
  }
  const dir = options.stateDir ?? localStateDir;
  const file = join(dir, 'dev-encryption-key');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Written aside, then hard-linked into place: link fails if the file exists, so two processes
  // starting together agree on one key, and neither can read a half-written file.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  try {
    linkSync(draft, file);
    options.onWarning?.(`${ENCRYPTION_KEY_VAR} is not set: generated a development key in ${file}`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    options.onWarning?.(`${ENCRYPTION_KEY_VAR} is not set: using the development key in ${file}`);
  } finally {
    unlinkSync(draft);
  }
  return parseEncryptionKey(readFileSync(file, 'utf8'), file);
}

/** The cipher every component uses; call it at start so a missing production key fails fast. */
export function createCredentialsCipherFromEnv(
  env: KeyEnv,
  options: EncryptionKeyOptions = {},
): CredentialsCipher {
  return createCredentialsCipher(resolveEncryptionKey(env, options));
}

import { readFile, stat } from 'node:fs/promises';
import { Wallet, isKeystoreJson } from 'ethers';

/**
 * Loading the trader's signing key: from an environment variable holding 0x + 64 hex digits, or from
 * an ethers/Web3 v3 encrypted JSON keystore whose password is in an environment variable.
 *
 * Error messages name the variable or the path, never a value: no key, no password, no keystore
 * content, and no `cause` (the underlying errors quote their input: V8's JSON errors show a snippet).
 */

export interface LoadTraderWalletOptions {
  /** Where variables are read; pass `process.env` in production and a plain object in tests. */
  env: Readonly<Record<string, string | undefined>>;
  /** Name of the variable that holds the private key. */
  keyEnvName?: string;
  /** Path of an encrypted JSON keystore. */
  keystorePath?: string;
  /** Name of the variable that holds the keystore's password. */
  passwordEnvName?: string;
}

export type KeyLoadErrorCode =
  | 'no-key-source'
  | 'ambiguous-key-source'
  | 'bad-private-key'
  | 'keystore-unreadable'
  | 'keystore-invalid'
  | 'missing-password'
  | 'wrong-password';

export class KeyLoadError extends Error {
  override readonly name = 'KeyLoadError';
  constructor(
    readonly code: KeyLoadErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Keystores are about 500 bytes; anything far larger is not one. */
const MAX_KEYSTORE_BYTES = 64 * 1024;
const PRIVATE_KEY = /^0x[0-9a-fA-F]{64}$/;

function keyFromEnv(name: string, raw: string): Wallet {
  // A trailing newline is common when a variable is filled from a file.
  const key = raw.trim();
  if (!PRIVATE_KEY.test(key)) {
    throw new KeyLoadError('bad-private-key', `${name} must hold a private key written as 0x followed by 64 hex digits`);
  }
  try {
    return new Wallet(key);
  } catch {
    throw new KeyLoadError('bad-private-key', `${name} does not hold a valid secp256k1 private key`);
  }
}

async function keyFromKeystore(path: string, options: LoadTraderWalletOptions): Promise<Wallet> {
  const passwordName = options.passwordEnvName;
  if (passwordName === undefined || options.env[passwordName] === undefined) {
    throw new KeyLoadError(
      'missing-password',
      passwordName === undefined
        ? `keystore ${path} needs a password: name its environment variable (passwordEnvName)`
        : `keystore ${path} needs a password: set the environment variable ${passwordName}`,
    );
  }
  const password = options.env[passwordName] ?? '';
  let content: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new KeyLoadError('keystore-unreadable', `keystore ${path} is not a file`);
    if (info.size > MAX_KEYSTORE_BYTES)
      throw new KeyLoadError('keystore-invalid', `keystore ${path} is larger than ${MAX_KEYSTORE_BYTES} bytes`);
    content = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof KeyLoadError) throw error;
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : 'unknown error';
    throw new KeyLoadError('keystore-unreadable', `cannot read keystore ${path} (${code})`);
  }
  if (!isKeystoreJson(content)) {
    throw new KeyLoadError('keystore-invalid', `${path} is not an encrypted JSON keystore (version 3)`);
  }
  let decrypted: Awaited<ReturnType<typeof Wallet.fromEncryptedJson>>;
  try {
    decrypted = await Wallet.fromEncryptedJson(content, password);
  } catch (error) {
    const wrongPassword = error instanceof Error && 'argument' in error && error.argument === 'password';
    throw wrongPassword
      ? new KeyLoadError('wrong-password', `the password in ${passwordName} does not open keystore ${path}`)
      : new KeyLoadError('keystore-invalid', `keystore ${path} is malformed or uses an unsupported cipher`);
  }
  // fromEncryptedJson may return an HD wallet; callers get one plain type.
  return new Wallet(decrypted.privateKey);
}

/**
 * The trader's wallet from exactly one configured source. A configured key variable that is unset
 * counts as absent, so one config can name both sources; both present at once is refused.
 */
export async function loadTraderWallet(options: LoadTraderWalletOptions): Promise<Wallet> {
  const { env, keyEnvName, keystorePath } = options;
  const rawKey = keyEnvName === undefined ? undefined : env[keyEnvName];
  const hasKey = rawKey !== undefined && rawKey !== '';
  if (hasKey && keystorePath !== undefined) {
    throw new KeyLoadError('ambiguous-key-source', `both ${keyEnvName} and keystore ${keystorePath} are set: keep one`);
  }
  if (hasKey) return keyFromEnv(keyEnvName ?? '', rawKey);
  if (keystorePath !== undefined) return keyFromKeystore(keystorePath, options);
  throw new KeyLoadError(
    'no-key-source',
    keyEnvName === undefined
      ? 'no trader key configured: set a key environment variable name or a keystore path'
      : `no trader key: set the environment variable ${keyEnvName} or configure a keystore path`,
  );
}

import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Wallet, encryptKeystoreJsonSync } from 'ethers';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyLoadError, loadTraderWallet, type KeyLoadErrorCode, type LoadTraderWalletOptions } from '../../../src/derivadex/crypto/keys.ts';

// A throwaway key: the tests prove it never leaks, so it must look like a real one.
const PRIVATE_KEY = '0x5f2c7a1e9d3b8c4f6a0e2d7b9c1f3a5e8d0b2c4e6f8a1c3e5d7f9b2a4c6e8d01';
const PASSWORD = 'correct-horse-SECRET-battery';
const wallet = new Wallet(PRIVATE_KEY);

const dir = mkdtempSync(join(tmpdir(), 'riskwarden-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

// Low scrypt cost keeps the test fast; the format is the standard v3 keystore.
const keystore = encryptKeystoreJsonSync({ address: wallet.address, privateKey: PRIVATE_KEY }, PASSWORD, { scrypt: { N: 1 << 10 } });
// ethers writes the v3 keystore's "Crypto" member capitalised.
const keystoreData = JSON.parse(keystore) as { address: string; Crypto: { ciphertext: string; mac: string; kdfparams: { salt: string } } };
const keystorePath = file('trader.json', keystore);

/** Everything that must never appear in an error. */
const SECRETS = [
  PRIVATE_KEY,
  PRIVATE_KEY.slice(2),
  PRIVATE_KEY.slice(2).toUpperCase(),
  PASSWORD,
  'SECRET',
  keystoreData.Crypto.ciphertext,
  keystoreData.Crypto.mac,
  keystoreData.Crypto.kdfparams.salt,
  // Not secret, but keystore content all the same.
  keystoreData.address,
];

async function failure(options: LoadTraderWalletOptions): Promise<KeyLoadError> {
  try {
    await loadTraderWallet(options);
  } catch (error) {
    if (error instanceof KeyLoadError) return error;
    throw new Error(`expected a KeyLoadError, got ${String(error)}`);
  }
  throw new Error('expected loading to fail');
}

function expectNoSecrets(error: KeyLoadError): void {
  const renderings = [
    error.message,
    String(error),
    error.stack ?? '',
    inspect(error, { depth: 5, showHidden: true }),
    JSON.stringify(error),
  ];
  expect(error.cause).toBeUndefined();
  for (const text of renderings) {
    for (const secret of SECRETS) expect(text.includes(secret), `error text contains a secret: ${text.slice(0, 80)}`).toBe(false);
  }
}

describe('loadTraderWallet', () => {
  it('loads a key from an environment variable (whitespace trimmed)', async () => {
    const loaded = await loadTraderWallet({ env: { TRADER_KEY: `${PRIVATE_KEY}\n` }, keyEnvName: 'TRADER_KEY' });
    expect(loaded.address).toBe(wallet.address);
  });

  it('loads a key from an encrypted JSON keystore', async () => {
    const loaded = await loadTraderWallet({ env: { KEY_PW: PASSWORD }, keystorePath, passwordEnvName: 'KEY_PW' });
    expect(loaded.address).toBe(wallet.address);
    expect(loaded.privateKey).toBe(PRIVATE_KEY);
  });

  it('uses the keystore when the key variable is named but unset', async () => {
    const loaded = await loadTraderWallet({ env: { KEY_PW: PASSWORD }, keyEnvName: 'TRADER_KEY', keystorePath, passwordEnvName: 'KEY_PW' });
    expect(loaded.address).toBe(wallet.address);
  });

  const cases: { name: string; code: KeyLoadErrorCode; options: () => LoadTraderWalletOptions; mentions: string }[] = [
    { name: 'no source at all', code: 'no-key-source', options: () => ({ env: {} }), mentions: 'no trader key' },
    {
      name: 'key variable unset, no keystore',
      code: 'no-key-source',
      options: () => ({ env: {}, keyEnvName: 'TRADER_KEY' }),
      mentions: 'TRADER_KEY',
    },
    {
      name: 'key that is not hex',
      code: 'bad-private-key',
      options: () => ({ env: { TRADER_KEY: `SECRET-${PRIVATE_KEY}` }, keyEnvName: 'TRADER_KEY' }),
      mentions: 'TRADER_KEY',
    },
    {
      name: 'key one digit short',
      code: 'bad-private-key',
      options: () => ({ env: { TRADER_KEY: PRIVATE_KEY.slice(0, -1) }, keyEnvName: 'TRADER_KEY' }),
      mentions: 'TRADER_KEY',
    },
    {
      name: 'key without 0x',
      code: 'bad-private-key',
      options: () => ({ env: { TRADER_KEY: PRIVATE_KEY.slice(2) }, keyEnvName: 'TRADER_KEY' }),
      mentions: 'TRADER_KEY',
    },
    {
      name: 'key outside the curve order',
      code: 'bad-private-key',
      options: () => ({ env: { TRADER_KEY: `0x${'f'.repeat(64)}` }, keyEnvName: 'TRADER_KEY' }),
      mentions: 'TRADER_KEY',
    },
    {
      name: 'both sources present',
      code: 'ambiguous-key-source',
      options: () => ({
        env: { TRADER_KEY: PRIVATE_KEY, KEY_PW: PASSWORD },
        keyEnvName: 'TRADER_KEY',
        keystorePath,
        passwordEnvName: 'KEY_PW',
      }),
      mentions: 'keep one',
    },
    {
      name: 'keystore without a password variable name',
      code: 'missing-password',
      options: () => ({ env: { KEY_PW: PASSWORD }, keystorePath }),
      mentions: 'passwordEnvName',
    },
    {
      name: 'keystore with the password variable unset',
      code: 'missing-password',
      options: () => ({ env: {}, keystorePath, passwordEnvName: 'KEY_PW' }),
      mentions: 'KEY_PW',
    },
    {
      name: 'wrong password',
      code: 'wrong-password',
      options: () => ({ env: { KEY_PW: `${PASSWORD}-wrong` }, keystorePath, passwordEnvName: 'KEY_PW' }),
      mentions: 'KEY_PW',
    },
    {
      name: 'keystore file missing',
      code: 'keystore-unreadable',
      options: () => ({ env: { KEY_PW: PASSWORD }, keystorePath: join(dir, 'absent.json'), passwordEnvName: 'KEY_PW' }),
      mentions: 'ENOENT',
    },
    {
      name: 'keystore path is a directory',
      code: 'keystore-unreadable',
      options: () => {
        const sub = join(dir, 'a-directory');
        mkdirSync(sub, { recursive: true });
        return { env: { KEY_PW: PASSWORD }, keystorePath: sub, passwordEnvName: 'KEY_PW' };
      },
      mentions: 'not a file',
    },
    {
      name: 'keystore that is not JSON (V8 would quote it)',
      code: 'keystore-invalid',
      options: () => ({
        env: { KEY_PW: PASSWORD },
        keystorePath: file('broken.json', `{"crypto": "SECRET ${PRIVATE_KEY}`),
        passwordEnvName: 'KEY_PW',
      }),
      mentions: 'not an encrypted JSON keystore',
    },
    {
      name: 'keystore JSON with a mangled body',
      code: 'keystore-invalid',
      options: () => {
        const mangled = JSON.parse(keystore) as { Crypto: Record<string, unknown> };
        mangled.Crypto.cipher = `SECRET-${PRIVATE_KEY}`;
        return { env: { KEY_PW: PASSWORD }, keystorePath: file('mangled.json', JSON.stringify(mangled)), passwordEnvName: 'KEY_PW' };
      },
      mentions: 'malformed',
    },
    {
      name: 'keystore far too large',
      code: 'keystore-invalid',
      options: () => ({
        env: { KEY_PW: PASSWORD },
        keystorePath: file('huge.json', `"SECRET${'x'.repeat(70_000)}"`),
        passwordEnvName: 'KEY_PW',
      }),
      mentions: 'larger than',
    },
  ];

  for (const { name, code, options, mentions } of cases) {
    it(`fails on ${name} with ${code}, naming the place and no secret`, async () => {
      const error = await failure(options());
      expect(error.code).toBe(code);
      expect(error.message).toContain(mentions);
      expectNoSecrets(error);
    });
  }
});

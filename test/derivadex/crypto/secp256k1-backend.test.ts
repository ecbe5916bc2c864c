import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Wallet, getBytes, hexlify, keccak256, toUtf8Bytes } from 'ethers';
import { describe, expect, it } from 'vitest';
import {
  chooseSecp256k1Backend,
  ethersBackend,
  loadNativeSecp256k1,
  nativeBackend,
  secp256k1BackendInfo,
} from '../../../src/derivadex/crypto/secp256k1-backend.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const wallet = new Wallet('0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba');
const secret = getBytes(wallet.privateKey);
const digest = getBytes(keccak256(toUtf8Bytes('riskwarden')));

function native() {
  try {
    return nativeBackend(loadNativeSecp256k1());
  } catch (error) {
    throw new Error(
      `the secp256k1 binding does not load (${error instanceof Error ? error.message : String(error)}): run npm ci; its prebuilt binary for this platform is in node_modules/secp256k1/prebuilds`,
    );
  }
}

describe('secp256k1 backend', () => {
  it('uses the native binding on this machine', () => {
    native();
    expect(chooseSecp256k1Backend({ env: {} }).backend.kind).toBe('native');
    expect(secp256k1BackendInfo()).toEqual({ kind: 'native' });
  });

  it('falls back to ethers when the binding cannot load, and says why', () => {
    const choice = chooseSecp256k1Backend({
      env: {},
      load: () => {
        throw new Error('No native build was found');
      },
    });
    expect(choice.backend.kind).toBe('ethers');
    expect(choice.fallbackReason).toBe('the secp256k1 binding did not load (No native build was found)');
  });

  it('falls back to ethers when RISKWARDEN_SECP256K1=ethers, without loading the binding', () => {
    const choice = chooseSecp256k1Backend({
      env: { RISKWARDEN_SECP256K1: 'ethers' },
      load: () => {
        throw new Error('must not be called');
      },
    });
    expect(choice).toEqual({ backend: ethersBackend, fallbackReason: 'RISKWARDEN_SECP256K1=ethers' });
  });

  it('both backends give the same signature, public key and shared point as ethers', () => {
    const n = native();
    const other = Wallet.createRandom();
    expect(hexlify(n.sign(digest, secret))).toBe(wallet.signingKey.sign(digest).serialized);
    expect(hexlify(ethersBackend.sign(digest, secret))).toBe(wallet.signingKey.sign(digest).serialized);
    expect(hexlify(n.compressedPublicKey(secret))).toBe(wallet.signingKey.compressedPublicKey);
    expect(hexlify(ethersBackend.compressedPublicKey(secret))).toBe(wallet.signingKey.compressedPublicKey);
    const publicKey = getBytes(other.signingKey.compressedPublicKey);
    expect(hexlify(n.sharedPoint(secret, publicKey))).toBe(hexlify(ethersBackend.sharedPoint(secret, publicKey)));
  });

  it('refuses a point that is not on the curve, natively as in ethers', () => {
    const bad = getBytes(`0x02${'00'.repeat(31)}05`);
    expect(() => native().sharedPoint(secret, bad)).toThrow();
    expect(() => ethersBackend.sharedPoint(secret, bad)).toThrow();
  });

  it('a process forced onto the fallback signs the same bytes and says so once', () => {
    const script = [
      "import { Wallet } from 'ethers';",
      "import { signOrder } from './src/derivadex/crypto/eip712.ts';",
      "import { secp256k1BackendInfo } from './src/derivadex/crypto/secp256k1-backend.ts';",
      `const w = new Wallet('${wallet.privateKey}');`,
      "const venue = { chainId: 1, verifyingContract: '0x5d1a3b4181d3cad422f404f28e9e972d0ba4dad6', decimals: 6 };",
      "const o = { symbol: 'ETHP', strategy: 'main', side: 'Bid', orderType: 0, nonce: '0x' + '42'.repeat(32), amount: '1', price: '2000', stopPrice: '0' };",
      'const a = signOrder(w, o, venue).signature; const b = signOrder(w, { ...o, amount: "2" }, venue).signature;',
      'console.log(JSON.stringify({ kind: secp256k1BackendInfo().kind, a, b }));',
    ].join('\n');
    const run = (env: Record<string, string>) => {
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: ROOT,
        env: { ...process.env, ...env },
        encoding: 'utf8',
      });
      expect(child.status, child.stderr).toBe(0);
      const result = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as { kind: string; a: string; b: string };
      return { ...result, warnings: child.stderr.split('RISKWARDEN_SECP256K1_FALLBACK').length - 1 };
    };
    const forced = run({ RISKWARDEN_SECP256K1: 'ethers' });
    const normal = run({ RISKWARDEN_SECP256K1: '' });
    expect(forced).toMatchObject({ kind: 'ethers', warnings: 1 });
    expect(normal).toMatchObject({ kind: 'native', warnings: 0 });
    expect(forced.a).toBe(normal.a);
    expect(forced.b).toBe(normal.b);
  });
});

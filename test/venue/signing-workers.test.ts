import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Wallet, getAddress, getBytes, keccak256, toUtf8Bytes } from 'ethers';
import { afterEach, describe, expect, it } from 'vitest';
import { ORDER_TYPE } from '../../src/derivadex/codes.ts';
import { orderDigest, signDigest, signerSecretKey, type Eip712Venue } from '../../src/derivadex/crypto/eip712.ts';
import { SigningWorkers, type SignJob, type SignResult } from '../../src/venue/signing-workers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VENUE: Eip712Venue = { chainId: 1337, verifyingContract: getAddress(`0x${'dd'.repeat(20)}`), decimals: 6 };
const wallets = Array.from({ length: 8 }, (_, i) => new Wallet(keccak256(toUtf8Bytes(`riskwarden-test-trader-${i}`))));

function order(i: number) {
  return {
    symbol: 'ETHP',
    strategy: 'main',
    side: i % 2 === 0 ? ('Bid' as const) : ('Ask' as const),
    orderType: ORDER_TYPE.Limit,
    nonce: keccak256(toUtf8Bytes(`nonce-${i}`)),
    amount: `${1 + (i % 7)}.5`,
    price: `${1900 + i}`,
    stopPrice: '0',
  };
}

function job(i: number): { job: SignJob; expected: SignResult } {
  const wallet = wallets[i % wallets.length]!;
  const digest = orderDigest(order(i), VENUE);
  return {
    job: { digest: getBytes(digest), secretKey: signerSecretKey(wallet) },
    expected: { signature: signDigest(wallet, digest) },
  };
}

/** Submits `count` jobs in one turn; the results in the order they were handed back. */
async function burst(workers: SigningWorkers, count: number): Promise<{ order: number[]; results: SignResult[]; expected: SignResult[] }> {
  const jobs = Array.from({ length: count }, (_, i) => job(i));
  const handedBack: number[] = [];
  const pending = jobs.map(({ job: j }, i) => {
    const r = workers.sign(j);
    if (r instanceof Promise) {
      return r.then((value) => {
        handedBack.push(i);
        return value;
      });
    }
    handedBack.push(i);
    return Promise.resolve(r);
  });
  const results = await Promise.all(pending);
  return { order: handedBack, results, expected: jobs.map((j) => j.expected) };
}

const open: SigningWorkers[] = [];
afterEach(async () => {
  for (const w of open.splice(0)) await w.close();
});

function workers(options: ConstructorParameters<typeof SigningWorkers>[0] = {}): SigningWorkers {
  const w = new SigningWorkers(options);
  open.push(w);
  return w;
}

describe('SigningWorkers', () => {
  it('signs a job alone inline and synchronously, exactly as the main thread does', () => {
    const w = workers();
    const { job: j, expected } = job(0);
    expect(w.sign(j)).toEqual(expected);
    expect(w.stats).toEqual({ inline: 1, threaded: 0, threads: 0, backends: [] });
  });

  it('shares a burst among the threads; the same signatures, handed back in submission order', async () => {
    const w = workers({ threads: 2, chunk: 16 });
    await w.warm();
    const { order, results, expected } = await burst(w, 300);
    expect(results).toEqual(expected);
    expect(order).toEqual(expected.map((_, i) => i));
    // The first of the turn inline, the other 299 on the threads.
    expect(w.stats).toEqual({ inline: 1, threaded: 299, threads: 2, backends: ['native', 'native'] });
  });

  it('threads forced onto the ethers fallback sign the same bytes', async () => {
    const w = workers({ threads: 2, chunk: 8, env: { RISKWARDEN_SECP256K1: 'ethers' } });
    await w.warm();
    const { results, expected } = await burst(w, 60);
    expect(results).toEqual(expected);
    expect(w.stats).toMatchObject({ threaded: 59, backends: ['ethers', 'ethers'] });
  });

  it('signs inline while the threads are still starting, in order', async () => {
    const w = workers({ threads: 2 });
    const { order, results, expected } = await burst(w, 40);
    expect(results).toEqual(expected);
    expect(order).toEqual(expected.map((_, i) => i));
  });

  it('a job submitted after a burst waits for it: nothing overtakes', async () => {
    const w = workers({ threads: 2, chunk: 8 });
    await w.warm();
    const handedBack: string[] = [];
    const first = Array.from({ length: 50 }, (_, i) => Promise.resolve(w.sign(job(i).job)).then(() => handedBack.push(`a${i}`)));
    await Promise.resolve();
    await Promise.resolve();
    // Next turn, while the threads still hold the burst: queued behind it, not signed inline ahead of it.
    const late = w.sign(job(50).job);
    expect(late).toBeInstanceOf(Promise);
    const last = Promise.resolve(late).then(() => handedBack.push('late'));
    await Promise.all([...first, last]);
    expect(handedBack.at(-1)).toBe('late');
    expect(handedBack.slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, i) => `a${i}`));
  });

  it('close during a burst: every job is still signed, in order, and the threads are gone', async () => {
    const w = workers({ threads: 2, chunk: 4 });
    await w.warm();
    const running = burst(w, 200);
    await w.close();
    const { order, results, expected } = await running;
    expect(results).toEqual(expected);
    expect(order).toEqual(expected.map((_, i) => i));
    expect(w.stats.threads).toBe(0);
    // After close: inline.
    expect(w.sign(job(1).job)).toEqual(job(1).expected);
  });

  it('with no threads everything is inline', async () => {
    const w = workers({ threads: 0 });
    const { results, expected } = await burst(w, 20);
    expect(results).toEqual(expected);
    expect(w.stats).toEqual({ inline: 20, threaded: 0, threads: 0, backends: [] });
  });

  it('a process exits by itself after close, and with idle threads it never closed', () => {
    const script = (close: boolean) =>
      [
        "import { getAddress, getBytes, Wallet } from 'ethers';",
        "import { orderDigest, signerSecretKey } from './src/derivadex/crypto/eip712.ts';",
        "import { SigningWorkers } from './src/venue/signing-workers.ts';",
        "const venue = { chainId: 1, verifyingContract: getAddress('0x' + 'dd'.repeat(20)), decimals: 6 };",
        "const w = new Wallet('0x' + '11'.repeat(32));",
        'const workers = new SigningWorkers({ threads: 2 });',
        'await workers.warm();',
        "const jobs = Array.from({ length: 100 }, (_, i) => workers.sign({ digest: getBytes(orderDigest({ symbol: 'ETHP', strategy: 'main', side: 'Bid', orderType: 0, nonce: '0x' + '42'.repeat(32), amount: String(i + 1), price: '2000', stopPrice: '0' }, venue)), secretKey: signerSecretKey(w) }));",
        'await Promise.all(jobs);',
        close ? 'await workers.close();' : '',
        "console.log('threads', workers.stats.threads, 'threaded', workers.stats.threaded);",
      ].join('\n');
    for (const close of [true, false]) {
      // The timeout only keeps a hanging child from hanging the suite; nothing here measures time.
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(close)], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(child.error, `close=${close}: the process did not exit by itself`).toBeUndefined();
      expect(child.status, child.stderr).toBe(0);
      expect(child.stdout.trim()).toBe(close ? 'threads 0 threaded 99' : 'threads 2 threaded 99');
    }
  });
});

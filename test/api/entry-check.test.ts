import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryCheckResponseSchema, errorResponseSchema } from '../../src/api/api-schemas.ts';
import { READ_TOKEN, startApiFixture, type ApiFixture } from './api-harness.ts';

/*
 * POST /api/v1/accounts/{id}/entry-check on a real fleet paused at 25 s: alpha holds 6 ETHP, its cap
 * (entries-blocked); beta holds nothing and trades. The answer is the account gate's (FleetRuntime.checkEntry);
 * nothing is sent and no record is written.
 */

let f: ApiFixture;

beforeAll(async () => {
  f = await startApiFixture({ pauses: [25_000] });
  await f.pausedAt(25_000);
});
afterAll(async () => {
  await f?.close();
});

const BUY_ONE = { symbol: 'ETHP', side: 'buy', amount: '1', type: 'market' };

async function check(account: string, body: unknown, token: string = READ_TOKEN) {
  const r = await f.post(`/api/v1/accounts/${account}/entry-check`, body, token);
  return { status: r.status, body: (await r.json()) as unknown };
}

describe('POST /api/v1/accounts/{id}/entry-check', () => {
  it('a trading account with room: allowed, with a read token', async () => {
    const { status, body } = await check('beta', BUY_ONE);
    expect(status).toBe(200);
    const answer = entryCheckResponseSchema.parse(body);
    expect(answer).toMatchObject({ allowed: true, purpose: 'entry', blocks: [], order: BUY_ONE });
  });

  it('an account at its cap: refused, with the block and its numbers', async () => {
    const answer = entryCheckResponseSchema.parse((await check('alpha', BUY_ONE)).body);
    expect(answer.allowed).toBe(false);
    expect(answer.rules).toContain('max-position-size');
    // 6 held + 1 bought = 7 > the cap of 6.
    expect(answer.blocks.find((b) => b.rule === 'max-position-size')).toBeDefined();
  });

  it('an order that only reduces the position is a close, allowed even at the cap', async () => {
    const answer = entryCheckResponseSchema.parse((await check('alpha', { ...BUY_ONE, side: 'sell', type: 'limit', price: '1990' })).body);
    expect(answer).toMatchObject({ allowed: true, purpose: 'close' });
  });

  it('nothing is sent and nothing is written', async () => {
    const before = f.written.length;
    for (let i = 0; i < 5; i += 1) await check('alpha', BUY_ONE);
    expect(f.written.length).toBe(before);
  });

  it('a body that is not an order intent is 400 with every problem by path', async () => {
    const { status, body } = await check('beta', { symbol: 'ETHP', side: 'up', amount: 'one', type: 'market', extra: 1 });
    expect(status).toBe(400);
    const problems = errorResponseSchema.parse(body).problems ?? [];
    expect(problems.some((p) => p.startsWith('side'))).toBe(true);
    expect(problems.some((p) => p.startsWith('amount'))).toBe(true);
    expect(problems.some((p) => p.includes('extra'))).toBe(true);
  });

  it('an account not supervised here is 404; no token is 401', async () => {
    expect((await check('nobody', BUY_ONE)).status).toBe(404);
    const r = await fetch(`${f.api.url}/api/v1/accounts/beta/entry-check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(BUY_ONE),
    });
    expect(r.status).toBe(401);
  });

  it('after the kill switch every entry is refused for the stopout', async () => {
    const set = await f.post('/api/v1/stopouts', { scope: 'fleet', id: '*', reason: 'manual' });
    expect(set.status).toBe(200);
    const answer = entryCheckResponseSchema.parse((await check('beta', BUY_ONE)).body);
    expect(answer.allowed).toBe(false);
    expect(answer.rules.some((r) => r === 'stopout' || r === 'state')).toBe(true);
    const reset = await f.post('/api/v1/stopouts/reset', { scope: 'fleet', id: '*', reason: 'manual' });
    expect(reset.status).toBe(200);
    expect(entryCheckResponseSchema.parse((await check('beta', BUY_ONE)).body).allowed).toBe(true);
  });
});

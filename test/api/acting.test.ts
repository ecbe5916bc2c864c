import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionResponseSchema, fleetResponseSchema, stopoutsResponseSchema } from '../../src/api/api-schemas.ts';
import { tokenFingerprint } from '../../src/api/auth.ts';
import { ADMIN_TOKEN, READ_TOKEN, startApiFixture, type ApiFixture } from './api-harness.ts';

/*
 * Operator actions through the API act on the real fleet through FleetRuntime.operate (the CLI's and the
 * scenarios' path): the kill switch stops every account, a reset is refused with CopyFactory's reason
 * while the limit still breaches, and goes through once startTime has moved. Every call is audited.
 */

let f: ApiFixture;
const ADMIN_WHO = `admin:${tokenFingerprint(ADMIN_TOKEN)}`;

beforeAll(async () => {
  f = await startApiFixture({ pauses: [30_000, 70_000, 71_000] });
});
afterAll(async () => {
  await f?.close();
});

async function fleet() {
  return fleetResponseSchema.parse(await (await f.get('/api/v1/fleet')).json());
}

describe('acting through the API', () => {
  it('the fleet kill switch stops every account out; resetting it lets them go back', async () => {
    await f.pausedAt(30_000);
    const before = await fleet();
    // alpha holds 6 = its cap (entries-blocked since 20 s); beta trades.
    expect(Object.fromEntries(before.accounts.map((a) => [a.id, a.state]))).toEqual({ alpha: 'entries-blocked', beta: 'trading' });

    const set = await f.post('/api/v1/stopouts', { scope: 'fleet', id: '*', reason: 'manual' });
    expect(set.status).toBe(200);
    expect(actionResponseSchema.parse(await set.json())).toEqual({ result: 'ok' });

    const stopped = await fleet();
    for (const a of stopped.accounts) {
      expect(a.state).toBe('stopped-out');
      expect(a.stopouts).toContain('fleet:*:manual');
    }
    const stopouts = stopoutsResponseSchema.parse(await (await f.get('/api/v1/stopouts')).json());
    expect(stopouts.stopouts).toEqual([
      expect.objectContaining({ scope: 'fleet', id: '*', reason: 'manual', closePositions: false, by: `api ${ADMIN_WHO}` }),
    ]);

    const reset = await f.post('/api/v1/stopouts/reset', { scope: 'fleet', id: '*', reason: 'manual' });
    expect(reset.status).toBe(200);
    const after = await fleet();
    expect(Object.fromEntries(after.accounts.map((a) => [a.id, a.state]))).toEqual({ alpha: 'entries-blocked', beta: 'trading' });
    expect((await (await f.get('/api/v1/stopouts')).json()).stopouts).toEqual([]);

    // The operator records are in the timeline like the CLI's and the scenarios'.
    const operator = f.written.map((w) => w.record).filter((r) => r.kind === 'operator');
    expect(operator).toEqual([
      expect.objectContaining({ action: 'set-stopout', scope: 'fleet', id: '*', result: 'ok' }),
      expect.objectContaining({ action: 'reset-stopout', scope: 'fleet', id: '*', result: 'ok' }),
    ]);
    f.resume();
  });

  it('a reset while the limit still breaches is refused (409) with the CopyFactory reason', async () => {
    await f.pausedAt(70_000);
    // At 61 s the gap to 1700 cost alpha 6 × 300 = 1800 > 1500: core is stopped out.
    const before = await fleet();
    for (const a of before.accounts) expect(a.stopouts).toContain('portfolio:core:day-equity-difference');

    const refused = await f.post('/api/v1/stopouts/reset', { scope: 'portfolio', id: 'core', reason: 'day-equity-difference' });
    expect(refused.status).toBe(409);
    const body = actionResponseSchema.parse(await refused.json());
    expect(body.result).toBe('refused');
    expect(body.reason).toMatch(/^day-equity-difference still breached: .* move startTime on portfolio core to now first, then reset$/);
    expect((await fleet()).accounts.every((a) => a.state === 'stopped-out')).toBe(true);
  });

  it('after moving startTime the reset goes through', async () => {
    const moved = await f.post('/api/v1/start-time', { scope: 'portfolio', id: 'core' });
    expect(moved.status).toBe(200);
    expect(await moved.json()).toEqual({ result: 'ok' });
    // The group is measured again on the next second, from the new startTime.
    f.resume();
    await f.pausedAt(71_000);
    const reset = await f.post('/api/v1/stopouts/reset', { scope: 'portfolio', id: 'core', reason: 'day-equity-difference' });
    expect(await reset.json()).toEqual({ result: 'ok' });
    expect(reset.status).toBe(200);
    const after = await fleet();
    for (const a of after.accounts) expect(a.stopouts).not.toContain('portfolio:core:day-equity-difference');
  });

  it('a refused reset of a stopout that does not exist is 409 too', async () => {
    const r = await f.post('/api/v1/stopouts/reset', { scope: 'account', id: 'beta', reason: 'manual' });
    expect(r.status).toBe(409);
    expect(await r.json()).toEqual({ result: 'refused', reason: 'no stopout manual on account beta' });
  });

  it('a read token cannot act (403), and that is audited too', async () => {
    const r = await f.post('/api/v1/stopouts', { scope: 'fleet', id: '*' }, READ_TOKEN);
    expect(r.status).toBe(403);
    expect((await (await f.get('/api/v1/stopouts')).json()).stopouts).toEqual([]);
  });

  it('every acting call was audited with who, what was asked and the outcome', () => {
    const readWho = `read:${tokenFingerprint(READ_TOKEN)}`;
    expect(f.audits.map((a) => [a.who, a.action, a.status, a.result.result])).toEqual([
      [ADMIN_WHO, 'set-stopout', 200, 'ok'],
      [ADMIN_WHO, 'reset-stopout', 200, 'ok'],
      [ADMIN_WHO, 'reset-stopout', 409, 'refused'],
      [ADMIN_WHO, 'move-start-time', 200, 'ok'],
      [ADMIN_WHO, 'reset-stopout', 200, 'ok'],
      [ADMIN_WHO, 'reset-stopout', 409, 'refused'],
      [readWho, 'set-stopout', 403, 'refused'],
    ]);
    expect(f.audits[0]!.request).toEqual({ scope: 'fleet', id: '*', reason: 'manual' });
    expect(f.audits[2]!.result.reason).toMatch(/move startTime on portfolio core to now first/);
    for (const a of f.audits) {
      expect(Number.isNaN(Date.parse(a.at))).toBe(false);
      // Fingerprints only: the tokens themselves never reach the audit.
      expect(JSON.stringify(a)).not.toContain(ADMIN_TOKEN);
      expect(JSON.stringify(a)).not.toContain(READ_TOKEN);
    }
  });

  it('once the scenario has ended, acting calls are refused and reads still answer', async () => {
    await f.finish();
    const r = await f.post('/api/v1/stopouts', { scope: 'fleet', id: '*' });
    expect(r.status).toBe(409);
    expect((await r.json()).reason).toMatch(/the scenario has ended/);
    const after = await fleet();
    expect(after.accounts.map((a) => a.id)).toEqual(['alpha', 'beta']);
  });
});

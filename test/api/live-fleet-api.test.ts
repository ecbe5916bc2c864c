import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { fleetResponseSchema, liveMessageSchema } from '../../src/api/api-schemas.ts';
import type { LiveMessage } from '../../src/api/api-types.ts';
import type { FleetConfig } from '../../src/config/fleet-schema.ts';
import { parseConfigDocument } from '../../src/config/load.ts';
import { startLiveFleet } from '../../src/app/live-fleet.ts';
import { eventually } from '../supervisor/eventually.ts';

/* `riskwarden run`'s API: the live supervisor (embedded simulator, wall clock) served over HTTP and WebSocket. */

describe('the live fleet with its API', () => {
  it('serves the running accounts on the configured port, with tokens from the variables api.tokensEnv names', async () => {
    const loaded = parseConfigDocument(
      {
        accounts: [{ id: 'alpha', collateral: '10000', budget: { minMarginBuffer: '0.10', panicMarginBuffer: '0.03' } }],
        api: { host: '127.0.0.1', port: 0, tokensEnv: { read: 'TEST_READ', admin: 'TEST_ADMIN' } },
      },
      { expect: 'fleet' },
    );
    if (!loaded.ok) throw new Error(loaded.problems.map((p) => `${p.path}: ${p.message}`).join('; '));
    const notes: string[] = [];
    const fleet = await startLiveFleet({
      config: loaded.value as FleetConfig,
      env: { TEST_READ: 'live-read-token-0001', TEST_ADMIN: 'live-admin-token-0001' },
      api: {},
      onRecord: () => {},
      onNote: (m) => notes.push(m),
    });
    try {
      expect(fleet.api).toBeDefined();
      const url = fleet.api!.url;
      expect(notes).toContain(`dashboard: ${url}/?token=<the token in TEST_ADMIN>`);
      expect(notes.join('\n')).not.toContain('live-admin-token-0001');

      const messages: LiveMessage[] = [];
      const socket = new WebSocket(`${url.replace('http', 'ws')}/api/v1/live?token=live-read-token-0001`);
      socket.on('message', (data) => messages.push(liveMessageSchema.parse(JSON.parse(String(data))) as LiveMessage));
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));

      const read = { authorization: 'Bearer live-read-token-0001' };
      const before = fleetResponseSchema.parse(await (await fetch(`${url}/api/v1/fleet`, { headers: read })).json());
      expect(before.accounts.map((a) => [a.id, a.state])).toEqual([['alpha', 'trading']]);

      const act = await fetch(`${url}/api/v1/stopouts`, {
        method: 'POST',
        headers: { authorization: 'Bearer live-admin-token-0001', 'content-type': 'application/json' },
        body: JSON.stringify({ scope: 'account', id: 'alpha' }),
      });
      expect(await act.json()).toEqual({ result: 'ok' });
      const after = fleetResponseSchema.parse(await (await fetch(`${url}/api/v1/fleet`, { headers: read })).json());
      expect(after.accounts[0]).toMatchObject({ state: 'stopped-out', stopouts: ['account:alpha:manual'] });
      await eventually('the state record on the socket', 2_000, () =>
        messages.some((m) => m.type === 'record' && m.record.kind === 'state' && m.record.to === 'stopped-out') ? true : undefined,
      );
      socket.close();
    } finally {
      await fleet.close();
    }
  });
});

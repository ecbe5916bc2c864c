import { describe, expect, it } from 'vitest';
import type { FleetConfig } from '../../src/config/fleet-schema.ts';
import { parseConfigDocument } from '../../src/config/load.ts';
import { startLiveFleet } from '../../src/app/live-fleet.ts';

function fleet(ids: string[]): FleetConfig {
  const loaded = parseConfigDocument(
    {
      venue: { kind: 'simulator' },
      accounts: ids.map((id) => ({
        id,
        collateral: '5000',
        budget: { maxPositionSize: { ETHP: '2' }, minMarginBuffer: '0.1', panicMarginBuffer: '0.03' },
      })),
      portfolios: [
        {
          id: 'core',
          members: ids.filter((id) => id !== 'gamma').map((account) => ({ account })),
          riskLimits: [{ type: 'day', applyTo: 'equity-difference', maxAbsoluteRisk: '900', closePositions: false }],
        },
      ],
    },
    { expect: 'fleet' },
  );
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.value as FleetConfig;
}

describe('config reload of a live fleet', () => {
  it('adds and removes accounts without restarting the others', async () => {
    const live = await startLiveFleet({ config: fleet(['alpha', 'beta']), env: {}, onRecord: () => {}, onNote: () => {} });
    try {
      for (let i = 0; i < 50 && live.runtime.accountIds().length < 2; i += 1) await new Promise((r) => setTimeout(r, 50));
      expect(live.runtime.accountIds().sort()).toEqual(['alpha', 'beta']);
      const beta = live.runtime.account('beta');
      live.runtime.requestEntry('beta', { symbol: 'ETHP', side: 'buy', amount: '1', type: 'market' });

      const result = await live.reload(fleet(['beta', 'gamma']));
      expect(result).toEqual({ added: ['gamma'], removed: ['alpha'] });
      expect(live.runtime.accountIds().sort()).toEqual(['beta', 'gamma']);
      // beta kept its actor (and with it its orders and state): nothing restarted.
      expect(live.runtime.account('beta')).toBe(beta);
      expect(live.runtime.accountContext('beta')?.orderSeq).toBe(1);
      // The portfolio group follows the new config.
      expect(live.runtime.plan.groups.find((g) => g.id === 'core')?.accounts).toEqual(['beta']);
      expect(live.runtime.supervisor.getSnapshot().context.groups['portfolio:core']?.accounts).toEqual(['beta']);
    } finally {
      await live.close();
    }
  });
});

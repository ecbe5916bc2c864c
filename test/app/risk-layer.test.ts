import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createRiskLayer, RiskLayerConfigError } from '../../src/index.ts';

const fleet = {
  venue: { kind: 'simulator' },
  accounts: [
    { id: 'bot', collateral: '5000', budget: { maxPositionSize: { ETHP: '2' }, minMarginBuffer: '0.10', panicMarginBuffer: '0.03' } },
  ],
};

describe('the library API', () => {
  it('decides an entry at once, sends what it allows and says which rules block the rest', async () => {
    const layer = await createRiskLayer({ config: fleet, env: {} });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300)); // the first marks arrive
      const orders: string[] = [];
      layer.on('order', (o) => void orders.push(`${o.purpose}:${o.side}:${o.amount}`));
      const blocked = layer.submit('bot', { symbol: 'ETHP', side: 'buy', amount: '3', type: 'market' });
      expect(blocked.allowed).toBe(false);
      expect(blocked.rules).toContain('max-position-size');
      const allowed = layer.submit('bot', { symbol: 'ETHP', side: 'buy', amount: '1', type: 'market' });
      expect(allowed.allowed).toBe(true);
      expect(orders).toEqual(['entry:buy:1']);
      expect(layer.account('bot')?.state).toBe('trading');
      expect(() => layer.submit('nobody', { symbol: 'ETHP', side: 'buy', amount: '1', type: 'market' })).toThrow(/not supervised/);
    } finally {
      await layer.close();
    }
  });

  it('refuses an invalid config with every problem by path', async () => {
    const error = await createRiskLayer({ config: { accounts: [{ id: 'x', budget: { minMarginBuffer: 'ten' } }] } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RiskLayerConfigError);
    expect((error as RiskLayerConfigError).problems).toContain('accounts[0].budget.minMarginBuffer: expected a decimal string');
  });

  it('runs the moving-average crossover example end to end', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'examples/ma-crossover-bot.ts'], {
      encoding: 'utf8',
      timeout: 40_000,
      env: { ...process.env, BOT_SECONDS: '8' },
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^ma-crossover bot on ETHP/m);
    expect(result.stdout).toMatch(/^done: bot is [a-z-]+, position/m);
  }, 60_000);
});

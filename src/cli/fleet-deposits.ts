import type { FleetConfig } from '../config/fleet-schema.ts';
import { formatProblems, loadConfigFile } from '../config/load.ts';
import type { DecimalString } from '../domain/decimal.ts';
import { loadTraderWallet } from '../derivadex/crypto/keys.ts';

/**
 * The deposits a standalone simulator credits for a fleet: each account's `collateral` to the fleet's
 * trader (the key named by `venue.traderKeyEnv`) and the account's venue strategy. DerivaDEX deposits
 * happen on chain; the simulator just credits them.
 */
export async function fleetDeposits(
  configPath: string,
  env: Record<string, string | undefined>,
): Promise<
  { ok: true; deposits: Array<{ trader: string; strategyId: string; amount: DecimalString }> } | { ok: false; problems: string[] }
> {
  const loaded = await loadConfigFile(configPath, { expect: 'fleet' });
  if (!loaded.ok) return { ok: false, problems: formatProblems(loaded.problems) };
  const config = loaded.value as FleetConfig;
  try {
    const wallet = await loadTraderWallet({
      env,
      keyEnvName: config.venue.traderKeyEnv,
      ...(config.venue.keystore ? { keystorePath: config.venue.keystore } : {}),
      ...(config.venue.keystorePasswordEnv ? { passwordEnvName: config.venue.keystorePasswordEnv } : {}),
    });
    return {
      ok: true,
      deposits: config.accounts
        .filter((a) => a.collateral !== undefined)
        .map((a) => ({ trader: wallet.address, strategyId: a.strategy, amount: a.collateral! })),
    };
  } catch (error) {
    return { ok: false, problems: [`trader key: ${(error as Error).message}`] };
  }
}

import type { TraderSigner } from '../derivadex/crypto/eip712.ts';
import { loadTraderWallet, type LoadTraderWalletOptions } from '../derivadex/crypto/keys.ts';

/*
 * One supervised strategy as the venue client knows it: the supervisor's id for it, the DerivaDEX
 * strategy id inside the trader's account, and the trader's signing key. The key stays inside the
 * signer: nothing here prints, logs or copies it into an error.
 */

export interface StrategyAccount {
  /** The supervisor's id (e.g. the account id "alpha"); every client event about the strategy carries it. */
  strategyId: string;
  /** The DerivaDEX strategy id in the trader's account (default "main"). */
  venueStrategyId?: string;
  signer: TraderSigner;
}

export const DEFAULT_VENUE_STRATEGY_ID = 'main';

export interface LoadStrategyAccountOptions extends LoadTraderWalletOptions {
  strategyId: string;
  venueStrategyId?: string;
}

/** A strategy account whose key comes from an environment variable or an encrypted keystore. */
export async function loadStrategyAccount(options: LoadStrategyAccountOptions): Promise<StrategyAccount> {
  const signer = await loadTraderWallet(options);
  const account: StrategyAccount = { strategyId: options.strategyId, signer };
  if (options.venueStrategyId !== undefined) account.venueStrategyId = options.venueStrategyId;
  return account;
}

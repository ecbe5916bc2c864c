import { keccak256, toUtf8Bytes } from 'ethers';
import type { Eip712Venue } from '../derivadex/crypto/eip712.ts';
import type { DeploymentInfo } from '../derivadex/rest-bodies.ts';

/*
 * The simulator's made-up deployment: `GET /contract-server/addresses` (bare `DeploymentInfo`, SDK
 * `models/system.py`; docs/derivadex-sources.md §1.1) and the other identities the simulator needs to
 * fill well-formed rows (the collateral token, its synthetic market maker). Every value is derived from
 * a label by keccak256, so it is the same on every run; only `chainId` and `derivaDEXAddress` come from
 * the simulator's EIP-712 venue, which is what the SDK reads them for.
 */

/** Every key of the SDK's newest `DeploymentAddresses` model, in its order. */
export const DEPLOYMENT_ADDRESS_KEYS = [
  'ddxAddress',
  'ddxWalletCloneableAddress',
  'derivaDEXAddress',
  'diFundTokenFactoryAddress',
  'governanceAddress',
  'governanceDip12Address',
  'gasConsumerAddress',
  'insuranceFundAddress',
  'pauseAddress',
  'traderAddress',
  'usdtAddress',
  'ausdtAddress',
  'cusdtAddress',
  'usdcAddress',
  'cusdcAddress',
  'ausdcAddress',
  'husdAddress',
  'gusdAddress',
  'gnosisSafeAddress',
  'gnosisSafeProxyFactoryAddress',
  'gnosisSafeProxyAddress',
  'createCallAddress',
  'bannerAddress',
  'fundedInsuranceFundAddress',
  'fundedInsuranceFundDip12Address',
  'checkpointAddress',
  'registrationAddress',
  'initializeAppAddress',
  'specsAddress',
  'collateralAddress',
  'collateralDip12Address',
  'custodianAddress',
  'rejectAddress',
  'stakeAddress',
  'stakeDip12Address',
  'pilotResetAddress',
] as const;

export type DeploymentAddressKey = (typeof DEPLOYMENT_ADDRESS_KEYS)[number];

/** `bytes` bytes of lower-case hex derived from `label` (deterministic, made up). */
export function madeUpHex(label: string, bytes: number): string {
  let out = '';
  for (let i = 0; out.length < 2 * bytes; i++) out += keccak256(toUtf8Bytes(`riskwarden-sim:${label}:${i}`)).slice(2);
  return `0x${out.slice(0, 2 * bytes)}`;
}

/** The made-up 20-byte address of a deployment contract. */
export function deploymentAddress(key: DeploymentAddressKey): string {
  return madeUpHex(`deployment:${key}`, 20);
}

/** The collateral token of every STRATEGY_UPDATE row (`collateralAddress`, symbol "USDC"). */
export const COLLATERAL_ADDRESS = deploymentAddress('usdcAddress');
export const COLLATERAL_SYMBOL = 'USDC';

/** The simulator's own market maker as rows name it: a 21-byte trader address (`0x00` discriminant). */
export const SYNTHETIC_TRADER_ADDRESS = `0x00${madeUpHex('synthetic-maker', 20).slice(2)}`;
/** Its strategy: `main` (strategyIdHash of "main"). */
export const SYNTHETIC_STRATEGY_ID_HASH = '0x2576ebd1';

/** Where the SDK finds the EIP-712 domain: `chainId` and `addresses.derivaDEXAddress`. */
export function deploymentInfo(venue: Eip712Venue): DeploymentInfo & { addresses: Record<DeploymentAddressKey, string> } {
  const addresses = {} as Record<DeploymentAddressKey, string>;
  for (const key of DEPLOYMENT_ADDRESS_KEYS)
    addresses[key] = key === 'derivaDEXAddress' ? venue.verifyingContract.toLowerCase() : deploymentAddress(key);
  return { addresses, chainId: Number(venue.chainId), ethRpcUrl: 'https://rpc.simulator.invalid' };
}

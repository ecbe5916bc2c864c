import { getAddress, isAddress } from 'ethers';

/*
 * DerivaDEX names a trader by its Ethereum address with a one-byte chain discriminant in front (`0x00`
 * for Ethereum): "The trader address, with the discriminant prefix" (docs: get-order-update-history;
 * testnet REST reference: "prefixed with the blockchain discriminant"). Rows, realtime filters and the
 * `/exchange/api/v1` filters use this 21-byte form, lower-case; signing and `/stats/api/v1` filters use
 * the 20-byte address.
 */

const DISCRIMINANT_ETHEREUM = '00';

/** `0xAbC…` (20 bytes) → `0x00abc…` (21 bytes, lower-case). Throws on anything that is not an address. */
export function traderAddress21(address: string): string {
  if (!isAddress(address)) throw new Error(`not an Ethereum address: ${JSON.stringify(address)}`);
  return `0x${DISCRIMINANT_ETHEREUM}${address.slice(2).toLowerCase()}`;
}

/** `0x00abc…` (21 bytes) → the checksummed 20-byte address, or undefined when it is not that form. */
export function traderAddress20(trader21: string): string | undefined {
  if (!/^0x00[0-9a-fA-F]{40}$/.test(trader21)) return undefined;
  return getAddress(`0x${trader21.slice(4)}`);
}

/** Either form → the 21-byte lower-case form (a key both sides of a comparison agree on). */
export function traderKey(address: string): string {
  return /^0x00[0-9a-fA-F]{40}$/.test(address) ? address.toLowerCase() : traderAddress21(address);
}

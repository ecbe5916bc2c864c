import { describe, expect, it } from 'vitest';
import { traderAddress20, traderAddress21, traderKey } from '../../src/derivadex/trader-address.ts';

describe('trader addresses: the 20-byte Ethereum address and the 21-byte form rows carry', () => {
  const address = '0xA1b2C3d4E5F60718293a4b5C6d7e8F9012345678';

  it('prefixes the 0x00 discriminant, lower-case', () => {
    expect(traderAddress21(address.toLowerCase())).toBe('0x00a1b2c3d4e5f60718293a4b5c6d7e8f9012345678');
  });

  it('takes the 21-byte form back to the checksummed address', () => {
    const back = traderAddress20('0x00a1b2c3d4e5f60718293a4b5c6d7e8f9012345678');
    expect(back?.toLowerCase()).toBe(address.toLowerCase());
    expect(traderAddress20('0x01a1b2c3d4e5f60718293a4b5c6d7e8f9012345678')).toBeUndefined();
    expect(traderAddress20(address)).toBeUndefined();
  });

  it('keys either form the same way', () => {
    expect(traderKey(address.toLowerCase())).toBe(traderKey('0x00A1B2C3D4E5F60718293A4B5C6D7E8F9012345678'));
  });

  it('refuses what is not an address', () => {
    expect(() => traderAddress21('0x1234')).toThrow(/not an Ethereum address/);
  });
});

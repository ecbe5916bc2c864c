import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { accountIdOfKey, accountKey, keyPattern, persistenceKey } from '../../src/persistence/persistence-keys.ts';

// ioredis's own slot function (CRC16 of the hash tag, mod 16384); it has no type declarations.
const calculateSlot = createRequire(import.meta.url)('cluster-key-slot') as (key: string) => number;
const portfolioOf = (accountId: string): string => accountId.split('/')[0] ?? accountId;

describe('persistence keys', () => {
  it('name every record <prefix>:<kind>:{<group>}:<accountId>', () => {
    expect(accountKey('riskwarden', 'snapshot', portfolioOf, 'core/a1')).toBe('riskwarden:snapshot:{core}:core/a1');
    expect(accountKey('riskwarden', 'lease', portfolioOf, 'core/a1')).toBe('riskwarden:lease:{core}:core/a1');
    expect(accountKey('riskwarden', 'lease-epoch', portfolioOf, 'core/a1')).toBe('riskwarden:lease-epoch:{core}:core/a1');
  });

  it('put all keys of one group in one Cluster slot', () => {
    const keys = ['core/a1', 'core/a2', 'core/b:with:colons'].flatMap((id) =>
      (['snapshot', 'lease', 'lease-epoch'] as const).map((kind) => accountKey('riskwarden', kind, portfolioOf, id)),
    );
    const slots = new Set(keys.map(calculateSlot));
    expect(slots).toEqual(new Set([calculateSlot('core')]));
    expect(calculateSlot('riskwarden:lease:{core}:core/a1')).toBe(calculateSlot('{core}'));
  });

  it('read the account id back from a key', () => {
    expect(accountIdOfKey('rw', 'snapshot', 'rw:snapshot:{core}:core/a:1')).toBe('core/a:1');
    expect(accountIdOfKey('rw', 'snapshot', 'rw:lease:{core}:a1')).toBeNull();
    expect(accountIdOfKey('rw', 'snapshot', 'rw:snapshot:{}:a1')).toBeNull();
    expect(accountIdOfKey('rw', 'snapshot', 'rw:snapshot:{core}x')).toBeNull();
  });

  it('escape glob characters of the prefix in SCAN patterns', () => {
    expect(keyPattern('rw', 'snapshot')).toBe('rw:snapshot:{*');
    expect(keyPattern('a*b?[c]', 'snapshot')).toBe('a\\*b\\?\\[c\\]:snapshot:{*');
  });

  it('refuse parts that would break the hash tag, naming them', () => {
    expect(() => persistenceKey('rw', 'lease', 'a{b', 'x')).toThrow('group of account "x": "a{b" must not contain "{" or "}"');
    expect(() => persistenceKey('rw', 'lease', '', 'x')).toThrow('group of account "x": expected a non-empty string');
    expect(() => persistenceKey('r{w}', 'lease', 'g', 'x')).toThrow('prefix: "r{w}" must not contain');
    expect(() => persistenceKey('rw', 'lease', 'g', '')).toThrow('accountId: expected a non-empty string');
  });
});

import { describe, expect, it } from 'vitest';
import { RedisKeyLayout } from '../../src/store/redis-key-layout.ts';

describe('RedisKeyLayout', () => {
  const layout = new RedisKeyLayout();

  it('names the docs/contracts.md#redis keys and channel exactly', () => {
    expect(layout.stopout('portfolio', 'core')).toBe('riskwarden:stopout:portfolio:core');
    expect(layout.stopout('member', 'core/alpha')).toBe('riskwarden:stopout:member:core/alpha');
    expect(layout.stopout('fleet', '*')).toBe('riskwarden:stopout:fleet:*');
    expect(layout.events).toBe('riskwarden:events');
  });

  it('keeps its own keys out of the stopout family', () => {
    expect(layout.sequence).toBe('riskwarden:seq:stopout');
    expect(layout.breach('portfolio', 'core')).toBe('riskwarden:breach:portfolio:core');
    expect(layout.startTime('member', 'core/alpha')).toBe('riskwarden:start-time:member:core/alpha');
    expect(layout.parseStopoutKey(layout.sequence)).toBeNull();
    expect(layout.parseStopoutKey(layout.breach('portfolio', 'core'))).toBeNull();
  });

  it('parses keys back, the id being everything after the scope', () => {
    expect(layout.parseStopoutKey('riskwarden:stopout:member:core/alpha')).toEqual({ scope: 'member', id: 'core/alpha' });
    expect(layout.parseStopoutKey('riskwarden:stopout:fleet:*')).toEqual({ scope: 'fleet', id: '*' });
    expect(layout.parseStopoutKey('riskwarden:stopout:galaxy:a:b')).toEqual({ scope: 'galaxy', id: 'a:b' });
    expect(layout.parseStopoutKey('riskwarden:stopout:portfolio')).toBeNull();
    expect(layout.parseStopoutKey('other:stopout:portfolio:core')).toBeNull();
    expect(layout.parseStartTimeKey('riskwarden:start-time:portfolio:core')).toEqual({ scope: 'portfolio', id: 'core' });
  });

  it('takes a prefix, escaped in SCAN patterns, and refuses one with ":"', () => {
    expect(new RedisKeyLayout('rw-test.1').stopout('account', 'alpha')).toBe('rw-test.1:stopout:account:alpha');
    expect(new RedisKeyLayout('a[b]').stopoutPattern()).toBe('a\\[b\\]:stopout:*');
    expect(() => new RedisKeyLayout('a:b')).toThrow(/prefix/);
  });
});

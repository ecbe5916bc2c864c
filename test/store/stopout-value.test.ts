import { describe, expect, it } from 'vitest';
import { decodeStopoutValue, encodeStopoutValue } from '../../src/store/stopout-value.ts';

const core = { scope: 'portfolio' as const, id: 'core', reason: 'manual' };

describe('stopout values (docs/contracts.md#redis hash field values)', () => {
  it('reads {} as a stopout without closePositions and without a sequence (0)', () => {
    expect(decodeStopoutValue(core, '{}')).toEqual({ ...core, closePositions: false, sequence: 0 });
  });

  it('round-trips what this store writes, in a fixed key order', () => {
    const stored = {
      ...core,
      closePositions: true,
      stoppedAt: '2026-01-05T13:00:00.000Z',
      stoppedTill: '2026-01-06T00:00:00.000Z',
      by: 'ops',
      sequence: 7,
    };
    const text = encodeStopoutValue(stored);
    expect(text).toBe(
      '{"closePositions":true,"stoppedAt":"2026-01-05T13:00:00.000Z","stoppedTill":"2026-01-06T00:00:00.000Z","by":"ops","sequence":7}',
    );
    expect(decodeStopoutValue(core, text)).toEqual(stored);
  });

  it('ignores keys it does not know (other writers may add their own)', () => {
    expect(decodeStopoutValue(core, '{"closePositions":true,"note":"x"}')).toEqual({ ...core, closePositions: true, sequence: 0 });
  });

  it.each([
    ['not json', 'not valid JSON: "not json"'],
    ['', 'not valid JSON: ""'],
    ['[1,2]', 'expected a JSON object, got a list'],
    ['null', 'expected a JSON object, got null'],
    ['"manual"', 'expected a JSON object, got "manual"'],
    ['{"closePositions":"yes"}', 'closePositions: expected true or false, got "yes"'],
    [
      '{"stoppedAt":"monday","sequence":-1,"by":5}',
      'stoppedAt: expected an ISO 8601 time, got "monday"; by: expected a string, got 5; sequence: expected a non-negative integer, got -1',
    ],
  ])('fails closed on %j: still a stopout, without closePositions, marked malformed', (raw, malformed) => {
    expect(decodeStopoutValue(core, raw)).toEqual({ ...core, closePositions: false, sequence: 0, malformed });
  });

  it('keeps the well-formed fields of a partly malformed value', () => {
    expect(decodeStopoutValue(core, '{"closePositions":true,"stoppedTill":"soon","sequence":3}')).toEqual({
      ...core,
      closePositions: true,
      sequence: 3,
      malformed: 'stoppedTill: expected an ISO 8601 time, got "soon"',
    });
  });
});

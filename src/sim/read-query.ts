import { traderKey } from '../derivadex/trader-address.ts';

/*
 * The query string of a REST read, validated parameter by parameter: a bad value is a 400 naming the
 * parameter (`limit: expected a whole number >= 1, got "x"`). Parameter names are the docs' and the SDK
 * market/trade clients' (docs/derivadex-sources.md §3); repeatable ones (`orderHash`, `reason`) may be given
 * several times. Parameters the simulator does not know are ignored, as a gateway would.
 */

export class QueryError extends Error {
  override readonly name = 'QueryError';
  constructor(
    readonly parameter: string,
    problem: string,
  ) {
    super(`${parameter}: ${problem}`);
  }
}

export class ReadQuery {
  readonly #params: URLSearchParams;

  constructor(url: URL) {
    this.#params = url.searchParams;
  }

  /** The single value of `name` ("" counts as absent); throws when required and absent. */
  text(name: string, required = false): string | undefined {
    const values = this.#params.getAll(name).filter((v) => v !== '');
    if (values.length > 1) throw new QueryError(name, `expected one value, got ${values.length}`);
    if (values.length === 0) {
      if (required) throw new QueryError(name, 'required');
      return undefined;
    }
    return values[0];
  }

  /** Every value of a repeatable parameter (absent: undefined). */
  all(name: string): string[] | undefined {
    const values = this.#params.getAll(name).filter((v) => v !== '');
    return values.length === 0 ? undefined : values;
  }

  whole(name: string, min = 0): number | undefined {
    const raw = this.text(name);
    if (raw === undefined) return undefined;
    return wholeOf(name, raw, min);
  }

  /** Every value of a repeatable whole-number parameter, each one of `allowed`. */
  codes(name: string, allowed: readonly number[]): number[] | undefined {
    return this.all(name)?.map((raw) => {
      const code = wholeOf(name, raw, 0);
      if (!allowed.includes(code)) throw new QueryError(name, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
      return code;
    });
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const raw = this.text(name);
    if (raw === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(raw))
      throw new QueryError(name, `expected ${allowed.join(' or ')}, got ${JSON.stringify(raw)}`);
    return raw as T;
  }

  /** A trader in either form (the 20-byte address or the 21-byte `0x00…`, §10.1) → 21-byte lower-case. */
  trader(name: string, required = false): string | undefined {
    const raw = this.text(name, required);
    if (raw === undefined) return undefined;
    try {
      return traderKey(raw);
    } catch {
      throw new QueryError(
        name,
        `expected an address (0x + 40 hex digits, or the 21-byte 0x00 + 40 hex digits), got ${JSON.stringify(raw)}`,
      );
    }
  }

  strategyIdHash(name: string): string | undefined {
    const raw = this.text(name);
    if (raw === undefined) return undefined;
    if (!/^0x[0-9a-fA-F]{8}$/.test(raw)) throw new QueryError(name, `expected 4 bytes (0x and 8 hex digits), got ${JSON.stringify(raw)}`);
    return raw.toLowerCase();
  }

  orderHashes(name: string): string[] | undefined {
    return this.all(name)?.map((raw) => {
      if (!/^0x[0-9a-fA-F]{50}$/.test(raw))
        throw new QueryError(name, `expected 25 bytes (0x and 50 hex digits), got ${JSON.stringify(raw)}`);
      return raw.toLowerCase();
    });
  }

  symbol(name: string, known: readonly string[]): string | undefined {
    const raw = this.text(name);
    if (raw !== undefined && !known.includes(raw))
      throw new QueryError(name, `unknown symbol ${JSON.stringify(raw)} (known: ${known.join(', ')})`);
    return raw;
  }
}

function wholeOf(name: string, raw: string, min: number): number {
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)) || Number(raw) < min) {
    throw new QueryError(name, `expected a whole number >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

import { Wallet, keccak256, toUtf8Bytes } from 'ethers';
import { wallClock } from '../../src/clock/clock.ts';
import { dec, str } from '../../src/domain/decimal.ts';
import { POSITION_SIDE } from '../../src/derivadex/codes.ts';
import { strategyIdHash } from '../../src/derivadex/crypto/bytes32.ts';
import { traderAddress21 } from '../../src/derivadex/trader-address.ts';
import type { OrderIntent } from '../../src/domain/order.ts';
import { startSimulator, type Simulator } from '../../src/sim/server.ts';
import type { LiquidityConfig } from '../../src/sim/synthetic-liquidity.ts';
import { VenueClient } from '../../src/venue/venue-client.ts';
import { eventually } from './eventually.ts';

/** The trader every supervisor under test signs for (its key goes to the children as RISKWARDEN_TRADER_KEY). */
export const TRADER_KEY = keccak256(toUtf8Bytes('riskwarden-supervisor-test-trader'));
const MAKER_KEY = keccak256(toUtf8Bytes('riskwarden-supervisor-test-maker'));

export interface LiveVenueOptions {
  /** Starting marks (default ETHP 2000, BTCP 40000). */
  marks?: Record<string, string>;
  /** The simulator's own market maker; `levels: 0` leaves the book to the test's maker. */
  liquidity?: LiquidityConfig;
}

/**
 * The exchange simulator hosted in the test process on the wall clock (immediate mode), its marks
 * re-published every 250 ms (feeds stay fresh; `setMark` changes the price the ticker repeats), and the
 * trader wallet of the fleet. `externalStrategy` trades "as the strategy" with its own VenueClient and
 * the same trader key; `maker` rests orders from another trader to give those trades a counterparty.
 */
export class LiveVenue {
  readonly sim: Simulator;
  readonly trader = new Wallet(TRADER_KEY);
  readonly makerWallet = new Wallet(MAKER_KEY);
  readonly #marks: Record<string, string>;
  readonly #timer: NodeJS.Timeout;
  readonly #clients: VenueClient[] = [];
  #maker: VenueClient | undefined;
  #makerSeq = 0;

  private constructor(sim: Simulator, marks: Record<string, string>) {
    this.sim = sim;
    this.#marks = { ...marks };
    this.#publishMarks();
    this.#timer = setInterval(() => this.#publishMarks(), 250);
  }

  static async start(options: LiveVenueOptions = {}): Promise<LiveVenue> {
    const sim = await startSimulator({
      clock: wallClock,
      seed: 1,
      // Three supervisors and the test share one trader: the venue's per-trader bucket is not under test.
      rateLimit: null,
      ...(options.liquidity ? { liquidity: options.liquidity } : {}),
    });
    return new LiveVenue(sim, options.marks ?? { ETHP: '2000', BTCP: '40000' });
  }

  /** Changes a mark now; the ticker keeps repeating it. */
  setMark(symbol: string, price: string): void {
    this.#marks[symbol] = price;
    this.sim.setMark(symbol, price);
  }

  deposit(strategy: string, amount: string): void {
    this.sim.exchange.deposit(this.trader.address, strategy, amount);
  }

  /** The fleet's trader on the venue: signed position of a strategy in a symbol ("0" when flat). */
  position(strategy: string, symbol: string): string {
    const p = this.sim.exchange.positions(this.trader.address, strategy, symbol)[0];
    if (!p) return '0';
    return str(p.side === POSITION_SIDE.Short ? dec(p.balance).neg() : dec(p.balance));
  }

  /**
   * The venue's own record of the orders of a strategy: one entry per order hash, with its side and
   * whether it is still on the book. Whoever placed them (any supervisor process, or the test).
   */
  orders(strategy: string): Array<{ orderHash: string; side: 'buy' | 'sell'; amount: string; price: string; open: boolean }> {
    const hash = strategyIdHash(strategy);
    const book = this.sim.exchange.orderBook({ trader: this.trader.address, strategyIdHash: hash });
    const open = new Set(book.map((o) => o.orderHash.toLowerCase()));
    const seen = new Map<string, { orderHash: string; side: 'buy' | 'sell'; amount: string; price: string; open: boolean }>();
    // The order a row is about is its makerOrderIntent, or the takerOrderIntent of a trade it took (§10.7).
    const trader = traderAddress21(this.trader.address);
    for (const row of this.sim.exchange.orderUpdates({ trader: this.trader.address, strategyIdHash: hash, limit: 100_000 }).value) {
      const intent =
        row.takerOrderIntent?.traderAddress === trader && row.takerOrderIntent.strategyIdHash === hash
          ? row.takerOrderIntent
          : row.makerOrderIntent;
      const orderHash = intent.orderHash.toLowerCase();
      if (!seen.has(orderHash))
        seen.set(orderHash, {
          orderHash,
          side: intent.side === 0 ? 'buy' : 'sell',
          amount: intent.amount,
          price: intent.price,
          open: open.has(orderHash),
        });
    }
    return [...seen.values()];
  }

  /** A client acting as the strategies themselves (same trader key as the supervisors). */
  async externalStrategy(strategies: readonly string[]): Promise<ExternalStrategy> {
    const client = await this.#client(strategies.map((s) => ({ strategyId: s, venueStrategyId: s, signer: this.trader })));
    return new ExternalStrategy(client, (s, a) => this.position(s, a));
  }

  /**
   * A limit order from another trader (the maker): a resting ask gives the strategies' buys a counterparty
   * when the simulator's own liquidity is off, a bid takes the other side of a resting reduction.
   * Resolves once the venue has executed it (rested or traded).
   */
  async makerLimit(symbol: string, side: OrderIntent['side'], amount: string, price: string): Promise<void> {
    if (this.#maker === undefined) {
      this.sim.exchange.deposit(this.makerWallet.address, 'maker', '1000000');
      this.#maker = await this.#client([{ strategyId: 'maker', venueStrategyId: 'maker', signer: this.makerWallet }]);
    }
    const before = this.#makerOrders();
    await this.#maker.placeOrder('maker', `maker-${++this.#makerSeq}`, { symbol, side, amount, type: 'limit', price });
    await eventually(`the maker's ${side} ${amount} ${symbol} @ ${price} to execute`, 5_000, () =>
      this.#makerOrders() > before ? true : undefined,
    );
  }

  #makerOrders(): number {
    const rows = this.sim.exchange.orderUpdates({
      trader: this.makerWallet.address,
      strategyIdHash: strategyIdHash('maker'),
      limit: 100_000,
    }).value;
    return new Set(rows.map((r) => r.makerOrderIntent.orderHash)).size;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.allSettled(this.#clients.map((c) => c.close()));
    await this.sim.close();
  }

  async #client(accounts: Array<{ strategyId: string; venueStrategyId: string; signer: Wallet }>): Promise<VenueClient> {
    const client = new VenueClient({ restUrl: this.sim.url, wsUrl: this.sim.wsUrl, clock: wallClock, orderBook: false });
    client.on('fault', () => {}); // the test reads outcomes from the venue itself
    this.#clients.push(client);
    await client.connect();
    await client.bootstrap(accounts);
    return client;
  }

  #publishMarks(): void {
    for (const [symbol, price] of Object.entries(this.#marks)) this.sim.setMark(symbol, price);
  }
}

export class ExternalStrategy {
  readonly #client: VenueClient;
  readonly #position: (strategy: string, symbol: string) => string;
  #seq = 0;

  constructor(client: VenueClient, position: (strategy: string, symbol: string) => string) {
    this.#client = client;
    this.#position = position;
  }

  /** A market order for `strategy`, sent past every supervisor (as the strategy would); resolves once filled at the venue. */
  async trade(strategy: string, side: OrderIntent['side'], amount: string, symbol = 'ETHP'): Promise<void> {
    const before = dec(this.#position(strategy, symbol));
    const expected = str(side === 'buy' ? before.plus(amount) : before.minus(amount));
    await this.#client.placeOrder(strategy, `external-${strategy}-${++this.#seq}`, { symbol, side, amount, type: 'market' });
    await eventually(
      `${strategy}: the external ${side} of ${amount} ${symbol} to fill (position ${expected})`,
      5_000,
      () => (dec(this.#position(strategy, symbol)).eq(expected) ? true : undefined),
      { lastSeen: () => this.#position(strategy, symbol) },
    );
  }
}

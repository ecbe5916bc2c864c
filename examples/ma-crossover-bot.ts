/**
 * A moving-average crossover bot that asks riskwarden before every entry.
 *
 *   npx tsx examples/ma-crossover-bot.ts          # runs for 60 s against the embedded simulator
 *   BOT_SECONDS=20 npx tsx examples/ma-crossover-bot.ts
 *
 * The bot keeps its own logic — here, go long when the fast average crosses above the slow one and short
 * when it crosses below — and hands every order to the risk layer. The layer decides (budget, CopyFactory
 * limits, stopouts), sends what it allows, and de-risks on its own when the account needs it.
 */
import { createRiskLayer } from '../src/index.ts';

const ACCOUNT = 'bot';
const SYMBOL = 'ETHP';
const FAST = 3;
const SLOW = 8;
const SIZE = 1;
const seconds = Number(process.env.BOT_SECONDS ?? 60);

const layer = await createRiskLayer({ config: new URL('./bot-fleet.yaml', import.meta.url).pathname });
layer.on('state', (s) => console.log(`state    ${s.from} → ${s.to} (${s.reason})`));
layer.on('de-risk', (o) => console.log(`de-risk  ${o.purpose} ${o.side} ${o.amount} ${o.symbol} @ ${o.price}`));
layer.on('stopout', (s) => console.log(`stopout  ${s.action} ${s.scope} ${s.id}: ${s.reason}`));

const prices: number[] = [];
let trend = 0;
const average = (n: number): number => prices.slice(-n).reduce((a, b) => a + b, 0) / n;

layer.on('mark', (mark) => {
  if (mark.symbol !== SYMBOL) return;
  prices.push(Number(mark.price)); // floats are fine for the signal; the risk layer decides exactly
  if (prices.length < SLOW) return;
  const next = Math.sign(average(FAST) - average(SLOW));
  if (next === 0 || next === trend) return;
  trend = next;
  const held = Number(layer.account(ACCOUNT)?.position[SYMBOL] ?? 0);
  const target = trend * SIZE;
  const delta = target - held;
  if (delta === 0) return;
  const decision = layer.submit(ACCOUNT, {
    symbol: SYMBOL,
    side: delta > 0 ? 'buy' : 'sell',
    amount: String(Math.abs(delta)),
    type: 'market',
  });
  console.log(
    `decision ${decision.allowed ? 'allowed' : `blocked [${decision.rules.join(', ')}]`}: ${decision.order.side} ${decision.order.amount} ${SYMBOL}`,
  );
});

console.log(`ma-crossover bot on ${SYMBOL} for ${seconds}s (fast ${FAST}, slow ${SLOW}, size ${SIZE})`);
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
const final = layer.account(ACCOUNT);
console.log(
  `done: ${ACCOUNT} is ${final?.state}, position ${JSON.stringify(final?.position)}, margin buffer ${final?.marginBuffer ?? '—'}`,
);
await layer.close();

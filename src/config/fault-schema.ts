import { z } from 'zod';
import { INPUT_LIMITS } from './input-limits.ts';
import { duration, identifier, integerBetween } from './primitives.ts';

export const FEEDS = ['MARK_PRICE', 'ORDER_UPDATE', 'STRATEGY_UPDATE', 'ORDER_BOOK_L2'] as const;
export const ORDER_REJECTIONS = ['SelfMatch', 'SolvencyGuard', 'MaxTakerPriceDeviation', 'NoLiquidity'] as const;

const at = duration.meta({ description: 'When the fault starts (offset from the scenario start).' });
const feed = z.enum(FEEDS);
const count = integerBetween(1, INPUT_LIMITS.count).default(1).meta({ description: 'How many (default 1).' });

/** A fault the simulator injects. */
export const faultSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({ at, kind: z.literal('reject-next-order'), account: identifier, reason: z.enum(ORDER_REJECTIONS) }),
    z.strictObject({ at, kind: z.literal('drop-feed'), feed, duration }),
    z.strictObject({ at, kind: z.literal('pause-feed'), feed, duration }),
    z.strictObject({ at, kind: z.literal('delay-acks'), duration, count }),
    z.strictObject({ at, kind: z.literal('drop-acks'), count }),
    z.strictObject({ at, kind: z.literal('duplicate-messages'), feed: feed.optional(), count }),
    z.strictObject({ at, kind: z.literal('reorder-messages'), feed: feed.optional(), count }),
    z.strictObject({ at, kind: z.literal('disconnect') }),
  ])
  .meta({ description: 'A fault injected by the simulator.' });

export type FaultConfig = z.output<typeof faultSchema>;

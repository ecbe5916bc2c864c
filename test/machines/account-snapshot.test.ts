import { describe, expect, it } from 'vitest';
import { restoreActor, startRecordingActor, T0, type SentOrder } from './account-fixture.ts';

describe('account snapshot persistence', () => {
  it('resumes from JSON in the same state with the same in-flight reduction, without re-sending it', () => {
    const { actor, log } = startRecordingActor();
    // Long 6 @ 2000 on 2500 collateral, then a drop to 1850: buffer 0.094 < 0.10 → de-risking, one reduction.
    actor.send({ type: 'ENTRY_REQUEST', order: { symbol: 'ETHP', side: 'buy', amount: '6', type: 'limit', price: '2000' } });
    const entry = log.sent[0]!;
    actor.send({
      type: 'LEDGER',
      at: T0 + 1000,
      event: { kind: 'fill', id: 'f1', seq: 1, symbol: 'ETHP', side: 'buy', amount: '6', price: '2000' },
    });
    actor.send({ type: 'ORDER_UPDATE', clientOrderId: entry.clientOrderId, status: 'filled', filled: '6', at: T0 + 1000 });
    actor.send({ type: 'MARK', symbol: 'ETHP', price: '1850', at: T0 + 2000 });
    expect(actor.getSnapshot().value).toEqual({ 'de-risking': 'awaiting' });
    const reduction = log.sent[1]!;
    expect(reduction.purpose).toBe('reduce');

    const json = JSON.stringify(actor.getPersistedSnapshot());
    actor.stop();

    const resumedLog = { sent: [] as SentOrder[], cancels: [] as string[], decisions: 0, raised: 0, resets: [] as string[] };
    const resumed = restoreActor(resumedLog, JSON.parse(json));
    resumed.start();
    expect(resumed.getSnapshot().value).toEqual({ 'de-risking': 'awaiting' });
    expect(resumed.getSnapshot().context.reduction).toBe(reduction.clientOrderId);
    // Nothing is sent on resume; a new mark while the reduction is in flight sends nothing either.
    resumed.send({ type: 'MARK', symbol: 'ETHP', price: '1840', at: T0 + 3000 });
    expect(resumedLog.sent).toEqual([]);
    // The reduction's result arrives: only now the next decision is taken.
    resumed.send({
      type: 'LEDGER',
      at: T0 + 4000,
      event: {
        kind: 'fill',
        id: 'f2',
        seq: 2,
        symbol: 'ETHP',
        side: 'sell',
        amount: reduction.intent.amount,
        price: reduction.intent.price!,
      },
    });
    resumed.send({
      type: 'ORDER_UPDATE',
      clientOrderId: reduction.clientOrderId,
      status: 'filled',
      filled: reduction.intent.amount,
      at: T0 + 4000,
    });
    expect(resumed.getSnapshot().context.reduction).not.toBe(reduction.clientOrderId);
    expect(resumedLog.sent.every((o) => o.clientOrderId !== reduction.clientOrderId)).toBe(true);
  });
});

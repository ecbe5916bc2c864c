import { afterEach, expect, it } from 'vitest';
import { clientBook, startSimVenue, venueBook, venueFillIds, type SimVenue } from './sim-venue.ts';

const venues: SimVenue[] = [];
afterEach(async () => {
  for (const h of venues.splice(0)) await h.close();
});

it('probe: two of our strategies trade with each other', async () => {
  const h = await startSimVenue({ accounts: [{ id: 'alpha', collateral: '10000' }, { id: 'beta', collateral: '10000' }] });
  venues.push(h);
  await h.client.placeOrder('alpha', 'a1', { symbol: 'ETHP', side: 'buy', amount: '1', type: 'limit', price: '1999.9' });
  await h.client.placeOrder('beta', 'b1', { symbol: 'ETHP', side: 'sell', amount: '1', type: 'limit', price: '1999.9' });
  await h.idle();
  console.log('X', JSON.stringify(h.events.ledger.map((u) => [u.strategyId, u.event.kind, u.event.id, JSON.stringify(u.event)])), JSON.stringify(h.events.fault), JSON.stringify(h.events.drift));
  console.log('X2', JSON.stringify(h.lifecycle('a1').map((e) => e.status)), JSON.stringify(h.lifecycle('b1').map((e) => e.status)));
  for (const id of ['alpha', 'beta']) {
    expect(clientBook(h.client, id)).toEqual(venueBook(h.sim, h.wallet(id)));
    expect(h.events.ledger.filter((u) => u.strategyId === id && u.event.kind === 'fill').map((u) => u.event.id).sort()).toEqual(venueFillIds(h.sim, h.wallet(id)));
  }
});

it('probe: funding and deposit repaired from REST', async () => {
  const h = await startSimVenue({ sim: { funding: { rate: '0.0001', intervalMs: 60_000 } } });
  venues.push(h);
  await h.client.placeOrder('alpha', 'f1', { symbol: 'ETHP', side: 'buy', amount: '2', type: 'market' });
  await h.idle();
  h.sim.injectFault({ kind: 'drop-feed', feed: 'STRATEGY_UPDATE', duration: 70_000 });
  await h.step(60_000, (sim) => sim.setMark('ETHP', '2010'));
  await h.step(1_000, (sim) => sim.exchange.deposit(h.wallet('alpha').address, 'main', '500'));
  await h.step(1_000, (sim) => sim.setMark('ETHP', '2011'));
  console.log('F', JSON.stringify(h.events.ledger.map((u) => [u.event.kind, u.event.id])), JSON.stringify(h.events.repair.map((r) => r.phase)), JSON.stringify(h.events.fault), JSON.stringify(h.events.drift));
  expect(clientBook(h.client, 'alpha')).toEqual(venueBook(h.sim, h.wallet('alpha')));
});

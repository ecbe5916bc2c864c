import { performance } from 'node:perf_hooks';
import { createRedisStopoutStore } from '../src/store/redis-stopout-store.ts';

// One "supervisor process" of the propagation benchmark: it reports when it sees each new stopout.
const [url, prefix] = process.argv.slice(2) as [string, string];
const store = await createRedisStopoutStore({ url, prefix });
store.watch((change) => {
  if (change.kind === 'set') process.send?.({ seenAt: performance.timeOrigin + performance.now() });
});
process.send?.({ ready: true });

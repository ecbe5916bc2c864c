/**
 * A stand-in supervisor process for the takeover test: holds leases on the given accounts with a
 * LeaseKeeper and reports on stdout (`owner <id>`, `acquired <account> <epoch>`, `lost <account>`) until
 * it is killed. Usage: node --import tsx lease-holder-process.ts <redisUrl> <prefix> <ttlMs> <account>...
 */
import { Redis } from 'ioredis';
import { LeaseKeeper } from '../../src/persistence/lease-keeper.ts';
import { RedisLeaseManager } from '../../src/persistence/redis-lease-manager.ts';

const [url, prefix, ttl, ...accounts] = process.argv.slice(2);
if (!url || !prefix || !ttl || accounts.length === 0) {
  console.error('usage: lease-holder-process.ts <redisUrl> <prefix> <ttlMs> <account>...');
  process.exit(2);
}
const leases = new RedisLeaseManager({ client: new Redis(url), prefix, ttlMs: Number(ttl) });
const keeper = new LeaseKeeper({ leases, accounts: () => accounts });
keeper.on('acquired', (id) => console.log(`acquired ${id} ${leases.epoch(id)}`));
keeper.on('lost', (id) => console.log(`lost ${id}`));
keeper.on('error', (error) => console.error(String(error)));
console.log(`owner ${leases.ownerId}`);
keeper.start();

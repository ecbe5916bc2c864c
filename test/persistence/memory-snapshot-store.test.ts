import { MemorySnapshotStore } from '../../src/persistence/memory-snapshot-store.ts';
import { snapshotRefusalContract, snapshotStoreContract } from './snapshot-store-contract.ts';

snapshotStoreContract('MemorySnapshotStore', async () => {
  // One process: every "writer" is the same store.
  const store = new MemorySnapshotStore();
  return { writer: () => store, close: async () => {}, coalesces: false };
});

snapshotRefusalContract('MemorySnapshotStore', async () => {
  const store = new MemorySnapshotStore();
  return { store, putRaw: async (accountId, raw) => store.putRaw(accountId, raw), close: async () => {} };
});

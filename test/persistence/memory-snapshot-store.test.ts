import { MemorySnapshotStore } from '../../src/persistence/memory-snapshot-store.ts';
import { snapshotStoreContract } from './snapshot-store-contract.ts';

snapshotStoreContract('MemorySnapshotStore', async () => {
  // One process: every "writer" is the same store.
  const store = new MemorySnapshotStore();
  return { writer: () => store, close: async () => {}, coalesces: false };
});

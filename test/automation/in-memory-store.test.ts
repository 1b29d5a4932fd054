import { describeStoreContract } from '../stores/contract.ts';
import { InMemoryStore } from './in-memory-store.ts';

// The unit tests' store keeps the contract the real providers keep, so what they show of the harvest holds for those.
const store = new InMemoryStore();
describeStoreContract('in-memory (unit tests)', () => ({ provider: store, namespace: 'team-a' }));

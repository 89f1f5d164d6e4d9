import type { SwarmNode } from '../docker/swarm.js';

/** A node as the engine lists it, for tests of what is made of node lists. */
export const swarmNode = (id: string, address: string, state = 'ready', availability = 'active'): SwarmNode => ({
  id,
  hostname: 'lab',
  address,
  state,
  availability,
  role: 'worker',
  memoryBytes: 0,
  cpus: 1,
});

import type Docker from 'dockerode';
import { engineStatus } from '../docker/engine.js';
import { swarmFacts } from '../docker/swarm.js';

/**
 * A single-node Swarm on the test engine (`docker swarm init --advertise-addr 127.0.0.1`). If this
 * call made it, `leave` ends it and removes what leaving leaves behind (docker_gwbridge);
 * a Swarm that existed before is kept.
 */
export async function swarmForTests(docker: Docker): Promise<{ leave(): Promise<void> }> {
  if ((await swarmFacts(docker)).state === 'active') return { leave: async () => undefined };
  await docker.swarmInit({ ListenAddr: '127.0.0.1:2377', AdvertiseAddr: '127.0.0.1' });
  return {
    async leave() {
      await docker.swarmLeave({ force: true });
      try {
        await docker.getNetwork('docker_gwbridge').remove();
      } catch (err) {
        if (engineStatus(err) !== 404) throw err;
      }
    },
  };
}

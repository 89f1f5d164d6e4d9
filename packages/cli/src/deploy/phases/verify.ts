import { probeProtocolPorts, probeRecognition } from '../recognition-probe.js';
import type { DeployContext, DeployPhase } from '../deploy-context.js';

/**
 * Phase 6: a real recognition per language through the public port, as a client would connect.
 * Only then does the old app retire; a failure here rolls back (see deploy()). Interrupted while
 * the old app drains, it stops at once (its sessions get their finals).
 */
export const verify: DeployPhase = {
  title: 'Verify',
  async run(ctx, say) {
    const { config, swapped } = ctx;
    if (!swapped) throw new Error('verify needs a swapped deployment');
    const host = await probeHost(ctx);
    const url = `${config.tls ? 'wss' : 'ws'}://${host.includes(':') ? `[${host}]` : host}:${config.port}/`;
    ctx.heard = await probeRecognition(url, config);
    for (const [language, text] of Object.entries(ctx.heard)) say(`${language}: heard "${text}" through ${url}`);
    ctx.signal.throwIfAborted();
    for (const [protocol, text] of Object.entries(await probeProtocolPorts(host, config))) {
      say(`${protocol} client: heard "${text}" through port ${config.protocolPorts[protocol as 'vosk' | 'funasr']}`);
    }
    // Interrupted while probing (a probe takes seconds): roll back rather than retire the old app.
    ctx.signal.throwIfAborted();
    ctx.publicUrl = url;
    await swapped.retire(say, ctx.signal);
  },
};

/** Where a client reaches the public port from here: the bound address, or where the target says. */
async function probeHost(ctx: DeployContext): Promise<string> {
  const { bindAddress } = ctx.config;
  if (bindAddress !== '0.0.0.0' && bindAddress !== '::') return bindAddress;
  return ctx.deployment.probeHost();
}

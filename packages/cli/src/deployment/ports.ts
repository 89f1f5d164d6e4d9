import type { DeployConfig } from './deploy-config.js';

/** The app server's WebSocket port inside its container or task. */
export const APP_PORT = 8765;

/** The edge listens here inside its container or task, whatever the public port. */
export const EDGE_PORT = 8765;

/** Inside the containers, each foreign protocol listens on its customary port. */
export const PROTOCOL_PORTS = { vosk: 2700, funasr: 10095 } as const;

/** The deployment's enabled protocol ports: container port to host port. */
export function protocolPortMap(config: DeployConfig): Array<{ protocol: 'vosk' | 'funasr'; inside: number; host: number }> {
  return (Object.entries(config.protocolPorts) as Array<['vosk' | 'funasr', number]>).map(([protocol, host]) => ({
    protocol,
    inside: PROTOCOL_PORTS[protocol],
    host,
  }));
}

/** What the deployment publishes, as its label records it: "ADDR:PORT" plus ",vosk=N,funasr=N". */
export function publishedPorts(config: DeployConfig): string {
  return [`${config.bindAddress}:${config.port}`, ...protocolPortMap(config).map((p) => `${p.protocol}=${p.host}`)].join(',');
}

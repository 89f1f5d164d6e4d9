/**
 * Base images made without any registry, for air-gapped hosts (and CI, which reaches none):
 * - node: FROM scratch with this host's own Node.js and the libraries it and libvosk link to;
 * - debian: a minimal Debian from debootstrap (an apt mirror is needed once, at build time);
 * - edge: the edge proxy's base, Debian with HAProxy and socat already installed.
 */
export const BASE_IMAGES = {
  node: `asrctl/node-base:${process.versions.node}`,
  debian: 'asrctl/debian-base:bookworm',
  edge: 'asrctl/edge-base:bookworm',
} as const;

export type BaseImageKind = keyof typeof BASE_IMAGES;

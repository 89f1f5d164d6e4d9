/** The most app tasks the Swarm edge can route to (its server slots); one is kept for a rolling update's extra task. */
export const MAX_REPLICAS = 63;

/** Models load at roughly this rate or faster; a health check's start period allows for it. */
export function startPeriodFor(modelBytes: number): number {
  return Math.ceil(30 + (60 * modelBytes) / 1024 ** 3);
}

/** Kaldi's filterbank geometry for the tone model's fbank config (40 bins, 20 Hz to 8 kHz). */
export const MEL_BINS = 40;
const LOW_FREQ = 20;
const HIGH_FREQ = 8000;

export function mel(hz: number): number {
  return 1127 * Math.log(1 + hz / 700);
}

/** Responses of the 40 triangular filters to a pure tone at `hz`. */
export function filterResponses(hz: number): Float64Array {
  const lo = mel(LOW_FREQ);
  const step = (mel(HIGH_FREQ) - lo) / (MEL_BINS + 1);
  const m = mel(hz);
  const out = new Float64Array(MEL_BINS);
  for (let b = 0; b < MEL_BINS; b++) {
    const left = lo + b * step;
    const center = left + step;
    const right = center + step;
    if (m > left && m <= center) out[b] = (m - left) / step;
    else if (m > center && m < right) out[b] = (right - m) / step;
  }
  return out;
}

/** The two filters a tone falls in; throws when the tone is too near an edge for its contrast bins. */
export function toneBins(hz: number): { responses: Float64Array; b0: number; b1: number } {
  const responses = filterResponses(hz);
  const active = [...responses.keys()].filter((b) => responses[b]! > 0);
  if (active.length === 0) throw new RangeError(`tone ${hz} Hz is outside the 20-8000 Hz filterbank`);
  const b0 = active[0]!;
  const b1 = active[active.length - 1]!;
  if (b0 - 4 < 0 || b1 + 4 >= MEL_BINS) {
    throw new RangeError(`tone ${hz} Hz is too close to the filterbank edge (bins ${b0}-${b1}); use roughly 250-6000 Hz`);
  }
  return { responses, b0, b1 };
}

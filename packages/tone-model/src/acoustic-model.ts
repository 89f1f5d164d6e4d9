import { KaldiWriter, type Matrix, zeroMatrix } from './kaldi-writer.js';
import { MEL_BINS, toneBins } from './mel.js';
import { seededRandom } from './prng.js';

/** Tone detector constants (see docs of the tone model): logit_k = A * min(p_k - n_k - T, p_k - L). */
const A = 1;
const T = 4;
const L = 10;
const HEAVY_SEED = 0x5eed;
const HEAVY_PDFS = 3000;
const D = 1024;
const B = 128;
const P = 192;
const TDNNF_STRIDES = [1, 1, 1, 0, 3, 3, 3, 3, 3, 3, 3] as const;

type Component =
  { kind: 'affine'; linear: Matrix; bias: Float32Array } | { kind: 'relu' | 'log-softmax'; dim: number } | { kind: 'noop'; dim: number };

/** The heavy stack's TDNN-F layers by default: as many as Vosk's small chain models have. */
export const HEAVY_TDNNF_LAYERS = TDNNF_STRIDES.length;

/**
 * Writes am/final.mdl: a TransitionModel with one single-state HMM per phone, then the nnet3.
 * `heavy`: the number of TDNN-F layers of the compute stack (at most HEAVY_TDNNF_LAYERS), or 0 for none.
 */
export function acousticModel(frequencies: readonly number[], heavy: number): Buffer {
  const phones = frequencies.length + 1; // phone 1 is silence, phone k+1 is word k
  const w = new KaldiWriter();
  writeTransitionModel(w, phones);
  const { config, components } = heavy > 0 ? heavyNnet(frequencies, heavy) : lightNnet(frequencies);
  w.token('<Nnet3>').raw('\n').raw(config.join('\n')).raw('\n\n');
  w.token('<NumComponents>').int32(components.length);
  for (const [name, c] of components) {
    w.token('<ComponentName>').token(name);
    writeComponent(w, c);
  }
  w.token('</Nnet3>').token('<LeftContext>').int32(0).token('<RightContext>').int32(0);
  w.token('<Priors>').floatVector([]);
  return w.toBuffer();
}

function writeTransitionModel(w: KaldiWriter, phones: number): void {
  const phoneIds = Array.from({ length: phones }, (_, i) => i + 1);
  w.token('<TransitionModel>').token('<Topology>');
  w.intVector(phoneIds);
  w.intVector([-1, ...phoneIds.map(() => 0)]);
  w.int32(1).int32(2); // one topology entry with two states
  // State 0 emits (pdf-class 0): self-loop first, then forward to the final state.
  w.int32(0).int32(2).int32(0).float(0.75).int32(1).float(0.25);
  w.int32(-1).int32(0); // state 1: final, non-emitting
  w.token('</Topology>').token('<Triples>').int32(phones);
  for (const p of phoneIds)
    w.int32(p)
      .int32(0)
      .int32(p - 1);
  w.token('</Triples>').token('<LogProbs>');
  const logProbs = [0];
  for (let i = 0; i < phones; i++) logProbs.push(Math.log(0.75), Math.log(0.25));
  w.floatVector(logProbs);
  w.token('</LogProbs>').token('</TransitionModel>');
}

function writeComponent(w: KaldiWriter, c: Component): void {
  switch (c.kind) {
    case 'affine':
      w.token('<AffineComponent>').token('<LearningRate>').float(0);
      w.token('<LinearParams>').matrix(c.linear).token('<BiasParams>').floatVector(c.bias);
      w.token('</AffineComponent>');
      return;
    case 'relu':
    case 'log-softmax': {
      const tag = c.kind === 'relu' ? 'RectifiedLinearComponent' : 'LogSoftmaxComponent';
      w.token(`<${tag}>`).token('<Dim>').int32(c.dim);
      w.token('<ValueAvg>').floatVector([]).token('<DerivAvg>').floatVector([]);
      w.token('<Count>').float(0).token(`</${tag}>`);
      return;
    }
    case 'noop':
      w.token('<NoOpComponent>').token('<Dim>').int32(c.dim).token('<BackpropScale>').float(1);
      w.token('</NoOpComponent>');
  }
}

/** tone.affine: three hidden units per word that together compute the word's logit. */
function toneDetector(frequencies: readonly number[]): Component {
  const rows = 3 * frequencies.length;
  const linear = zeroMatrix(rows, MEL_BINS);
  const bias = new Float32Array(rows);
  frequencies.forEach((hz, k) => {
    const { responses, b0, b1 } = toneBins(hz);
    const total = responses.reduce((s, r) => s + r, 0);
    const p = new Float64Array(MEL_BINS);
    const n = new Float64Array(MEL_BINS);
    for (let b = 0; b < MEL_BINS; b++) p[b] = responses[b]! / total;
    for (const b of [b0 - 4, b0 - 3, b0 - 2, b1 + 2, b1 + 3, b1 + 4]) n[b] = 1 / 6;
    const row = (r: number, f: (b: number) => number, rowBias: number): void => {
      for (let b = 0; b < MEL_BINS; b++) linear.data[r * MEL_BINS + b] = f(b);
      bias[r] = rowBias;
    };
    row(3 * k, (b) => p[b]! - n[b]!, -T);
    row(3 * k + 1, (b) => -(p[b]! - n[b]!), T);
    row(3 * k + 2, (b) => -n[b]!, L - T);
  });
  return { kind: 'affine', linear, bias };
}

/** output.affine rows 0..words: silence logit 0, word k = A*(h0 - h1 - h2) over its units. */
function outputAffine(words: number, pdfs: number, extraCols: number): Component {
  const hidden = 3 * words;
  const cols = hidden + extraCols;
  const linear = zeroMatrix(pdfs, cols);
  const bias = new Float32Array(pdfs);
  for (let k = 0; k < words; k++) {
    const r = (k + 1) * cols;
    linear.data[r + 3 * k] = A;
    linear.data[r + 3 * k + 1] = -A;
    linear.data[r + 3 * k + 2] = -A;
  }
  // Dummy pdfs beyond the real phones: never likely, so the output equals the light model's.
  for (let r = words + 1; r < pdfs; r++) bias[r] = -30;
  return { kind: 'affine', linear, bias };
}

type Nnet = { config: string[]; components: Array<[string, Component]> };

function lightNnet(frequencies: readonly number[]): Nnet {
  const words = frequencies.length;
  return {
    config: [
      `input-node name=input dim=${MEL_BINS}`,
      'component-node name=tone.affine component=tone.affine input=input',
      'component-node name=tone.relu component=tone.relu input=tone.affine',
      'component-node name=output.affine component=output.affine input=tone.relu',
      'component-node name=output.log-softmax component=output.log-softmax input=output.affine',
      'output-node name=output input=output.log-softmax objective=linear',
    ],
    components: [
      ['tone.affine', toneDetector(frequencies)],
      ['tone.relu', { kind: 'relu', dim: 3 * words }],
      ['output.affine', outputAffine(words, words + 1, 0)],
      ['output.log-softmax', { kind: 'log-softmax', dim: words + 1 }],
    ],
  };
}

/**
 * The light detector plus a TDNN-F stack shaped like Vosk's small chain models, really computed
 * but wired into the output with zero weights: realistic cost, identical results.
 */
function heavyNnet(frequencies: readonly number[], layers: number): Nnet {
  const words = frequencies.length;
  const random = seededRandom(HEAVY_SEED);
  const affine = (rows: number, cols: number): Component => {
    const limit = Math.sqrt(6 / (7 * cols));
    const linear = zeroMatrix(rows, cols);
    for (let i = 0; i < linear.data.length; i++) linear.data[i] = (random() * 2 - 1) * limit;
    const bias = new Float32Array(rows);
    for (let i = 0; i < rows; i++) bias[i] = (random() * 2 - 1) * 0.1;
    return { kind: 'affine', linear, bias };
  };
  const config = [
    `input-node name=input dim=${MEL_BINS}`,
    'component-node name=tone.affine component=tone.affine input=input',
    'component-node name=tone.relu component=tone.relu input=tone.affine',
    'component-node name=tdnn1.affine component=tdnn1.affine input=Append(Offset(input, -1), input, Offset(input, 1))',
    'component-node name=tdnn1.relu component=tdnn1.relu input=tdnn1.affine',
  ];
  const components: Array<[string, Component]> = [
    ['tone.affine', toneDetector(frequencies)],
    ['tone.relu', { kind: 'relu', dim: 3 * words }],
    ['tdnn1.affine', affine(D, 3 * MEL_BINS)],
    ['tdnn1.relu', { kind: 'relu', dim: D }],
  ];
  let prev = 'tdnn1.relu';
  TDNNF_STRIDES.slice(0, layers).forEach((s, i) => {
    const n = `tdnnf${i + 2}`;
    if (s > 0) {
      config.push(
        `component-node name=${n}.linear component=${n}.linear input=Append(Offset(${prev}, -${s}), ${prev})`,
        `component-node name=${n}.affine component=${n}.affine input=Append(${n}.linear, Offset(${n}.linear, ${s}))`,
      );
      components.push([`${n}.linear`, affine(B, 2 * D)], [`${n}.affine`, affine(D, 2 * B)]);
    } else {
      config.push(
        `component-node name=${n}.linear component=${n}.linear input=${prev}`,
        `component-node name=${n}.affine component=${n}.affine input=${n}.linear`,
      );
      components.push([`${n}.linear`, affine(B, D)], [`${n}.affine`, affine(D, B)]);
    }
    config.push(
      `component-node name=${n}.relu component=${n}.relu input=${n}.affine`,
      `component-node name=${n}.noop component=${n}.noop input=Sum(Scale(0.66, ${prev}), ${n}.relu)`,
    );
    components.push([`${n}.relu`, { kind: 'relu', dim: D }], [`${n}.noop`, { kind: 'noop', dim: D }]);
    prev = `${n}.noop`;
  });
  config.push(
    `component-node name=prefinal-l component=prefinal-l input=${prev}`,
    'component-node name=prefinal-chain.affine component=prefinal-chain.affine input=prefinal-l',
    'component-node name=prefinal-chain.relu component=prefinal-chain.relu input=prefinal-chain.affine',
    'component-node name=prefinal-chain.linear component=prefinal-chain.linear input=prefinal-chain.relu',
    'component-node name=output.affine component=output.affine input=Append(tone.relu, prefinal-chain.linear)',
    'component-node name=output.log-softmax component=output.log-softmax input=output.affine',
    'output-node name=output input=output.log-softmax objective=linear',
  );
  components.push(
    ['prefinal-l', affine(P, D)],
    ['prefinal-chain.affine', affine(D, P)],
    ['prefinal-chain.relu', { kind: 'relu', dim: D }],
    ['prefinal-chain.linear', affine(P, D)],
    ['output.affine', outputAffine(words, HEAVY_PDFS, P)],
    ['output.log-softmax', { kind: 'log-softmax', dim: HEAVY_PDFS }],
  );
  return { config, components };
}

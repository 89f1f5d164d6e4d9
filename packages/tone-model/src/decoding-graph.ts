/**
 * graph/HCLG.fst as an OpenFst binary VectorFst ("standard" arcs): silence and words, each word
 * a single phone lasting at least three frames, any word may follow any unit end.
 */
const FST_MAGIC = 2125659606;
const WORD_COST = 3.0;
const SILENCE_COST = 0.5;

interface Arc {
  ilabel: number;
  olabel: number;
  weight: number;
  next: number;
}

export function decodingGraph(words: number): Buffer {
  // State 0 start, 1 silence, then three states per word (entered, second frame, looping end).
  const silence = 1;
  const wordStart = (k: number): number => 2 + 3 * (k - 1);
  const forwardTid = (phone: number): number => 2 * phone;
  const selfLoopTid = (phone: number): number => 2 * phone - 1;
  const entries = (withSilence: boolean): Arc[] => {
    const arcs: Arc[] = [];
    if (withSilence) arcs.push({ ilabel: forwardTid(1), olabel: 0, weight: SILENCE_COST, next: silence });
    for (let k = 1; k <= words; k++) {
      arcs.push({ ilabel: forwardTid(k + 1), olabel: k, weight: WORD_COST, next: wordStart(k) });
    }
    return arcs;
  };

  const states: Array<{ final: boolean; arcs: Arc[] }> = [
    { final: true, arcs: entries(true) },
    { final: true, arcs: [{ ilabel: selfLoopTid(1), olabel: 0, weight: 0, next: silence }, ...entries(false)] },
  ];
  for (let k = 1; k <= words; k++) {
    const tid = selfLoopTid(k + 1);
    const s = wordStart(k);
    states.push(
      { final: false, arcs: [{ ilabel: tid, olabel: 0, weight: 0, next: s + 1 }] },
      { final: false, arcs: [{ ilabel: tid, olabel: 0, weight: 0, next: s + 2 }] },
      { final: true, arcs: [{ ilabel: tid, olabel: 0, weight: 0, next: s + 2 }, ...entries(true)] },
    );
  }

  const arcCount = states.reduce((n, s) => n + s.arcs.length, 0);
  const header = Buffer.concat([
    int32(FST_MAGIC),
    fstString('vector'),
    fstString('standard'),
    int32(2), // version
    int32(0), // flags
    int64(3), // properties: expanded, mutable
    int64(0), // start state
    int64(states.length),
    int64(arcCount),
  ]);
  const body = Buffer.alloc(states.reduce((n, s) => n + 12 + 16 * s.arcs.length, 0));
  let o = 0;
  for (const s of states) {
    o = body.writeFloatLE(s.final ? 0 : Infinity, o);
    o = body.writeBigInt64LE(BigInt(s.arcs.length), o);
    for (const a of s.arcs) {
      o = body.writeInt32LE(a.ilabel, o);
      o = body.writeInt32LE(a.olabel, o);
      o = body.writeFloatLE(a.weight, o);
      o = body.writeInt32LE(a.next, o);
    }
  }
  return Buffer.concat([header, body]);
}

function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
}

function int64(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(BigInt(v));
  return b;
}

function fstString(s: string): Buffer {
  return Buffer.concat([int32(s.length), Buffer.from(s, 'ascii')]);
}

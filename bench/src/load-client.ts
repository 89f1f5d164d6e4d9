import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { FRAME_SECONDS } from './bench-audio.js';

export interface StreamRecord {
  /** performance.now() when each frame was handed to the socket. */
  sendTimes: number[];
  finals: Array<{ t: number; text: string }>;
  /** The first partial with text after each final (the next utterance's first word). */
  firstPartials: Array<{ t: number; text: string }>;
  doneAt: number;
  errors: string[];
}

export interface StreamOptions {
  url: string;
  frames: readonly Buffer[];
  /** 'realtime': one frame per FRAME_SECONDS, like a microphone. 'max': as fast as the server takes it. */
  pace: 'realtime' | 'max';
  /** Delay before the first frame, in ms (staggers clients). */
  offsetMs?: number;
  timeoutMs?: number;
  /** Awaited after eof_complete, before the socket closes (to hold sessions open). */
  beforeClose?: () => Promise<void>;
}

/** One client: connect, stream the frames, send eof, wait for eof_complete; timestamps everything. */
export async function streamAudio(options: StreamOptions): Promise<StreamRecord> {
  const ws = new WebSocket(options.url, { perMessageDeflate: false });
  const record: StreamRecord = { sendTimes: [], finals: [], firstPartials: [], doneAt: 0, errors: [] };
  let awaitingFirstPartial = true;
  let greeted: () => void = () => undefined;
  let finished: () => void = () => undefined;
  const greeting = new Promise<void>((r) => (greeted = r));
  const eofComplete = new Promise<void>((r) => (finished = r));
  ws.on('message', (data: Buffer) => {
    const t = performance.now();
    const m = JSON.parse(data.toString()) as { type?: string; is_final?: boolean; text?: string; message?: string };
    if (m.type === 'connection_established') greeted();
    else if (m.type === 'eof_complete') {
      record.doneAt = t;
      finished();
    } else if (m.type === 'error') record.errors.push(String(m.message));
    else if (m.is_final === true) {
      if (m.text) record.finals.push({ t, text: m.text });
      awaitingFirstPartial = true;
    } else if (m.is_final === false && m.text && awaitingFirstPartial) {
      record.firstPartials.push({ t, text: m.text });
      awaitingFirstPartial = false;
    }
  });
  const failed = new Promise<never>((_, reject) => {
    ws.once('error', reject);
    ws.once('close', (code) => reject(new Error(`closed with ${code}`)));
  });
  failed.catch(() => undefined);
  await Promise.race([greeting, failed]);
  if (options.offsetMs) await sleep(options.offsetMs);
  const started = performance.now();
  for (let i = 0; i < options.frames.length; i++) {
    if (options.pace === 'realtime') {
      const due = started + i * FRAME_SECONDS * 1000;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
    } else if (ws.bufferedAmount > 256 * 1024) {
      while (ws.bufferedAmount > 64 * 1024) await sleep(1);
    }
    record.sendTimes.push(performance.now());
    ws.send(options.frames[i]!);
  }
  ws.send(JSON.stringify({ command: 'eof' }));
  const timer = new AbortController();
  const timeout = sleep(options.timeoutMs ?? 120_000, undefined, { signal: timer.signal }).then(() => {
    throw new Error('no eof_complete in time');
  });
  try {
    await Promise.race([eofComplete, failed, timeout]);
  } finally {
    timer.abort(); // a pending timer would keep the process alive after the last stream
  }
  await options.beforeClose?.();
  ws.removeAllListeners('close');
  ws.close();
  return record;
}

/** Final latency per utterance: final arrival minus the send time of the frame holding the endpoint. */
export function finalLatencies(record: StreamRecord, endpoints: readonly number[]): number[] {
  return record.finals.slice(0, endpoints.length).map((f, k) => {
    const frame = Math.min(record.sendTimes.length - 1, Math.ceil(endpoints[k]! / FRAME_SECONDS - 1e-9) - 1);
    return f.t - record.sendTimes[frame]!;
  });
}

/** Partial latency per utterance: first partial with text minus the send time of the frame holding the tone onset. */
export function partialLatencies(record: StreamRecord, onsets: readonly number[]): number[] {
  return record.firstPartials.slice(0, onsets.length).map((p, k) => p.t - record.sendTimes[Math.floor(onsets[k]! / FRAME_SECONDS)]!);
}

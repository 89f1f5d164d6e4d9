import { setTimeout as sleep } from 'node:timers/promises';
import { AsrctlClient } from '@asrctl/server';
import { FRAME_SECONDS, SAMPLE_RATE } from './bench-audio.js';

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
  const client = await AsrctlClient.connect(options.url);
  const record: StreamRecord = { sendTimes: [], finals: [], firstPartials: [], doneAt: 0, errors: [] };
  let awaitingFirstPartial = true;
  client.onMessage((m) => {
    const t = performance.now();
    if (m.type === 'eof_complete') record.doneAt = t;
    else if (m.type === 'error') record.errors.push(String(m.message));
    else if (m.is_final === true) {
      if (m.text) record.finals.push({ t, text: m.text });
      awaitingFirstPartial = true;
    } else if (m.is_final === false && m.text && awaitingFirstPartial) {
      record.firstPartials.push({ t, text: m.text });
      awaitingFirstPartial = false;
    }
  });
  await client.greeting();
  if (options.offsetMs) await sleep(options.offsetMs);
  await client.stream(options.frames, {
    sampleRate: SAMPLE_RATE,
    ...(options.pace === 'realtime' ? { pace: 1 } : { maxBufferedBytes: 256 * 1024 }),
    onFrame: () => record.sendTimes.push(performance.now()),
  });
  client.send({ command: 'eof' });
  await client.nextType('eof_complete', options.timeoutMs ?? 120_000);
  await options.beforeClose?.();
  void client.close(); // the record is complete; the close handshake need not hold up the next client
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

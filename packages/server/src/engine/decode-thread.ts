/**
 * A decode thread (a worker thread, one per core): it owns the streams the event loop gives it and
 * loops over their queued audio and commands, calling libvosk synchronously. Between two calls it
 * takes whatever the event loop has posted meanwhile without returning to its own loop
 * (receiveMessageOnPort), so a busy recognizer's next call starts at once: no thread hand-off per
 * call. Streams take turns call by call; a stream's own requests run one at a time, in order.
 */
import { getPriority, setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { type DecodeReply, type DecodeRequest, type QueuedOp, type ThreadReady, queuedBuffers } from './decode-messages.js';
import { type RecognizerHandle, libvosk } from './libvosk.js';

interface Stream {
  id: number;
  handle: RecognizerHandle;
  mergeBytes: number;
  resultPerChunk: boolean;
  ops: QueuedOp[];
  /** Whether it waits in `turns`. */
  waiting: boolean;
  /** Asked to leave during its own call: it leaves when the call has returned. */
  releasing: boolean;
}

/**
 * Below the event loop's priority (a niceness is per thread on Linux, and a new thread starts with
 * its creator's): when decoding fills every core, the event loop still runs as soon as a socket or
 * a reply needs it, so /healthz, partials and finals are not held up behind a decode call. The
 * decode threads lose only what the event loop uses, which is little next to decoding. Relative to
 * the event loop's own niceness (a server started with `nice` keeps the order), and only ever
 * raised, which needs no privilege; where even that is refused, decoding runs at the same priority.
 */
const NICENESS_BELOW_EVENT_LOOP = 10;

try {
  setPriority(Math.min(19, getPriority() + NICENESS_BELOW_EVENT_LOOP));
} catch {
  // Same priority as the event loop: slower answers under full load, nothing lost.
}
const port = parentPort as MessagePort;
const lib = libvosk((workerData as { libvoskPath: string }).libvoskPath);
const streams = new Map<number, Stream>();
/** Streams with work, in turn order. */
const turns: Stream[] = [];
/** The stream whose call runs now. */
let current: Stream | undefined;
let looping = false;
/** Asked to stop: ends after the call in progress, never inside one (see DecodeThreads.close). */
let stopping = false;

const reply = (message: DecodeReply): void => port.postMessage(message);

function receive(request: DecodeRequest): void {
  if (request.op === 'stop') {
    stopping = true;
    return;
  }
  if (request.op === 'open') {
    const { id, mergeBytes, resultPerChunk } = request;
    const handle = request.handle as unknown as RecognizerHandle;
    const stream: Stream = { id, handle, mergeBytes, resultPerChunk, ops: request.ops ?? [], waiting: false, releasing: false };
    streams.set(id, stream);
    if (stream.ops.length > 0) wait(stream);
    return;
  }
  const stream = streams.get(request.id);
  if (!stream) {
    // Not on this thread (gone already): answered all the same, so DecodeThreads never waits for good.
    if (request.op === 'release') reply({ kind: 'released', id: request.id, ops: [] });
    return;
  }
  if (request.op === 'close') {
    // Nothing runs now (this thread is between calls): the recognizer can go at once.
    leave(stream);
    stream.ops.length = 0;
    lib.recognizerFree(stream.handle);
    reply({ kind: 'closed', id: stream.id });
    return;
  }
  if (request.op === 'release') {
    // During its own call (posted requests are also taken inside a call) it must not leave yet:
    // another thread could then call its recognizer while this one still does.
    if (stream === current) stream.releasing = true;
    else release(stream);
    return;
  }
  if (request.op === 'audio') {
    for (const chunk of request.chunks) {
      const whole = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      // A frame longer than a merge is decoded in merge-sized calls (counted as its request by the
      // last), so no call runs long: a close, a command or another stream waits one short call at
      // most. One reply per frame (resultPerChunk) keeps the frame one call, as vosk-server does.
      const size = stream.mergeBytes > 0 && !stream.resultPerChunk ? stream.mergeBytes : Math.max(1, whole.length);
      const pieces = Math.max(1, Math.ceil(whole.length / size));
      for (let piece = 0; piece < pieces; piece++) {
        const pcm = whole.subarray(piece * size, (piece + 1) * size);
        const requests = piece === pieces - 1 ? 1 : 0;
        const last = stream.ops.at(-1);
        if (last?.kind === 'audio' && stream.mergeBytes > 0 && last.bytes + pcm.length <= stream.mergeBytes) {
          last.chunks.push(pcm);
          last.bytes += pcm.length;
          last.requests += requests;
        } else stream.ops.push({ kind: 'audio', chunks: [pcm], bytes: pcm.length, requests });
      }
    }
  } else stream.ops.push({ kind: request.op });
  wait(stream);
}

/** In the turn order, unless already there. */
function wait(stream: Stream): void {
  if (stream.waiting) return;
  stream.waiting = true;
  turns.push(stream);
}

/** Out of this thread's streams and turns; what it had queued is left in `stream.ops`. */
function leave(stream: Stream): void {
  streams.delete(stream.id);
  // A stream leaving during its own call has already left `turns` (the loop took it out).
  const turn = turns.indexOf(stream);
  if (turn >= 0) turns.splice(turn, 1);
  stream.waiting = false;
}

/** Hands the stream, with its queued work, back for another thread (DecodeThreads balances them). */
function release(stream: Stream): void {
  leave(stream);
  port.postMessage({ kind: 'released', id: stream.id, ops: stream.ops } satisfies DecodeReply, queuedBuffers(stream.ops));
}

/** Everything the event loop posted since the last look, without waiting. */
function takePosted(): void {
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) receive(m.message as DecodeRequest);
}

function loop(): void {
  looping = true;
  try {
    for (;;) {
      takePosted();
      if (stopping) return stop();
      const stream = turns.shift();
      if (!stream) return;
      const op = stream.ops.shift()!;
      current = stream;
      run(stream, op);
      current = undefined;
      if (stream.releasing) release(stream);
      else if (stream.ops.length > 0 && streams.has(stream.id)) turns.push(stream);
      else stream.waiting = false;
    }
  } finally {
    looping = false;
  }
}

function run(stream: Stream, op: QueuedOp): void {
  const { id, handle } = stream;
  try {
    if (op.kind === 'final') reply({ kind: 'final', id, json: lib.finalResult(handle) });
    else if (op.kind === 'reset') {
      lib.reset(handle);
      reply({ kind: 'reset', id });
    } else {
      const started = performance.now();
      const pcm = op.chunks.length === 1 ? op.chunks[0]! : Buffer.concat(op.chunks, op.bytes);
      const endpoint = lib.acceptWaveform(handle, pcm, pcm.length);
      if (endpoint < 0) throw new Error('vosk_recognizer_accept_waveform returned an error');
      const decoded: DecodeReply = { kind: 'decoded', id, requests: op.requests, bytes: op.bytes, seconds: 0 };
      if (endpoint === 1) decoded.result = lib.result(handle);
      else {
        takePosted();
        // Closed meanwhile: its recognizer is gone, and nobody waits for this call.
        if (!streams.has(id)) return;
        if (stream.resultPerChunk || stream.ops[0]?.kind !== 'audio') decoded.partial = lib.partialResult(handle);
      }
      decoded.seconds = (performance.now() - started) / 1000;
      reply(decoded);
    }
  } catch (err) {
    const [requests, bytes] = op.kind === 'audio' ? [op.requests, op.bytes] : [0, 0];
    reply({ kind: 'failed', id, op: op.kind, requests, bytes, message: (err as Error).message });
  }
}

function stop(): void {
  for (const stream of streams.values()) lib.recognizerFree(stream.handle);
  streams.clear();
  turns.length = 0;
  // The port was the thread's last handle: with it closed the thread ends by itself.
  port.close();
}

port.on('message', (request: DecodeRequest) => {
  receive(request);
  if (!looping) loop();
});
port.postMessage({ kind: 'ready' } satisfies ThreadReady);

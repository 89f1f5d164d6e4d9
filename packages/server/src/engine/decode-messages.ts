/** What the event loop and a decode thread (decode-thread.ts) say to each other about streams. */

/** A stream's work waiting on its decode thread: one call each. */
export type QueuedOp =
  | {
      kind: 'audio';
      chunks: Uint8Array[];
      bytes: number;
      /** The requests this call answers: 0 for a long frame's calls before its last. */
      requests: number;
    }
  | { kind: 'final' }
  | { kind: 'reset' };

/** From the event loop: a stream's recognizer, audio and commands, in the order they must run. */
export type DecodeRequest =
  | {
      op: 'open';
      id: number;
      /** The native recognizer's address (koffi pointers are BigInts, valid in every thread of the process). */
      handle: bigint;
      /** Audio queued while a call runs merges into one call of at most this many bytes (0: none). */
      mergeBytes: number;
      /** A partial after every call, even with more audio queued (vosk-server's one reply per frame). */
      resultPerChunk: boolean;
      /** A stream moved from another thread: the work it had queued there, to run first. */
      ops?: QueuedOp[];
    }
  /** Each chunk its own request (merged on the thread as allowed). */
  | { op: 'audio'; id: number; chunks: Uint8Array[] }
  | { op: 'final'; id: number }
  | { op: 'reset'; id: number }
  /** Drops what is queued and frees the recognizer. */
  | { op: 'close'; id: number }
  /** Gives the stream up after its call in progress: answered by `released` with its queued work. */
  | { op: 'release'; id: number }
  /** Frees every recognizer left and ends the thread, from JavaScript, between two calls. */
  | { op: 'stop' };

/** From a decode thread once it can decode (koffi and libvosk loaded), before any reply. */
export interface ThreadReady {
  kind: 'ready';
}

/** From a decode thread, one per call: results parse on the event loop, which owns the protocol. */
export type DecodeReply =
  | {
      kind: 'decoded';
      id: number;
      /** How many audio chunks and bytes this call took (merged). */
      requests: number;
      bytes: number;
      /** The call's wall time on the decode thread. */
      seconds: number;
      /** libvosk's result JSON at an endpoint. */
      result?: string;
      /** libvosk's partial JSON, unless more audio was already queued (it would be stale at once). */
      partial?: string;
    }
  | { kind: 'final'; id: number; json: string }
  | { kind: 'reset'; id: number }
  | { kind: 'closed'; id: number }
  /** The stream left this thread between two calls; its recognizer lives on, for another thread. */
  | { kind: 'released'; id: number; ops: QueuedOp[] }
  | { kind: 'failed'; id: number; op: 'audio' | 'final' | 'reset'; requests: number; bytes: number; message: string };

/** The audio buffers of queued work, each once: moved, not copied, when the work changes thread. */
export function queuedBuffers(ops: readonly QueuedOp[]): ArrayBuffer[] {
  return [...new Set(ops.flatMap((op) => (op.kind === 'audio' ? op.chunks.map((c) => c.buffer as ArrayBuffer) : [])))];
}

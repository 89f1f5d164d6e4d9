import { setTimeout as sleep } from 'node:timers/promises';
import { lowHighClip, pcmBytes } from '@asrctl/tone-model';
import WebSocket from 'ws';

export interface StreamingSessionResult {
  clipsSent: number;
  finals: string[];
  errors: string[];
  /** 1000 when the client ended it (eof), 1012 when the server restarted under it, ... */
  closeCode: number;
  /** Whether the server confirmed our eof (the session ended on our terms). */
  eofComplete: boolean;
}

/**
 * A client streaming two-tone utterances in real time (100 ms frames) until stopped, as a live
 * microphone would; then eof. Collects every final and error.
 */
export async function startStreamingSession(url: string): Promise<{ stop(): Promise<StreamingSessionResult>; closed: Promise<number> }> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const finals: string[] = [];
  const errors: string[] = [];
  let eofComplete = false;
  const closed = new Promise<number>((resolve) => ws.on('close', (code: number) => resolve(code)));
  const greeted = new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString('utf8')) as { type?: string; is_final?: boolean; text?: string; message?: string };
      if (m.type === 'connection_established') resolve();
      else if (m.type === 'error') errors.push(`${String(m.message)}`);
      else if (m.type === 'eof_complete') eofComplete = true;
      else if (m.is_final && m.text) finals.push(m.text);
    });
  });
  await greeted;
  // From here a transport failure is one of the session's results, not an unhandled 'error' event.
  ws.on('error', (err) => errors.push(err.message));
  const clip = pcmBytes(lowHighClip(16000));
  let stopping = false;
  let clipsSent = 0;
  const streaming = (async () => {
    const started = performance.now();
    let sentSeconds = 0;
    while (!stopping && ws.readyState === WebSocket.OPEN) {
      for (let o = 0; o < clip.length && ws.readyState === WebSocket.OPEN; o += 3200) {
        ws.send(clip.subarray(o, o + 3200));
        sentSeconds += 0.1;
        await sleep(Math.max(0, started + sentSeconds * 1000 - performance.now()));
      }
      if (ws.readyState === WebSocket.OPEN) clipsSent++;
    }
  })();
  return {
    closed,
    async stop() {
      stopping = true;
      await streaming;
      if (ws.readyState === WebSocket.OPEN) {
        ws.send(JSON.stringify({ command: 'eof' }));
        const deadline = Date.now() + 10_000;
        while (!eofComplete && ws.readyState === WebSocket.OPEN && Date.now() < deadline) await sleep(50);
        ws.close(1000);
      }
      return { clipsSent, finals, errors, closeCode: await closed, eofComplete };
    },
  };
}

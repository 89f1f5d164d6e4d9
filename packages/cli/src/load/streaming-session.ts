import { AsrctlClient } from '@asrctl/server';
import { lowHighClip, pcmBytes } from '@asrctl/tone-model';

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
  const client = await AsrctlClient.connect(url);
  await client.greeting();
  const clip = pcmBytes(lowHighClip(16000));
  let stopping = false;
  let clipsSent = 0;
  const frames = Math.ceil(clip.length / 3200);
  const streaming = (async () => {
    while (!stopping && client.ws.readyState === client.ws.OPEN) {
      // Whole clips: a clip cut short could end in a final that is not the clip's words.
      const sent = await client.stream(clip, { pace: 1 });
      if (sent === frames && client.ws.readyState === client.ws.OPEN) clipsSent++;
    }
  })();
  return {
    closed: client.closed,
    async stop() {
      stopping = true;
      await streaming;
      let eofComplete = false;
      if (client.ws.readyState === client.ws.OPEN) {
        client.send({ command: 'eof' });
        eofComplete = await client.nextType('eof_complete', 10_000).then(
          () => true,
          () => false,
        );
        client.ws.close(1000);
      }
      // A transport failure is one of the session's results.
      const errors = client.messages.filter((m) => m.type === 'error').map((m) => String(m.message));
      if (client.failure) errors.push(client.failure.message);
      return {
        clipsSent,
        finals: client.finals().flatMap((f) => (f.text ? [f.text] : [])),
        errors,
        closeCode: await client.closed,
        eofComplete,
      };
    },
  };
}

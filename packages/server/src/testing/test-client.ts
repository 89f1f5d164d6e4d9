import WebSocket from 'ws';

export type ServerMessage = Record<string, unknown> & { type?: string; is_final?: boolean; text?: string };

/**
 * A WebSocket client for tests: records every message and waits for the next one matching a
 * predicate (messages already received count), so assertions read in protocol order.
 */
export class TestClient {
  readonly messages: ServerMessage[] = [];
  private cursor = 0;
  private waiters: Array<() => void> = [];
  closeCode: number | undefined;
  closeReason = '';
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) this.messages.push(JSON.parse(data.toString('utf8')) as ServerMessage);
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code: number, reason: Buffer) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.wake();
        resolve(code);
      }),
    );
  }

  static connect(url: string, options: { headers?: Record<string, string> } = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, ...(options.headers && { headers: options.headers }) });
      const client = new TestClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  send(message: object | string): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Sends PCM16 bytes in frames of `frameBytes` (any length, odd included). */
  sendAudio(pcm: Buffer, frameBytes = 3200): void {
    for (let o = 0; o < pcm.length; o += frameBytes) this.ws.send(pcm.subarray(o, o + frameBytes));
  }

  /** Sends 100 ms frames 100 ms apart, as a microphone would. */
  async sendAudioInRealTime(pcm: Buffer, sampleRate = 16000): Promise<void> {
    const frameBytes = (sampleRate / 10) * 2;
    const started = Date.now();
    for (let i = 0; i * frameBytes < pcm.length; i++) {
      await new Promise((r) => setTimeout(r, Math.max(0, started + i * 100 - Date.now())));
      this.ws.send(pcm.subarray(i * frameBytes, (i + 1) * frameBytes));
    }
  }

  /** The next message after the previous match that satisfies `predicate`. */
  async next(predicate: (m: ServerMessage) => boolean, what = 'message', timeoutMs = 20_000): Promise<ServerMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (; this.cursor < this.messages.length; this.cursor++) {
        const m = this.messages[this.cursor]!;
        if (predicate(m)) {
          this.cursor++;
          return m;
        }
      }
      if (this.closeCode !== undefined)
        throw new Error(`connection closed (${this.closeCode}) while waiting for ${what}; got ${JSON.stringify(this.messages)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  nextType(type: string): Promise<ServerMessage> {
    return this.next((m) => m.type === type, `"${type}"`);
  }

  nextFinal(): Promise<ServerMessage> {
    return this.next((m) => m.is_final === true, 'a final result');
  }

  /** Finals received so far, in order. */
  finals(): ServerMessage[] {
    return this.messages.filter((m) => m.is_final === true);
  }

  close(): Promise<number> {
    this.ws.close(1000);
    return this.closed;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

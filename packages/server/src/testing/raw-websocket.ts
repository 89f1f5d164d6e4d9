import { randomBytes } from 'node:crypto';
import { type Socket, connect } from 'node:net';

/**
 * A WebSocket client written by hand on a TCP socket, for attacks a WebSocket library would not
 * make: after the handshake the socket is paused, so the client never reads a reply and the
 * server's unsent bytes pile up.
 */
export class RawWebSocket {
  private constructor(readonly socket: Socket) {}

  static open(port: number, path = '/'): Promise<RawWebSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () =>
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
            `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
        ),
      );
      let head = '';
      const onData = (chunk: Buffer): void => {
        head += chunk.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        socket.off('data', onData);
        socket.pause();
        if (head.startsWith('HTTP/1.1 101')) resolve(new RawWebSocket(socket));
        else reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
      };
      socket.on('data', onData);
      socket.on('error', reject);
    });
  }

  /** Sends frames without waiting for the kernel; resolves once all are handed to it. */
  send(frames: Buffer[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(Buffer.concat(frames), (err) => (err ? reject(err) : resolve()));
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** One masked client frame: opcode 1 text, 2 binary, 10 pong. */
export function clientFrame(opcode: 1 | 2 | 10, payload: Buffer | string): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const length = data.length;
  const header =
    length < 126
      ? Buffer.from([0x80 | opcode, 0x80 | length])
      : length < 65536
        ? Buffer.from([0x80 | opcode, 0x80 | 126, length >> 8, length & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | 127]), bigEndian64(length)]);
  const mask = randomBytes(4);
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i++) masked[i] = data[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

function bigEndian64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** Samples this process's RSS every 50 ms until stopped; returns the peak in MiB. */
export function sampleRss(): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss()) / 1024 / 1024;
    },
  };
}

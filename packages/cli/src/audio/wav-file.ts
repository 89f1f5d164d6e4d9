import { readFile } from 'node:fs/promises';
import { MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, isSupportedSampleRate } from '@asrctl/server';
import { CliError } from '../cli-error.js';

export interface PcmAudio {
  /** Mono PCM16 samples. */
  samples: Int16Array;
  sampleRate: number;
  /** Channels in the file (downmixed to mono here). */
  sourceChannels: number;
  /** Audio bytes the data chunk declares that the file does not hold (a copy cut short); 0 when whole. */
  missingBytes: number;
}

const FORMAT_PCM = 1;
const FORMAT_EXTENSIBLE = 0xfffe;

/** Reads a PCM16 WAV of any rate and channel count; channels are averaged to mono. */
export async function readWavFile(path: string): Promise<PcmAudio> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new CliError(
      'invalid_wav',
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
  return decodeWav(bytes, path);
}

export function decodeWav(bytes: Buffer, name = 'input'): PcmAudio {
  if (bytes.length < 12 || bytes.toString('ascii', 0, 4) !== 'RIFF' || bytes.toString('ascii', 8, 12) !== 'WAVE') {
    throw new CliError('invalid_wav', `${name} is not a WAV file (no RIFF/WAVE header)`);
  }
  let format: { tag: number; channels: number; rate: number; bits: number } | undefined;
  let data: Buffer | undefined;
  let missingBytes = 0;
  for (let o = 12; o + 8 <= bytes.length;) {
    const id = bytes.toString('ascii', o, o + 4);
    const declared = bytes.readUInt32LE(o + 4);
    // Streamed WAVs leave sizes at 0 or 0xFFFFFFFF: the data then runs to the end of the file.
    const size = Math.min(declared, bytes.length - o - 8);
    if (id === 'fmt ') {
      if (size < 16) throw new CliError('invalid_wav', `${name} is cut short or damaged: its "fmt " chunk has ${size} of 16 bytes`);
      let tag = bytes.readUInt16LE(o + 8);
      if (tag === FORMAT_EXTENSIBLE && size >= 40) tag = bytes.readUInt16LE(o + 8 + 24);
      format = { tag, channels: bytes.readUInt16LE(o + 10), rate: bytes.readUInt32LE(o + 12), bits: bytes.readUInt16LE(o + 22) };
    } else if (id === 'data') {
      data = bytes.subarray(o + 8, o + 8 + (declared === 0 ? bytes.length - o - 8 : size));
      // Streamed WAVs declare 0 or 0xFFFFFFFF: nothing is missing from them.
      if (declared !== 0 && declared !== 0xffffffff) missingBytes = declared - data.length;
      break;
    }
    o += 8 + size + (size % 2);
  }
  if (!format) throw new CliError('invalid_wav', `${name} has no "fmt " chunk`);
  if (!data) throw new CliError('invalid_wav', `${name} has no "data" chunk`);
  if (format.tag !== FORMAT_PCM || format.bits !== 16) {
    const what = format.tag === FORMAT_PCM ? `${format.bits}-bit PCM` : `format ${format.tag} (not integer PCM)`;
    throw new CliError(
      'invalid_wav',
      `${name} is ${what}; 16-bit PCM is needed (convert with: sox ${name} -b 16 -e signed-integer out.wav)`,
    );
  }
  if (format.channels < 1) throw new CliError('invalid_wav', `${name} declares ${format.channels} channels`);
  const frames = Math.floor(data.length / (2 * format.channels));
  const samples = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < format.channels; c++) sum += data.readInt16LE(2 * (i * format.channels + c));
    samples[i] = Math.round(sum / format.channels);
  }
  return { samples, sampleRate: format.rate, sourceChannels: format.channels, missingBytes };
}

/** Why no server would take this audio's rate (8 to 48 kHz), naming `name`; undefined when one would. */
export function unsupportedRate(name: string, audio: PcmAudio): string | undefined {
  return isSupportedSampleRate(audio.sampleRate)
    ? undefined
    : `${name} is ${audio.sampleRate} Hz; servers take ${MIN_SAMPLE_RATE} to ${MAX_SAMPLE_RATE} Hz`;
}

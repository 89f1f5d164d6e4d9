import { encodeWav, synthesize } from '@asrctl/tone-model';
import { describe, expect, it } from 'vitest';
import { decodeWav } from './wav-file.js';
import { CliError } from '../cli-error.js';

const mono = synthesize([{ tone: 500, seconds: 0.05 }], { sampleRate: 22050 });

describe('decodeWav', () => {
  it('reads mono PCM16 as is', () => {
    const audio = decodeWav(encodeWav(mono, 22050));
    expect(audio.sampleRate).toBe(22050);
    expect(audio.sourceChannels).toBe(1);
    expect(audio.samples).toEqual(mono);
  });

  it('averages stereo to mono', () => {
    const stereo = new Int16Array(mono.length * 2);
    mono.forEach((v, i) => {
      stereo[2 * i] = v;
      stereo[2 * i + 1] = 0;
    });
    const audio = decodeWav(encodeWav(stereo, 44100, 2));
    expect(audio.sourceChannels).toBe(2);
    expect(audio.samples.length).toBe(mono.length);
    expect(audio.samples[100]).toBe(Math.round(mono[100]! / 2));
  });

  it('skips unknown chunks and reads WAVE_FORMAT_EXTENSIBLE PCM', () => {
    const plain = encodeWav(mono, 16000);
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc'), Buffer.from([0])]);
    const fmt = Buffer.alloc(8 + 40);
    fmt.write('fmt ', 0, 'ascii');
    fmt.writeUInt32LE(40, 4);
    fmt.writeUInt16LE(0xfffe, 8);
    fmt.writeUInt16LE(1, 10);
    fmt.writeUInt32LE(16000, 12);
    fmt.writeUInt32LE(32000, 16);
    fmt.writeUInt16LE(2, 20);
    fmt.writeUInt16LE(16, 22);
    fmt.writeUInt16LE(22, 24);
    fmt.writeUInt16LE(16, 26);
    fmt.writeUInt16LE(1, 32); // sub-format GUID starts with the PCM tag
    const wav = Buffer.concat([plain.subarray(0, 12), list, fmt, plain.subarray(36)]);
    expect(decodeWav(wav).samples).toEqual(mono);
  });

  it('explains what it cannot read', () => {
    expect(() => decodeWav(Buffer.from('hello world, not audio'), 'x.wav')).toThrow(
      new CliError('invalid_wav', 'x.wav is not a WAV file (no RIFF/WAVE header)'),
    );
    const wav24 = encodeWav(mono, 16000);
    wav24.writeUInt16LE(24, 34);
    expect(() => decodeWav(wav24, 'deep.wav')).toThrow(/deep\.wav is 24-bit PCM; 16-bit PCM is needed \(convert with: sox/);
    const float = encodeWav(mono, 16000);
    float.writeUInt16LE(3, 20);
    expect(() => decodeWav(float, 'f.wav')).toThrow(/format 3 \(not integer PCM\)/);
    // A copy cut short says how much is missing; a streamed WAV (size 0) is whole.
    const whole = encodeWav(mono, 16000);
    expect(decodeWav(whole.subarray(0, whole.length - 100)).missingBytes).toBe(100);
    expect(decodeWav(whole).missingBytes).toBe(0);
    // Before, Node's own RangeError about an offset out of range.
    expect(() => decodeWav(encodeWav(mono, 16000).subarray(0, 30), 'cut.wav')).toThrow(
      new CliError('invalid_wav', 'cut.wav is cut short or damaged: its "fmt " chunk has 10 of 16 bytes'),
    );
  });
});

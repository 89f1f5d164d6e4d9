import { type Command, Option } from 'commander';
import { MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, webSocketUrl, wholeNumber } from '@asrctl/server';
import { CliError } from '../cli-error.js';
import { readWavFile, unsupportedRate } from '../audio/wav-file.js';
import type { TranscriptMessage } from '@asrctl/server';
import { transcribe } from '../client/transcription-client.js';
import { parsedAs } from '../options/commander-options.js';

interface TranscribeCommandOptions {
  url: string;
  language?: string;
  realtime?: boolean;
  words?: boolean;
  json?: boolean;
  timeout: number;
}

/** `asrctl transcribe FILE.wav`: finals on stdout, partials on stderr, non-zero exit on any error. */
export function registerTranscribe(program: Command): void {
  program
    .command('transcribe')
    .description(
      `stream a WAV file (PCM16, ${MIN_SAMPLE_RATE / 1000} to ${MAX_SAMPLE_RATE / 1000} kHz, mono or stereo) to a server and print the transcript`,
    )
    .argument('<file>', 'WAV file')
    .addOption(
      new Option('--url <url>', 'server WebSocket URL')
        .env('ASR_URL')
        .default('ws://localhost:8765')
        .argParser(parsedAs(webSocketUrl, 'url')),
    )
    .option(
      '--language <lang>',
      "switch to this language first (cn, en, ...; auto: the server picks each utterance's language, shown before each final)",
    )
    .option('--realtime', 'send audio at its own pace, like a microphone')
    .option('--words', 'ask for word times (shown with --json)')
    .option('--json', 'print each final as a JSON line')
    .option('--timeout <ms>', 'how long to wait for the server at each step', parsedAs(wholeNumber(1, 3_600_000), 'timeout'), 30_000)
    .action(async (file: string, options: TranscribeCommandOptions) => {
      const audio = await readWavFile(file);
      const rate = unsupportedRate(file, audio);
      if (rate) throw new CliError('invalid_wav', `${rate} (convert with: sox ${file} -r 16000 out.wav)`);
      if (audio.missingBytes > 0)
        process.stderr.write(
          `asrctl: ${file} is cut short: ${(audio.missingBytes / 2 / audio.sampleRate / audio.sourceChannels).toFixed(1)} s of the audio its header declares is missing; transcribing what there is\n`,
        );
      const live = process.stderr.isTTY;
      const clearPartial = (): void => {
        if (live) process.stderr.write('\r\x1b[2K');
      };
      const onPartial = (t: TranscriptMessage): void => {
        if (live) process.stderr.write(`\r\x1b[2K… ${t.text}`);
        else process.stderr.write(`partial: ${t.text}\n`);
      };
      const onFinal = (t: TranscriptMessage): void => {
        clearPartial();
        const line = options.language === 'auto' ? `[${t.language}] ${t.text}` : t.text;
        process.stdout.write(options.json ? `${JSON.stringify(t)}\n` : `${line}\n`);
      };
      try {
        await transcribe({
          url: options.url,
          samples: audio.samples,
          sampleRate: audio.sampleRate,
          language: options.language,
          realtime: options.realtime,
          words: options.words,
          timeoutMs: options.timeout,
          onPartial,
          onFinal,
        });
      } finally {
        clearPartial();
      }
    });
}

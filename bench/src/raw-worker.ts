import { parentPort, workerData } from 'node:worker_threads';
import { libvosk } from '@asrctl/server';

/**
 * One thread of the raw-limit measurement: libvosk called directly and synchronously, no queue,
 * no sockets, no JSON beyond what libvosk itself produces.
 */
interface RawJob {
  modelDir: string;
  pcm: Uint8Array;
  chunkBytes: number;
  sampleRate: number;
}

const job = workerData as RawJob;
const lib = libvosk();
lib.setLogLevel(-1);
const model = lib.modelNew(job.modelDir);
if (!model) throw new Error(`cannot load ${job.modelDir}`);
const recognizer = lib.recognizerNew(model, job.sampleRate);
if (!recognizer) throw new Error('cannot create a recognizer');
const pcm = Buffer.from(job.pcm.buffer, job.pcm.byteOffset, job.pcm.byteLength);

parentPort!.once('message', () => {
  const started = process.hrtime.bigint();
  const endpoints: number[] = [];
  for (let o = 0; o < pcm.length; o += job.chunkBytes) {
    const chunk = pcm.subarray(o, o + job.chunkBytes);
    if (lib.acceptWaveform(recognizer, chunk, chunk.length) === 1) {
      const text = (JSON.parse(lib.result(recognizer)) as { text: string }).text;
      if (text) endpoints.push((o + chunk.length) / 2 / job.sampleRate);
    } else {
      lib.partialResult(recognizer);
    }
  }
  lib.finalResult(recognizer);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  lib.recognizerFree(recognizer);
  lib.modelFree(model);
  parentPort!.postMessage({ seconds, endpoints });
});
parentPort!.postMessage('loaded');

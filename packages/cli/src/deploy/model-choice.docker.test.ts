import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { type Segment, type ToneWord, parseToneWords, synthesize, toneWordsFor, writeToneModel } from '@asrctl/tone-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transcribe } from '../client/transcription-client.js';
import { dockerForTests, freePort, removeTestDeployment, stopAfterFirstFailure, testDeployConfig } from '../testing/docker-fixture.js';
import { deploy, plainPhaseRunner } from './deploy.js';
import { deploymentNames } from '../deployment/deployment-names.js';

const project = `asrmodels${process.pid}`;
const CN = parseToneWords('低:700,中:1400,高:2800');
const STANDARD_CN = parseToneWords('甲:700,丙:1400,乙:2800');

/**
 * A deployment with two Chinese models side by side (small and a stand-in for the standard one)
 * and automatic language as the default: every model verified by name through the public port,
 * each mounted under its own name, and a clip switching language transcribed with no switch.
 */
describe('asrctl deploy with several models per language and automatic language', () => {
  let docker: Docker;
  let dir: string;
  let port: number;
  const lines: string[] = [];
  stopAfterFirstFailure();

  beforeAll(async () => {
    docker = await dockerForTests();
    port = await freePort();
    dir = await mkdtemp(join(tmpdir(), 'asrctl-model-choice-'));
    await writeToneModel(join(dir, 'cn'), { words: CN });
    await writeToneModel(join(dir, 'vosk-model-cn-0.22'), { words: STANDARD_CN });
    await writeToneModel(join(dir, 'en'), { words: toneWordsFor('en') });
  }, 120_000);

  afterAll(async () => {
    if (docker) await removeTestDeployment(docker, project);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it('verifies every model by name, mounts each under its name, and picks each utterance’s language by itself', async () => {
    const config = testDeployConfig(
      project,
      port,
      { dir, cn: '', en: '', remove: async () => undefined },
      {
        strategy: 'recreate',
        model: [`cn=${join(dir, 'cn')}`, `cn=${join(dir, 'vosk-model-cn-0.22')}`, `en=${join(dir, 'en')}`],
        defaultLanguage: 'auto',
      },
    );
    const report = await deploy(
      docker,
      config,
      plainPhaseRunner((l) => void lines.push(l)),
      { say: (l) => void lines.push(l) },
    );
    expect(report.heard).toEqual({ cn: '低 高', 'cn vosk-model-cn-0.22': '甲 乙', en: 'low high' });
    const app = await docker.getContainer(deploymentNames(project).app('blue')).inspect();
    // Sorted: docker inspect lists a container's mounts in no fixed order.
    expect(
      app.Mounts.filter((m) => m.Destination.startsWith('/models/'))
        .map((m) => m.Destination)
        .sort(),
    ).toEqual(['/models/cn', '/models/en', '/models/vosk-model-cn-0.22']);

    // en, cn, cn, en with no switch command: the server's default language is auto.
    const utterance = (words: readonly ToneWord[], a: number, b: number): Segment[] => [
      { tone: words[a]!.hz, seconds: 0.4 },
      { silence: 0.3 },
      { tone: words[b]!.hz, seconds: 0.4 },
      { silence: 1.0 },
    ];
    const en = toneWordsFor('en');
    const clip = synthesize([
      { silence: 0.5 },
      ...utterance(en, 0, 2),
      ...utterance(CN, 2, 0),
      ...utterance(CN, 1, 2),
      ...utterance(en, 2, 1),
    ]);
    const finals = await transcribe({ url: `ws://127.0.0.1:${port}/`, samples: clip, sampleRate: 16000 });
    expect(finals.map((f) => [f.language, f.text, f.mode])).toEqual([
      ['en', 'low high', 'en'],
      ['cn', '高 低', 'cn'],
      ['cn', '中 高', 'cn'],
      ['en', 'high mid', 'en'],
    ]);
    const standard = await transcribe({
      url: `ws://127.0.0.1:${port}/?model=vosk-model-cn-0.22`,
      samples: clip,
      sampleRate: 16000,
      chunkSeconds: 0.1,
    });
    expect(standard.map((f) => f.text)).toEqual(['乙 甲', '丙 乙']);
  }, 300_000);
});

import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { encodeWav, lowHighClip, parseToneWords, synthesize, writeToneModel } from '@asrctl/tone-model';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AsrServer } from '../server.js';
import { type ToneModelSet, makeToneModels } from '../testing/tone-models.js';
import { startTestServer } from '../testing/test-server.js';

const PAGE_FILE = fileURLToPath(new URL('../../page/index.html', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('../../../../.artifacts/', import.meta.url));

/**
 * The test page in Debian's Chromium with a WAV as the microphone (see shared facts: the fake
 * microphone plays in real time, from the start at each getUserMedia; `%noloop` repeats the last
 * 10 ms, so the WAV ends in silence).
 */
describe('the browser test page in real Chromium', () => {
  let models: ToneModelSet;
  let server: AsrServer;
  let browser: Browser;
  let page: Page;
  let work: string;
  let microphone: string;

  beforeAll(async () => {
    models = await makeToneModels();
    // A second Chinese model that hears the tones as other words: which model decoded shows in the text.
    await writeToneModel(join(models.root, 'vosk-model-cn-0.22'), { words: parseToneWords('甲:500,丙:1000,乙:2000') });
    server = await startTestServer({}, { defaultLanguage: 'en', host: '0.0.0.0', config: { model: serverModels() } });
    work = await mkdtemp(join(tmpdir(), 'asr-page-'));
    microphone = join(work, 'microphone.wav');
    await useMicrophone('low-high');
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-audio-capture=${microphone}%noloop`,
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.drain(1000);
    await models?.remove();
    await rm(work, { recursive: true, force: true });
  });

  beforeEach(async () => {
    await page?.close();
    page = await browser.newPage();
  });

  const serverModels = (): string[] => [`cn=${models.cn}`, `cn=${join(models.root, 'vosk-model-cn-0.22')}`, `en=${models.en}`];

  /** Replaces what the fake microphone plays at the next getUserMedia. */
  async function useMicrophone(kind: 'low-high' | 'long'): Promise<void> {
    const clip = lowHighClip(16000);
    const silence = synthesize([{ silence: 0.5 }], { sampleRate: 16000 });
    const body = kind === 'low-high' ? [silence, clip, silence, silence] : [silence, ...Array<Int16Array>(8).fill(clip), silence];
    const samples = new Int16Array(body.reduce((n, b) => n + b.length, 0));
    let offset = 0;
    for (const b of body) {
      samples.set(b, offset);
      offset += b.length;
    }
    await writeFile(microphone, encodeWav(samples, 16000));
  }

  const finals = (): Promise<string[]> => page.locator('#finals li span').allTextContents();
  const waitForFinal = (text: string, timeout = 15_000) => page.locator('#finals li span', { hasText: text }).first().waitFor({ timeout });
  const status = (): Promise<string> => page.locator('#status').innerText();

  it('served at / over http://localhost: connects by itself, recognizes the microphone, stops with the last final', async () => {
    await page.goto(`http://localhost:${server.port}/`);
    await expect.poll(status).toMatch(/^Connected · cn, en$/u);
    expect(await page.locator('#url').inputValue()).toBe(`ws://localhost:${server.port}/`);
    expect(await page.locator('#language').inputValue()).toBe('en');
    // Every text the partial line shows, in order (partials may last only a few hundred ms).
    await page.evaluate(`
      window.partials = [];
      const line = document.getElementById('partial');
      new MutationObserver(() => window.partials.push(line.textContent)).observe(line, { childList: true, characterData: true, subtree: true });
    `);
    await page.click('#start');
    await expect.poll(status).toMatch(/^Listening · \d+ Hz → 16 kHz$/u);
    await waitForFinal('low high');
    expect(await page.evaluate('window.partials')).toContain('low');
    const level = await page.locator('#level').getAttribute('style');
    expect(level).toMatch(/width: \d+%/u);
    await page.click('#stop');
    await expect.poll(status).toBe('Stopped · the last final is shown');
    expect(await finals()).toEqual(['low high']);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'test-page-session.png'), fullPage: true });
  });

  it('switches to cn and shows Chinese text; reset starts the recognizer afresh', async () => {
    await page.goto(`http://127.0.0.1:${server.port}/`);
    await expect.poll(status).toMatch(/^Connected/u);
    await page.selectOption('#language', 'cn');
    await expect.poll(status).toBe('Language: cn');
    await page.click('#start');
    await waitForFinal('低 高');
    await page.click('#reset');
    await expect.poll(status).toBe('Reset: the recognizer starts afresh');
    expect(await page.locator('#partial').innerText()).toBe('');
    await page.click('#stop');
    await expect.poll(status).toBe('Stopped · the last final is shown');
    expect(await finals()).toEqual(['低 高']);
    expect(await page.locator('#error').innerText()).toBe('');
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'test-page-session-cn.png'), fullPage: true });
  });

  it('lists every model from the greeting and switches by name (small and standard Chinese side by side)', async () => {
    await page.goto(`http://127.0.0.1:${server.port}/`);
    await expect.poll(status).toMatch(/^Connected/u);
    expect(await page.locator('#model option').allTextContents()).toEqual(['tone-cn (cn)', 'vosk-model-cn-0.22 (cn)', 'tone-en (en)']);
    expect(await page.locator('#model').inputValue()).toBe('tone-en');
    await page.selectOption('#model', 'vosk-model-cn-0.22');
    await expect.poll(status).toBe('Model: vosk-model-cn-0.22 (cn)');
    expect(await page.locator('#language').inputValue()).toBe('cn');
    await page.click('#start');
    await waitForFinal('甲 乙');
    await page.click('#stop');
    await expect.poll(status).toBe('Stopped · the last final is shown');
    expect(await finals()).toEqual(['甲 乙']);
  });

  it('offers auto: the server picks the language, and each final says which', async () => {
    await page.goto(`http://127.0.0.1:${server.port}/`);
    await expect.poll(status).toMatch(/^Connected/u);
    expect(await page.locator('#language option').evaluateAll((os) => os.map((o) => o.getAttribute('value')))).toEqual([
      'cn',
      'en',
      'auto',
    ]);
    await page.selectOption('#language', 'auto');
    await expect.poll(status).toBe('Language: auto');
    await page.click('#start');
    await waitForFinal('low high');
    expect(await page.locator('#finals li time').first().innerText()).toMatch(/ · en$/u);
    await page.click('#stop');
    await expect.poll(status).toBe('Stopped · the last final is shown');
  });

  it('works opened from disk (file://) with the server address typed in', async () => {
    const copy = join(work, 'asr-test-page.html');
    await copyFile(PAGE_FILE, copy);
    await page.goto(pathToFileURL(copy).href);
    expect(await status()).toBe('Not connected');
    expect(await page.locator('#url').inputValue()).toBe('ws://localhost:8765/');
    await page.fill('#url', `ws://127.0.0.1:${server.port}/`);
    await page.click('#connect');
    await expect.poll(status).toMatch(/^Connected/u);
    await page.click('#start');
    await waitForFinal('low high');
  });

  it('says how to get the microphone when served over plain http from another host', async () => {
    const address = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    expect(address).toBeDefined();
    await page.goto(`http://${address}:${server.port}/`);
    await expect.poll(() => page.locator('#hint').innerText()).toContain(`came over plain http from ${address}:${server.port}`);
    expect(await page.locator('#hint').innerText()).toMatch(/https:\/\/.*open the file from disk/u);
    await expect.poll(status).toMatch(/^Connected/u);
    expect(await page.locator('#start').isDisabled()).toBe(true);
  });

  it('shows the server restarting mid-session and reconnects by itself', async () => {
    await useMicrophone('long');
    try {
      await page.goto(`http://localhost:${server.port}/`);
      await expect.poll(status).toMatch(/^Connected/u);
      await page.click('#start');
      await waitForFinal('low high');
      // A choice the user made survives the reconnect.
      await page.selectOption('#language', 'auto');
      await expect.poll(status).toBe('Language: auto');
      const port = server.port;
      await server.drain(2000);
      await expect.poll(status).toMatch(/^The server is restarting \(code 1012\); reconnecting…$/u);
      server = await startTestServer({}, { defaultLanguage: 'en', host: '0.0.0.0', port, config: { model: serverModels() } });
      await expect.poll(status, { timeout: 15_000 }).toBe('Language: auto');
      expect(await page.locator('#language').inputValue()).toBe('auto');
      await useMicrophone('low-high');
      await page.click('#start');
      await expect.poll(async () => (await finals()).length, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
      expect((await finals())[0]).toBe('low high');
    } finally {
      await useMicrophone('low-high');
    }
  });
});

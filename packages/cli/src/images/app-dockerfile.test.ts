import { readFileSync } from 'node:fs';
import { SERVER_OPTIONS, envOf, inputFromEnv, resolveOptions } from '@asrctl/server';
import { describe, expect, it } from 'vitest';
import { APP_PORT } from '../deployment/ports.js';

const DOCKERFILE = readFileSync(new URL('../../../../docker/Dockerfile', import.meta.url), 'utf8');

/** The Dockerfile's instructions, comments dropped and continued lines joined: [keyword, arguments]. */
const instructions = DOCKERFILE.split('\n')
  .filter((line) => !line.trimStart().startsWith('#'))
  .join('\n')
  .replace(/\\\n\s*/gu, ' ')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => /^(\S+)\s+(.*)$/u.exec(line.trim())!.slice(1) as [string, string]);
const argumentsOf = (keyword: string): string[] => instructions.filter(([k]) => k === keyword).map(([, args]) => args);

/** What the image's ENV instructions set (the `NAME=value` form; values without spaces or quotes). */
const imageEnv: Record<string, string> = Object.fromEntries(
  argumentsOf('ENV')
    .flatMap((args) => args.split(/\s+/u))
    .map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new Error(`docker/Dockerfile: ENV ${pair}: write ENV NAME=value, which this test reads`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
);

const serverVariables = Object.entries(SERVER_OPTIONS.options)
  .filter(([, spec]) => !('customEnv' in spec && spec.customEnv))
  .map(([key]) => envOf(SERVER_OPTIONS, key));

describe('docker/Dockerfile (the app image)', () => {
  it("sets the server's settings by the option table's names, with values the server accepts", () => {
    const serverSettings = Object.keys(imageEnv).filter((name) => name.startsWith(SERVER_OPTIONS.envPrefix));
    expect(serverSettings.length).toBeGreaterThan(0);
    expect(serverSettings.filter((name) => !serverVariables.includes(name))).toEqual([]);
    const problems: string[] = [];
    const settings = resolveOptions(SERVER_OPTIONS, [inputFromEnv(SERVER_OPTIONS, imageEnv)], problems);
    expect(problems).toEqual([]);
    // The deploy publishes and probes the app on APP_PORT and sets no port of its own.
    expect(settings.port).toBe(APP_PORT);
    expect(argumentsOf('EXPOSE').flatMap((args) => args.split(/\s+/u))).toContain(String(APP_PORT));
  });

  it("health check reads the port's variable, falling back to the table's default as the server does", () => {
    const [healthCheck = ''] = argumentsOf('HEALTHCHECK');
    const fallback = new RegExp(String.raw`process\.env\.${envOf(SERVER_OPTIONS, 'port')}\|\|(\d+)`, 'u').exec(healthCheck);
    expect(fallback, `HEALTHCHECK reads process.env.${envOf(SERVER_OPTIONS, 'port')}: ${healthCheck}`).not.toBeNull();
    expect(Number(fallback![1])).toBe(SERVER_OPTIONS.options.port.default);
  });
});

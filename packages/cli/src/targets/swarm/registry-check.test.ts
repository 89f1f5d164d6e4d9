import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCliError } from '../../cli-error.js';
import { checkRegistryAnswers } from './registry-check.js';

describe('checkRegistryAnswers', () => {
  const server = createServer((req, res) => {
    // A registry that wants a login answers 401: it is there all the same.
    res.writeHead(req.url === '/v2/' ? 401 : 404).end();
  });
  let port: number;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('accepts a registry that answers GET /v2/, and names the one that does not before anything is built', async () => {
    await expect(checkRegistryAnswers(`127.0.0.1:${port}/team`)).resolves.toBeUndefined();

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await checkRegistryAnswers(`127.0.0.1:${closedPort}`).catch((e: unknown) => e);
    expect(isCliError(err, 'environment_unfit')).toBe(true);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^the registry 127\\.0\\.0\\.1:${closedPort} does not answer \\(http://127\\.0\\.0\\.1:${closedPort}/v2/: ECONNREFUSED; https://127\\.0\\.0\\.1:${closedPort}/v2/: ECONNREFUSED\\)\\n {2}hint: start the registry`,
        'u',
      ),
    );
  });
});

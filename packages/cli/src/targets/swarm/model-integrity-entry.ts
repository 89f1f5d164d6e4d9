/**
 * The entry point of an app image that carries its models (see model-images.ts): before the server
 * starts, every model under /models is rehashed against the manifest that travelled with it. A
 * model whose files do not match stops the task (exit 1) before it listens, so its health check
 * never passes and the edge never sends it a session. Plain Node (no shell in the base image).
 */
export const MODEL_INTEGRITY_ENTRY = `import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

const MANIFEST = 'asrctl-manifest.json';
const root = process.env.ASR_MODELS_ROOT ?? '/models';
const log = (level, fields) => console.log(JSON.stringify({ level, ...fields }));

async function hashFile(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}

async function files(dir, top = dir) {
  const found = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await files(path, top)));
    else if (!(dir === top && entry.name === MANIFEST)) found.push(relative(top, path));
  }
  return found;
}

async function problemsOf(dir) {
  let manifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8'));
  } catch (err) {
    return [\`no readable \${MANIFEST}: \${err.message}\`];
  }
  const problems = [];
  const present = new Set(await files(dir));
  for (const [path, expected] of Object.entries(manifest.files ?? {})) {
    if (!present.delete(path)) problems.push(\`\${path} is missing\`);
    else if ((await hashFile(join(dir, path))) !== expected.sha256) problems.push(\`\${path} does not match its sha256\`);
  }
  for (const path of present) problems.push(\`\${path} is not part of the model\`);
  return problems;
}

let failed = false;
for (const name of (await readdir(root)).sort()) {
  const started = performance.now();
  const problems = await problemsOf(join(root, name));
  if (problems.length > 0) {
    failed = true;
    log('error', { event: 'model-integrity', model: name, ok: false, problems: problems.slice(0, 10), hint: 'deploy again: the model image is rebuilt and pushed from the manager' });
  } else {
    log('info', { event: 'model-integrity', model: name, ok: true, ms: Math.round(performance.now() - started) });
  }
}
if (failed) process.exit(1);
await import(process.env.ASR_SERVER_ENTRY ?? '/app/dist/main.cjs');
`;

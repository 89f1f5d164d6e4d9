import {
  addressRange,
  byteSize,
  decimalNumber,
  defineOptions,
  ipAddress,
  languageModel,
  matching,
  oneOf,
  webUrl,
  wholeNumber,
} from '@asrctl/server';
import { DEFAULT_MODELS } from '../models/model-catalog.js';
import { PROJECT_NAME } from '../deployment/deployment-names.js';
import { TARGETS } from '../targets/index.js';
import { MAX_REPLICAS } from '../targets/swarm/max-replicas.js';

/**
 * The least --memory, in MiB. The server with two tone models (the smallest models there are; two
 * decode threads on 2 cores) was killed out of memory at start in a container limited to 56m and
 * served at 60m and 64m (measured with `asrctl serve` on the node base image). Docker refuses
 * under 6m; the environment check refuses less than the models' estimate, but only at the engine.
 */
const MIN_MEMORY_MIB = 64;

/** A setting only some targets take says which, from their declarations: `swarm: app tasks`. */
const onlyOn = (key: string, help: string): string =>
  `${TARGETS.filter((t) => (t.options as readonly string[]).includes(key))
    .map((t) => t.name)
    .join(', ')}: ${help}`;

/**
 * Every setting of `deploy`, `restart` and `render`, declared once: flags, ASRCTL_* variables,
 * config file keys, help and the table in docs/deploy.md derive from it. The order is the order
 * in which problems are told.
 */
export const DEPLOY_OPTIONS = defineOptions({
  program: 'deploy',
  envPrefix: 'ASRCTL_',
  options: {
    project: {
      arg: 'NAME',
      help: 'deployment name; several may share a host',
      doc: 'several deployments per host; containers carry compose labels, so `docker compose -p NAME ps` shows them',
      type: matching(PROJECT_NAME, 'use lower-case letters, digits, - and _ (at most 41 characters)'),
      default: 'asrctl',
    },
    port: { arg: 'N', help: 'the public port', type: wholeNumber(1, 65535), default: 8765 },
    voskPort: {
      arg: 'N',
      help: 'port for vosk-server clients, every path (0: off)',
      label: 'vosk port (0: off)',
      type: wholeNumber(0, 65535),
      default: 2700,
    },
    funasrPort: {
      arg: 'N',
      help: 'port for FunASR clients, every path (0: off)',
      label: 'funasr port (0: off)',
      type: wholeNumber(0, 65535),
      default: 10095,
    },
    bind: { arg: 'ADDR', help: onlyOn('bind', 'host address the ports are published on'), type: ipAddress, default: '0.0.0.0' },
    model: {
      arg: 'LANG=MODEL',
      help: 'a catalog name (installed if missing), a name under --models-dir, or a directory; mounted read-only under its name; several per language allowed (the first is its default, clients choose others by name)',
      type: languageModel(
        'expected LANG=NAME or LANG=DIR, e.g. en=vosk-model-small-en-us-0.15 or en=/srv/models/en',
        // The app reads them as ASR_MODEL_<LANG>: letters only.
        (code) => /^[a-z]{2,3}$/u.test(code),
      ),
      multiple: true,
      default: Object.entries(DEFAULT_MODELS).map(([language, model]) => ({ language, model })),
      shownDefault: Object.entries(DEFAULT_MODELS)
        .map(([language, model]) => `${language}=${model}`)
        .join(', '),
      oldEnv: ['ASRCTL_MODELS'],
    },
    modelsDir: { arg: 'DIR', help: 'where catalog models are stored and model names are found', default: 'models' },
    mirror: {
      arg: 'URL',
      help: 'base URL serving catalog NAME.zip (a CDN, an air-gapped mirror)',
      type: webUrl,
      shownDefault: 'alphacephei.com',
      env: 'ASRCTL_MODEL_MIRROR',
      oldEnv: ['ASR_MODEL_MIRROR'],
    },
    defaultLanguage: {
      arg: 'LANG',
      help: 'language of new sessions; auto: each utterance in the language it is most believably in',
      shownDefault: 'cn, else the first model',
    },
    baseImage: { arg: 'IMAGE', help: 'base of the app image', default: 'node:20-bookworm-slim' },
    edgeBaseImage: { arg: 'IMAGE', help: 'base of the edge proxy image', default: 'debian:bookworm-slim' },
    strategy: {
      arg: 'NAME',
      help: onlyOn('strategy', 'blue-green (zero downtime) or recreate (one container, short outage)'),
      type: oneOf(['blue-green', 'recreate']),
      default: 'blue-green',
    },
    drainTimeout: {
      arg: 'S',
      help: 'how long the old app keeps its open sessions after a switch',
      label: 'drain timeout (seconds)',
      type: wholeNumber(0, 86_400),
      default: 30,
    },
    memory: {
      arg: 'SIZE',
      help: `memory limit per app container, e.g. 2g (at least ${MIN_MEMORY_MIB}m)`,
      type: byteSize(MIN_MEMORY_MIB * 1024 ** 2),
    },
    cpus: { arg: 'N', help: 'CPU limit per app container, e.g. 1.5', type: decimalNumber(0.01, 1024) },
    gpus: {
      arg: 'SPEC',
      help: onlyOn('gpus', 'GPUs for the app: all, a count, or device=0,1'),
      doc: onlyOn(
        'gpus',
        'GPUs for the app: `all`, a count, or `device=0,1`; on a host without the NVIDIA runtime the deploy says so and removes the container',
      ),
      type: matching(/^(all|\d+|device=[\w,-]+)$/u, 'expected all, a count, or device=0,1'),
    },
    tlsCert: {
      arg: 'FILE',
      help: 'certificate (PEM) for wss and https at the edge (blue-green or Swarm: recreate has no edge)',
      doc: 'certificate (PEM) for wss and https at the edge (blue-green or Swarm: recreate has no edge; the verify phase trusts exactly this certificate)',
      pairedWith: { option: 'tlsKey', problem: 'TLS needs both --tls-cert and --tls-key' },
    },
    tlsKey: { arg: 'FILE', help: 'private key (PEM) of --tls-cert' },
    allow: {
      arg: 'CIDR',
      help: 'client address range admitted at the edge (under --strategy recreate, by the app itself), IPv4 or IPv6',
      type: addressRange,
      multiple: true,
      shownDefault: 'everyone',
    },
    tokensFile: {
      arg: 'FILE',
      help: 'require a token from clients, one per line (mounted read-only into the app, never in the image; readable by its uid 1000)',
    },
    verifyWav: { arg: 'FILE', help: 'WAV to recognize through the public port after the swap', shownDefault: 'a generated tone clip' },
    verifyText: { arg: 'TEXT', help: 'text --verify-wav must produce' },
    target: {
      arg: 'WHERE',
      help: TARGETS.map((t) => `${t.name}: ${t.help}`).join('; '),
      type: oneOf(TARGETS.map((t) => t.name)),
      default: TARGETS[0]!.name,
    },
    replicas: { arg: 'N', help: onlyOn('replicas', 'app tasks'), type: wholeNumber(1, MAX_REPLICAS), shownDefault: 'as running, else 2' },
    publishMode: {
      arg: 'MODE',
      help: onlyOn('publishMode', 'host (each node its own ports, no IPVS needed) or ingress (routing mesh, needs IPVS)'),
      type: oneOf(['host', 'ingress']),
      default: 'host',
    },
    registry: {
      arg: 'HOST[:PORT][/PATH]',
      help: onlyOn('registry', 'images are pushed there so every node can pull them (needed with several nodes)'),
      type: matching(/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._/-]+)?$/iu, 'expected HOST[:PORT][/PATH], e.g. registry.example.com:5000/asr'),
    },
    constraint: {
      arg: 'EXPR',
      help: onlyOn('constraint', 'where app tasks may run, e.g. node.labels.asr-models==yes'),
      type: matching(/^[\w.-]+ *(==|!=) *\S+$/u, 'expected ATTRIBUTE==VALUE or ATTRIBUTE!=VALUE, e.g. node.labels.asr-models==yes'),
      multiple: true,
      oldEnv: ['ASRCTL_CONSTRAINTS'],
    },
  },
});

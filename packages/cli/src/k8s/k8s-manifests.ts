import { SERVER_OPTIONS, envAssignments } from '@asrctl/server';
import { stringify } from 'yaml';
import { APP_STOP_GRACE_SECONDS, TOKENS_SECRET_FILE, appEnvironment } from '../deployment/app-environment.js';
import { APP_PORT, protocolPortMap } from '../deployment/ports.js';
import type { DeployConfig, DeployInput } from '../deployment/deploy-config.js';
import { modelPath } from '../deployment/model-mount.js';
import { startPeriodFor } from '../deployment/model-loading.js';

export interface K8sRenderRequest {
  /** An image every node can pull (push it to a registry first). */
  image: string;
  replicas: number;
  /** Bytes of models on disk: sets how long the startup probe waits for them to load. */
  modelBytes: number;
  namespace?: string;
  /** The PEM certificate and key of `--tls-cert`/`--tls-key`: the pods serve wss and https from a TLS Secret. */
  tls?: { cert: string; key: string };
}

/** The deploy settings the manifests honour; `render k8s` takes only these. */
export const K8S_SETTINGS = [
  'project',
  'port',
  'voskPort',
  'funasrPort',
  'model',
  'modelsDir',
  'defaultLanguage',
  'replicas',
  'registry',
  'memory',
  'cpus',
  'drainTimeout',
  'tlsCert',
  'tlsKey',
  'allow',
  'tokensFile',
] as const satisfies ReadonlyArray<keyof DeployInput>;

/** Where the TLS Secret appears in the pod. */
const TLS_DIR = '/run/tls';

/** A Kubernetes object as plain data: what `stringify` turns into one YAML document. */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string } & Record<string, unknown> } & Record<
  string,
  unknown
>;

/** Seconds Kubernetes waits, after readiness turns 503, before SIGTERM (endpoints take a moment to update). */
const PRE_STOP_SECONDS = 5;

/**
 * The service for Kubernetes: a Deployment (readiness on /readyz, a startup probe sized for the
 * models, a preStop pause so endpoints drop the pod before SIGTERM, a grace period covering the
 * session drain), a Service, and a PodDisruptionBudget. Models come from a host path on every
 * node (the same convention as Swarm). With `--allow`, a NetworkPolicy; with `--tls-cert`, a TLS
 * Secret the pods serve wss from. NOT tested against a cluster here: structure only.
 */
export function renderK8sManifests(config: DeployConfig, request: K8sRenderRequest): K8sObject[] {
  const name = config.project;
  const labels = { 'app.kubernetes.io/name': 'asrctl', 'app.kubernetes.io/instance': name, 'app.kubernetes.io/component': 'asr' };
  const metadata = (suffix: string): K8sObject['metadata'] => ({
    name: `${name}${suffix}`,
    ...(request.namespace && { namespace: request.namespace }),
    labels,
  });
  const ports = [
    { name: 'asr', containerPort: APP_PORT },
    ...protocolPortMap(config).map((p) => ({ name: p.protocol, containerPort: p.inside })),
  ];
  const probe = (path: string, periodSeconds: number, failureThreshold: number): Record<string, unknown> => ({
    httpGet: { path, port: 'asr', ...(request.tls && { scheme: 'HTTPS' }) },
    periodSeconds,
    timeoutSeconds: 5,
    failureThreshold,
  });
  const env = appEnvironment(config, {
    behindEdge: false,
    tokensPath: `/run/secrets/${TOKENS_SECRET_FILE}`,
    sessionDrainSeconds: config.drainTimeoutSeconds,
  })
    .concat(request.tls ? envAssignments(SERVER_OPTIONS, { tlsCert: `${TLS_DIR}/tls.crt`, tlsKey: `${TLS_DIR}/tls.key` }) : [])
    .map((line) => ({ name: line.slice(0, line.indexOf('=')), value: line.slice(line.indexOf('=') + 1) }));

  const deployment: K8sObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(''),
    spec: {
      replicas: request.replicas,
      selector: { matchLabels: labels },
      // One extra pod at a time, never one fewer: as Swarm's start-first.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: PRE_STOP_SECONDS + config.drainTimeoutSeconds + APP_STOP_GRACE_SECONDS,
          securityContext: { runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true },
          containers: [
            {
              name: 'asr',
              image: request.image,
              ports,
              env,
              readinessProbe: probe('/readyz', 2, 2),
              livenessProbe: probe('/healthz', 10, 3),
              startupProbe: probe('/readyz', 2, Math.ceil(startPeriodFor(request.modelBytes) / 2)),
              lifecycle: { preStop: { exec: { command: ['node', '-e', `setTimeout(() => {}, ${PRE_STOP_SECONDS * 1000})`] } } },
              resources: {
                ...(config.memoryBytes !== undefined && { requests: { memory: String(Math.round(config.memoryBytes / 2)) } }),
                ...((config.memoryBytes !== undefined || config.cpus !== undefined) && {
                  limits: {
                    ...(config.memoryBytes !== undefined && { memory: String(config.memoryBytes) }),
                    ...(config.cpus !== undefined && { cpu: String(config.cpus) }),
                  },
                }),
              },
              securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              volumeMounts: [
                ...config.models.map((m, i) => ({ name: `model-${i}`, mountPath: modelPath(m), readOnly: true })),
                { name: 'tmp', mountPath: '/tmp' },
                ...(config.tokensFile !== undefined ? [{ name: 'tokens', mountPath: '/run/secrets', readOnly: true }] : []),
                ...(request.tls ? [{ name: 'tls', mountPath: TLS_DIR, readOnly: true }] : []),
              ],
            },
          ],
          volumes: [
            // type Directory: a node without the model does not start the pod (it says why in its events).
            ...config.models.map((m, i) => ({ name: `model-${i}`, hostPath: { path: m.hostDir, type: 'Directory' } })),
            { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
            ...(config.tokensFile !== undefined
              ? [{ name: 'tokens', secret: { secretName: `${name}-tokens`, items: [{ key: 'tokens', path: TOKENS_SECRET_FILE }] } }]
              : []),
            ...(request.tls ? [{ name: 'tls', secret: { secretName: `${name}-tls` } }] : []),
          ],
        },
      },
    },
  };
  const service: K8sObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(''),
    spec: {
      selector: labels,
      ports: [
        { name: 'asr', port: config.port, targetPort: 'asr' },
        ...protocolPortMap(config).map((p) => ({ name: p.protocol, port: p.host, targetPort: p.protocol })),
      ],
    },
  };
  const budget: K8sObject = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: metadata(''),
    spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
  };
  const tlsSecret: K8sObject[] = request.tls
    ? [
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: metadata('-tls'),
          type: 'kubernetes.io/tls',
          stringData: { 'tls.crt': request.tls.cert, 'tls.key': request.tls.key },
        },
      ]
    : [];
  // --allow as a NetworkPolicy on the pods' ports. It sees the client's own address only where the
  // path keeps it (e.g. a LoadBalancer or NodePort Service with externalTrafficPolicy: Local).
  const networkPolicy: K8sObject[] =
    config.allow.length > 0
      ? [
          {
            apiVersion: 'networking.k8s.io/v1',
            kind: 'NetworkPolicy',
            metadata: metadata(''),
            spec: {
              podSelector: { matchLabels: labels },
              policyTypes: ['Ingress'],
              ingress: [
                {
                  from: config.allow.map((range) => ({
                    ipBlock: { cidr: range.includes('/') ? range : `${range}/${range.includes(':') ? 128 : 32}` },
                  })),
                  ports: ports.map((p) => ({ protocol: 'TCP', port: p.containerPort })),
                },
              ],
            },
          },
        ]
      : [];
  return [deployment, service, budget, ...networkPolicy, ...tlsSecret];
}

/** The objects as one multi-document YAML file for `kubectl apply -f`. */
export function manifestsYaml(objects: K8sObject[]): string {
  const header = '# Rendered by asrctl render k8s. Not tested against a cluster by asrctl: review before applying.\n';
  return header + objects.map((o) => `---\n${stringify(o)}`).join('');
}

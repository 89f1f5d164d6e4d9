import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVER_OPTIONS, inputFromEnv, resolveOptions } from '@asrctl/server';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { resolveDeployConfig } from '../deployment/deploy-config.js';
import { manifestsYaml, renderK8sManifests } from './k8s-manifests.js';

const CLI = new URL('../../dist/main.cjs', import.meta.url).pathname;

interface Container {
  image: string;
  ports: Array<{ name: string; containerPort: number }>;
  env: Array<{ name: string; value: string }>;
  readinessProbe: { httpGet: { path: string; port: string } };
  startupProbe: { httpGet: { path: string }; periodSeconds: number; failureThreshold: number };
  lifecycle: { preStop: { exec: { command: string[] } } };
  securityContext: Record<string, unknown>;
  volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}

interface PodSpec {
  containers: Container[];
  volumes: Array<{ name: string; hostPath?: unknown }>;
  terminationGracePeriodSeconds: number;
  securityContext: Record<string, unknown>;
}

/** The fields these tests read, of any of the three kinds. */
interface Rendered {
  apiVersion: string;
  kind: string;
  spec: {
    replicas?: number;
    strategy: { rollingUpdate: unknown };
    selector: { matchLabels?: Record<string, string> } & Record<string, unknown>;
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
    ports: Array<{ port: number; targetPort: string }>;
    maxUnavailable?: number;
  };
}

/** Structure only: these manifests are not applied to a cluster here. */
describe('asrctl render k8s', () => {
  const config = resolveDeployConfig(
    [
      {
        project: 'asr',
        target: 'swarm',
        model: ['cn=/srv/models/cn', 'en=/srv/models/en'],
        replicas: '3',
        memory: '2g',
        drainTimeout: '20',
      },
    ],
    '/x',
  );
  const yaml = manifestsYaml(renderK8sManifests(config, { image: 'reg.example:5000/asr-app:1', replicas: 3, modelBytes: 2 * 1024 ** 3 }));
  const docs = parseAllDocuments(yaml).map((d) => d.toJS() as Rendered);

  it('renders a Deployment, a Service and a PodDisruptionBudget that select the same pods', () => {
    expect(docs.map((d) => `${d.apiVersion} ${d.kind}`)).toEqual(['apps/v1 Deployment', 'v1 Service', 'policy/v1 PodDisruptionBudget']);
    const [deployment, service, budget] = docs as [Rendered, Rendered, Rendered];
    const podLabels = deployment.spec.template.metadata.labels;
    expect(deployment.spec.selector.matchLabels).toEqual(podLabels);
    expect(service.spec.selector).toEqual(podLabels);
    expect(budget.spec.selector.matchLabels).toEqual(podLabels);
    expect(budget.spec.maxUnavailable).toBe(1);
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    // Every Service port targets a named container port.
    const container = deployment.spec.template.spec.containers[0]!;
    const named = new Set(container.ports.map((p) => p.name));
    expect(service.spec.ports.map((p) => named.has(p.targetPort))).toEqual([true, true, true]);
    expect(service.spec.ports.map((p) => p.port)).toEqual([8765, 2700, 10095]);
  });

  it('gates traffic on /readyz, waits for the models, drains before SIGTERM and within the grace period', () => {
    const pod = docs[0]!.spec.template.spec;
    const container = pod.containers[0]!;
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'asr' });
    // 30 s plus 60 s per GiB of models, in 2 s probes.
    expect(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold).toBe(150);
    expect(container.lifecycle.preStop.exec.command[0]).toBe('node');
    expect(container.env).toContainEqual({ name: 'ASR_SESSION_DRAIN', value: '20000' });
    expect(pod.terminationGracePeriodSeconds).toBe(5 + 20 + 15);
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(pod.volumes.filter((v) => v.hostPath)).toEqual([
      { name: 'model-0', hostPath: { path: '/srv/models/cn', type: 'Directory' } },
      { name: 'model-1', hostPath: { path: '/srv/models/en', type: 'Directory' } },
    ]);
    expect(container.volumeMounts.filter((m) => m.mountPath.startsWith('/models/')).every((m) => m.readOnly)).toBe(true);
    expect(container).toMatchObject({ resources: { requests: { memory: String(1024 ** 3) }, limits: { memory: String(2 * 1024 ** 3) } } });
  });

  it('is what the CLI prints, marked as untested against a cluster', async () => {
    const { stdout } = await execa('node', [
      CLI,
      'render',
      'k8s',
      '--project',
      'asr',
      '--model',
      'cn=/srv/models/cn',
      '--registry',
      'reg.example:5000',
    ]);
    expect(stdout).toMatch(/^# Rendered by asrctl render k8s\. Not tested against a cluster/u);
    const objects = parseAllDocuments(stdout).map((d) => d.toJS() as Rendered);
    expect(objects.map((o) => o.kind)).toEqual(['Deployment', 'Service', 'PodDisruptionBudget']);
    expect(objects[0]!.spec.template.spec.containers[0]!.image).toBe('reg.example:5000/asr-app:latest');
  });

  it("takes only the settings the manifests honour: --cpus alone limits the CPU, a deploy-only flag is refused, the deploy's own file settings are not read", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'asrctl-render-'));
    try {
      // A deploy's asrctl.json: its strategy and verify settings are the deploy's, not the manifests'.
      // Even a bad one: checking it is the deploy's business.
      await writeFile(join(dir, 'asrctl.json'), JSON.stringify({ strategy: 'bogus', verifyText: 'low high', replicas: 4 }));
      const render = (...flags: string[]) =>
        execa('node', [CLI, 'render', 'k8s', '--project', 'asr', '--model', 'cn=/srv/models/cn', ...flags], {
          cwd: dir,
          reject: false,
          env: { ASRCTL_STRATEGY: 'bogus', ASRCTL_CONSTRAINTS: 'x' },
        });
      const rendered = await render('--cpus', '1.5');
      expect(rendered.exitCode, rendered.stderr).toBe(0);
      expect(rendered.stderr).toBe('');
      const container = (parseAllDocuments(rendered.stdout)[0]!.toJS() as Rendered).spec.template.spec.containers[0]!;
      expect(container).toMatchObject({ resources: { limits: { cpu: '1.5' } } });
      expect((parseAllDocuments(rendered.stdout)[0]!.toJS() as Rendered).spec.replicas).toBe(4);
      // A typo in a variable's name is refused, not silently replaced by the default project.
      const typo = await execa('node', [CLI, 'render', 'k8s', '--model', 'cn=/srv/models/cn'], {
        cwd: dir,
        env: { ASRCTL_PROJEKT: 'asr', ASRCTL_STRATEGI: 'x', ASRCTL_MODELS: 'cn=/old', ASRCTL_MODEL: 'cn=/new' },
        reject: false,
      });
      expect(typo.exitCode).toBe(2);
      // A near-miss of a setting render does not read is told; of one it reads, refused.
      expect(typo.stderr.split('\n')).toEqual([
        'asrctl: ASRCTL_MODELS is ignored: ASRCTL_MODEL is set',
        'asrctl: ASRCTL_STRATEGI is not a setting and is ignored: did you mean ASRCTL_STRATEGY?',
        'asrctl: invalid deploy configuration:',
        '  - ASRCTL_PROJEKT is not a setting: did you mean ASRCTL_PROJECT? (rename or unset it)',
      ]);
      for (const flag of [
        ['--strategy', 'recreate'],
        ['--verify-text', 'x'],
        ['--base-image', 'b:1'],
        ['--target', 'swarm'],
      ]) {
        const refused = await render(...flag);
        expect(refused.exitCode, flag.join(' ')).toBe(2);
        expect(refused.stderr).toContain(`unknown option '${flag[0]}'`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('honours --allow and --tls-cert: a NetworkPolicy on the pod ports and a TLS Secret the pods serve wss from (issue 15)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'asr-k8s-'));
    await writeFile(join(dir, 'tls.crt'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    await writeFile(join(dir, 'tls.key'), '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n');
    const { stdout } = await execa('node', [
      CLI,
      'render',
      'k8s',
      '--project',
      'asr',
      '--model',
      'cn=/srv/models/cn',
      '--vosk-port',
      '2700',
      '--allow',
      '10.0.0.0/8',
      '--allow',
      '2001:db8::1',
      '--tls-cert',
      join(dir, 'tls.crt'),
      '--tls-key',
      join(dir, 'tls.key'),
    ]);
    await rm(dir, { recursive: true, force: true });
    const objects = parseAllDocuments(stdout).map((d) => d.toJS() as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any -- reads nested YAML
    expect(objects.map((o) => o.kind)).toEqual(['Deployment', 'Service', 'PodDisruptionBudget', 'NetworkPolicy', 'Secret']);
    const [deployment, , , policy, secret] = objects;
    expect(policy!.spec).toEqual({
      podSelector: { matchLabels: deployment!.spec.selector.matchLabels },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ ipBlock: { cidr: '10.0.0.0/8' } }, { ipBlock: { cidr: '2001:db8::1/128' } }],
          ports: [
            { protocol: 'TCP', port: 8765 },
            { protocol: 'TCP', port: 2700 },
            { protocol: 'TCP', port: 10095 },
          ],
        },
      ],
    });
    expect(secret).toMatchObject({
      type: 'kubernetes.io/tls',
      metadata: { name: 'asr-tls' },
      stringData: { 'tls.crt': expect.stringContaining('CERTIFICATE') },
    });
    const pod = deployment!.spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: 'tls', secret: { secretName: 'asr-tls' } });
    // The server, reading the pod's environment by its own option table, serves the mounted Secret.
    const env = Object.fromEntries((pod.containers[0].env as Container['env']).map((e) => [e.name, e.value]));
    const problems: string[] = [];
    const server = resolveOptions(SERVER_OPTIONS, [inputFromEnv(SERVER_OPTIONS, env)], problems);
    expect(problems).toEqual([]);
    const tlsMount = (pod.containers[0].volumeMounts as Container['volumeMounts']).find((m) => m.name === 'tls')!;
    expect([server.tlsCert, server.tlsKey]).toEqual([`${tlsMount.mountPath}/tls.crt`, `${tlsMount.mountPath}/tls.key`]);
    expect(pod.containers[0].readinessProbe.httpGet.scheme).toBe('HTTPS');
  });
});

import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { type DeployInput } from '../deployment/deploy-config.js';
import { deploymentNames } from '../deployment/deployment-names.js';
import { K8S_SETTINGS, manifestsYaml, renderK8sManifests } from '../k8s/k8s-manifests.js';
import { directorySize } from '../models/disk.js';
import { addDeployOptions } from './deployment-options.js';
import { deployConfigFrom } from './deployment-settings.js';

/** `asrctl render k8s`: manifests for Kubernetes from the same settings (not tested against a cluster). */
export function registerRender(program: Command): void {
  const render = program.command('render').description('write deployment manifests for other orchestrators');
  addDeployOptions(
    render
      .command('k8s')
      .description(
        'Kubernetes manifests (Deployment, Service, PodDisruptionBudget; NetworkPolicy with --allow, TLS Secret with --tls-cert) on stdout; not tested against a cluster by asrctl',
      ),
    { asDeployed: false },
    K8S_SETTINGS,
  )
    .option('--image <ref>', 'app image every node can pull (default: REGISTRY/PROJECT-app:latest)')
    .option('--namespace <ns>', 'namespace of the objects')
    .action(async (flags: DeployInput & { config?: string; image?: string; namespace?: string }) => {
      const { image, namespace, ...input } = flags;
      // The Swarm settings (replicas, registry) mean the same here. The deploy's others in
      // asrctl.json or ASRCTL_* (a strategy, base images) are the deploy's: not read here.
      const config = deployConfigFrom({ ...input, target: 'swarm' }, K8S_SETTINGS);
      const names = deploymentNames(config.project);
      let modelBytes = 0;
      for (const model of config.models) modelBytes += await directorySize(model.hostDir).catch(() => 0);
      const tls = config.tls && {
        cert: await readFile(config.tls.certPath, 'utf8'),
        key: await readFile(config.tls.keyPath, 'utf8'),
      };
      const objects = renderK8sManifests(config, {
        ...(tls && { tls }),
        image: image ?? `${config.registry ?? 'asrctl'}/${names.appImage.replace(/^asrctl\//u, '')}:latest`,
        replicas: config.replicas ?? 2,
        modelBytes,
        ...(namespace !== undefined && { namespace }),
      });
      process.stdout.write(manifestsYaml(objects));
    });
}

import { type Command, Option } from 'commander';
import { connectEngine } from '../docker/engine.js';
import { BASE_IMAGES, type BaseImageKind, buildBaseImages } from '../images/base-images.js';
import { locateSourceTree } from '../images/source-tree.js';

/** `asrctl base-image build`: base images without any registry, for air-gapped hosts. */
export function registerBaseImage(program: Command): void {
  const base = program.command('base-image').description('base images for hosts without registry access');
  base
    .command('build')
    .description(
      `build base images offline: node (${BASE_IMAGES.node}, from this host's Node.js), debian (debootstrap), edge (Debian + HAProxy)`,
    )
    .addOption(new Option('--only <kind...>', 'build only these').choices(['node', 'debian', 'edge']))
    .option('--force', 'rebuild even if the image exists')
    .option('--mirror <url>', 'Debian mirror for debootstrap', 'http://deb.debian.org/debian')
    .action(async (flags: { only?: BaseImageKind[]; force?: boolean; mirror: string }) => {
      const kinds = flags.only ?? (['node', 'debian', 'edge'] as BaseImageKind[]);
      const results = await buildBaseImages(connectEngine(), await locateSourceTree(), kinds, {
        force: flags.force ?? false,
        mirror: flags.mirror,
        onProgress: (l) => process.stdout.write(`  ${l}\n`),
      });
      for (const r of results)
        process.stdout.write(`${r.image}: ${r.built ? `built in ${r.seconds.toFixed(1)} s` : 'present (use --force to rebuild)'}\n`);
      process.stdout.write(`deploy with: asrctl deploy --base-image ${BASE_IMAGES.node} --edge-base-image ${BASE_IMAGES.edge}\n`);
    });
}

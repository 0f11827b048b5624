import type { Command } from 'commander';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureLabos } from '../images/build.js';
import { ensureNginxImage } from '../images/containerimage.js';
import { builtImageDir, recipeDir, recipeHash } from '../images/store.js';
import { importImage, listImages, pullImage, removeImage, verifyImage } from '../images/fetch.js';
import { LabError } from '../util/errors.js';
import { importContainer } from '../images/containerarchive.js';
import type { CliContext } from './context.js';

/** `corelab images build | list | pull | import | verify | rm`. */
export function imageCommands(program: Command, ctx: CliContext): void {
  const controller = { signal: ctx.signal };
  const images = program.command('images').description('guest images: build, list');
  images
    .command('build')
    .description('build labos (guest) or nginx (container) from Debian packages; a no-op when the recipe is unchanged')
    .argument('[name]', 'image to build', 'labos')
    .option('--mirror <url>', 'Debian mirror to build from (default: this host\'s apt sources)')
    .option('--force', 'build again even if the cache has this recipe')
    .action(async (name: string, o: { mirror?: string; force?: boolean }) => {
      const opts = { mirror: o.mirror, force: o.force, signal: controller.signal };
      if (name === 'labos') process.stdout.write(`${(await ensureLabos(opts)).dir}\n`);
      else if (name === 'nginx') process.stdout.write(`${await ensureNginxImage(opts)}\n`);
      else throw new LabError(`there is no local recipe for an image "${name}"`, { fix: 'build labos (the guest image) or nginx (the container image the registry mirror serves)' });
    });
  images
    .command('list')
    .description('images in the catalog and their cache state')
    .action(() => {
      process.stdout.write(`NAME               KIND      STATE       SIZE       VERIFIED\n`);
      for (const i of listImages()) {
        const state = i.cached ? 'cached' : i.kind === 'build' ? 'not built' : 'not pulled';
        const size = i.size ? `${(i.size / 2 ** 20).toFixed(0)} MiB` : '-';
        process.stdout.write(`${i.name.padEnd(18)} ${i.kind.padEnd(9)} ${state.padEnd(11)} ${size.padEnd(10)} ${i.verified ?? '-'}\n`);
      }
      const nginx = builtImageDir('nginx', recipeHash(recipeDir('nginx')));
      process.stdout.write(`${'nginx (container)'.padEnd(18)} ${'build'.padEnd(9)} ${(existsSync(join(nginx, 'image.json')) ? 'cached' : 'not built').padEnd(11)} ${existsSync(join(nginx, 'image.json')) ? `${(du(nginx) / 2 ** 20).toFixed(0)} MiB` : '-'}\n`);
    });
  const fetchOpts = (o: { mirror?: string; offline?: boolean; key?: string }) => ({ mirror: o.mirror, offline: o.offline, key: o.key, signal: controller.signal });
  images
    .command('pull')
    .description('download an image of the catalog, verify its digests and signature, and cache it')
    .argument('<name>')
    .option('--mirror <url>', 'fetch from this mirror instead of upstream (or CORELAB_IMAGE_MIRROR)')
    .option('--offline', 'never touch the network; say which file is missing and how to import it')
    .option('--key <file>', 'the OpenPGP key that signs the digests (Flatcar\'s rotates yearly)')
    .option('--refresh', 'fetch the digest list again and download what changed (for moving entries such as flatcar-stable); without it a cached image is used as it is')
    .action(async (name: string, o: { mirror?: string; offline?: boolean; key?: string; refresh?: boolean }) => {
      const img = await pullImage(name, { ...fetchOpts(o), refresh: o.refresh });
      process.stdout.write(`${img.name}: ${Object.entries(img.files).map(([role, path]) => `${role} ${path}`).join(', ')} (verified: ${img.verified})\n`);
    });
  images
    .command('import')
    .description('take an image file you already have into the cache (verified when its digests can be had)')
    .argument('<name>')
    .argument('<file>')
    .option('--mirror <url>')
    .option('--offline')
    .option('--key <file>')
    .option('--allow-unverified', 'keep the file even if its digest cannot be checked (recorded UNVERIFIED)')
    .action(async (name: string, file: string, o: { mirror?: string; offline?: boolean; key?: string; allowUnverified?: boolean }) => {
      const r = await importImage(name, file, { ...fetchOpts(o), allowUnverified: o.allowUnverified });
      process.stdout.write(`${name}: imported ${file} as its ${r.role} (verified: ${r.verified})\n`);
    });
  importContainerCommand(images);
  images
    .command('verify')
    .description('check the cached files of an image against their digests again')
    .argument('<name>')
    .option('--mirror <url>')
    .option('--offline')
    .option('--key <file>')
    .action(async (name: string, o: { mirror?: string; offline?: boolean; key?: string }) => {
      const r = await verifyImage(name, fetchOpts(o));
      process.stdout.write(`${r.name}: ${r.verified}\n`);
    });
  images
    .command('rm')
    .description('remove an image from the cache')
    .argument('<name>')
    .action((name: string) => {
      process.stdout.write(`${name}: ${(removeImage(name) / 2 ** 20).toFixed(0)} MiB freed\n`);
    });

}

/** `corelab images import-container REF FILE`: an image archive for the registry mirror. */
function importContainerCommand(images: Command): void {
  images
    .command('import-container')
    .description('take a container image archive (docker save, or skopeo copy ... docker-archive:FILE) into the cache, for the registry mirror to serve to steps that require it')
    .argument('<ref>', 'the image as steps require it, e.g. rancher/os:v1.5.7')
    .argument('<file>', 'the archive')
    .action(async (ref: string, file: string) => {
      const c = await importContainer(ref, file);
      process.stdout.write(`${ref}: imported ${file} (sha256 ${c.archiveSha256}, manifest ${c.manifestDigest})\n`);
    });
}

/** Bytes used by the files under dir. */
function du(dir: string): number {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .reduce((sum, e) => sum + statSync(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)).size, 0);
}


import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildRecipe, type BuildOptions } from './build.js';
import { builtImageDir } from './store.js';

/**
 * The lab's nginx container image (images/nginx/: Debian bookworm's nginx, built offline with
 * mmdebstrap and umoci) for the current recipe, from the cache or built now (under a minute).
 * Returns the path of its OCI image layout, tag "latest", for Registry.seed().
 */
export function ensureNginxImage(opts: BuildOptions = {}): Promise<string> {
  return buildRecipe(
    {
      name: 'nginx',
      tools: ['mmdebstrap', 'umoci'],
      about: 'mmdebstrap and umoci from Debian packages; under a minute',
      outputs: 'oci/index.json',
      find: (key) => ociLayoutIn(builtImageDir('nginx', key)),
    },
    opts,
  );
}

/** The complete OCI layout of a finished container image build in dir, if there is one. */
function ociLayoutIn(dir: string): string | undefined {
  const oci = join(dir, 'oci');
  return existsSync(join(oci, 'index.json')) && existsSync(join(oci, 'oci-layout')) && existsSync(join(dir, 'image.json')) ? oci : undefined;
}

import test from 'ava';
import { labosSources, parseAptSources } from '../lab/images/aptsources.js';
import { LabError } from '../lab/util/errors.js';
import { tempTree } from './helpers/files.js';

const DEB822 = `Types: deb
# a comment inside the stanza
URIs: http://mirror.invalid/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /nonexistent/keyring.gpg

Types: deb-src
URIs: http://mirror.invalid/debian
Suites: bookworm
Components: main
`;

test('deb822 and one-line sources are parsed', (t) => {
  t.deepEqual(parseAptSources(DEB822, true).map((s) => s.suite), ['bookworm', 'bookworm-updates']);
  const one = parseAptSources('deb [arch=amd64 signed-by=/k.gpg] http://m.invalid/debian bookworm main contrib\n# deb http://x y z\n', false);
  t.deepEqual(one, [{ uri: 'http://m.invalid/debian', suite: 'bookworm', components: ['main', 'contrib'], signedBy: '/k.gpg' }]);
});

test('the host sources that serve bookworm become the build sources', (t) => {
  const tree = tempTree({ 'sources.list.d/debian.sources': DEB822, 'sources.list.d/other.list': 'deb http://other.invalid/x nodistro main\n' });
  t.teardown(tree.remove);
  t.is(labosSources(undefined, tree.dir), 'deb http://mirror.invalid/debian bookworm main\ndeb http://mirror.invalid/debian bookworm-updates main\n');
});

test('a host without bookworm sources gets an error saying to pass --mirror', (t) => {
  const tree = tempTree({ 'sources.list': 'deb http://ubuntu.invalid/ubuntu jammy main\n' });
  t.teardown(tree.remove);
  const err = t.throws(() => labosSources(undefined, tree.dir), { instanceOf: LabError });
  t.regex(err!.message, /do not serve Debian bookworm/);
  t.regex(err!.fix!, /--mirror URL/);
});

test('an explicit mirror wins, and must be a URL', (t) => {
  t.is(labosSources('http://m.invalid/debian'), 'deb http://m.invalid/debian bookworm main\ndeb http://m.invalid/debian bookworm-updates main\n');
  t.throws(() => labosSources('m.invalid/debian'), { message: /must be a URL/ });
});

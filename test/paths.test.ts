// How messages name files: relative inside the working folder, absolute outside it, wherever the
// command (or the test suite) runs from.
import test from 'ava';
import { join, resolve } from 'node:path';
import { shownPath } from '../lab/util/paths.js';

test('a file inside the working folder is shown relative, one outside it absolute, never as ../..', (t) => {
  const cwd = process.cwd();
  t.is(shownPath(join(cwd, 'scenarios', 'x', 'node.ign')), join('scenarios', 'x', 'node.ign'));
  t.is(shownPath('scenarios/x/node.ign'), join('scenarios', 'x', 'node.ign'));
  t.is(shownPath(resolve(cwd, '..', 'elsewhere', 'node.ign')), resolve(cwd, '..', 'elsewhere', 'node.ign'));
  t.is(shownPath('/'), '/');
  t.is(shownPath(cwd), cwd, 'the working folder itself: its absolute path, not an empty string');
  t.is(shownPath(join(cwd, '..foo', 'a')), join('..foo', 'a'), 'a name that merely starts with two dots is inside');
});

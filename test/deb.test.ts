import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers/cli.js';

/**
 * Builds the Debian package with scripts/build-deb.sh once, then checks its control fields and
 * contents with dpkg-deb, runs the CLI from the extracted package, and (as root) installs,
 * removes and purges it with the real dpkg inside a throw-away mount namespace.
 */
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  devDependencies: Record<string, string>;
};
const UNITS = ['proxmox-balance-automigrate.service', 'proxmox-balance-automigrate.timer'];

let work: { dir: string; cleanup: () => void };
let deb = '';
let contents: string[] = [];

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd ?? ROOT, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) assert.fail(`${cmd} cannot be run (${(r.error as NodeJS.ErrnoException).code}): .ci/run installs it`);
  return r;
}

function ok(cmd: string, args: string[]): string {
  const r = run(cmd, args);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

before(() => {
  work = tempDir('proxbalance-deb-');
  const out = ok('bash', [join(ROOT, 'scripts', 'build-deb.sh'), join(work.dir, 'out')]).trim().split('\n');
  deb = out[out.length - 1] ?? '';
  assert.equal(deb, join(work.dir, 'out', `proxbalance_${pkg.version}_all.deb`));
  // Lines like "-rw-r--r-- root/root  1022 2026-01-01 00:00 ./usr/lib/…": keep the path only.
  contents = ok('dpkg-deb', ['--contents', deb])
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/^(\S+\s+){5}/, '').replace(/ -> .*$/, '').replace(/^\.\//, '').replace(/\/$/, ''));
});

after(() => work?.cleanup());

test('control fields: name, version from package.json, all architectures, Node.js 20.19 or later', () => {
  const field = (name: string) => ok('dpkg-deb', ['--field', deb, name]).trim();
  assert.equal(field('Package'), 'proxbalance');
  assert.equal(field('Version'), pkg.version);
  assert.equal(field('Architecture'), 'all');
  assert.match(field('Depends'), /(^|, )nodejs \(>= 20\.19\)(,|$)/);
  assert.ok(field('Maintainer'));
  assert.match(ok('dpkg-deb', ['--info', deb]), /\bpostinst\b[\s\S]*\bpostrm\b[\s\S]*\bprerm\b/);
});

test('contents: the CLI with production dependencies only, the units, the example config, the docs', () => {
  const has = (p: string) => assert.ok(contents.includes(p), `${p} missing from the package`);
  has('usr/bin/proxbalance');
  has('usr/lib/proxbalance/bin/proxbalance');
  has('usr/lib/proxbalance/dist/src/cli/main.js');
  has('usr/lib/proxbalance/package.json');
  has('usr/lib/proxbalance/schemas/config.schema.json');
  for (const dep of Object.keys(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).dependencies)) {
    has(`usr/lib/proxbalance/node_modules/${dep}/package.json`);
  }
  for (const u of UNITS) has(`lib/systemd/system/${u}`);
  has('usr/share/proxbalance/config.example.json');
  has('usr/share/doc/proxbalance/README.md');
  has('usr/share/doc/proxbalance/copyright');
  for (const doc of ['configuration.md', 'install.md']) has(`usr/share/doc/proxbalance/docs/${doc}`);

  // None of the dev dependencies (nor anything nested under one), no tests, none of our TypeScript.
  for (const dev of Object.keys(pkg.devDependencies)) {
    const hit = contents.find((p) => p.includes(`node_modules/${dev}/`) || p.endsWith(`node_modules/${dev}`));
    assert.equal(hit, undefined, `devDependency ${dev} is in the package`);
  }
  assert.equal(contents.find((p) => /(^|\/)(dist\/)?test(\/|$)/.test(p) && !p.includes('/node_modules/')), undefined, 'test files in the package');
  assert.equal(contents.find((p) => p.endsWith('.ts') && !p.includes('/node_modules/')), undefined, 'our TypeScript sources in the package');
});

test('the extracted package runs: --version, and the example config is valid but names what to fill in', () => {
  const x = join(work.dir, 'x');
  ok('dpkg-deb', ['-x', deb, x]);
  assert.equal(readlinkSync(join(x, 'usr/bin/proxbalance')), '../lib/proxbalance/bin/proxbalance');
  const bin = join(x, 'usr/bin/proxbalance');
  // Run from a folder outside the repository so nothing of the checkout can be picked up.
  const version = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8', cwd: work.dir });
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout.trim(), pkg.version);
  const example = join(x, 'usr/share/proxbalance/config.example.json');
  // Valid, but not ready until the admin fills in the host and the secret: validate says which keys.
  const validate = spawnSync(process.execPath, [bin, 'config', 'validate', '--config', example], { encoding: 'utf8', cwd: work.dir });
  assert.equal(validate.status, 2, validate.stderr);
  assert.match(validate.stderr, /proxmox_host is "[^"]+", a placeholder/);
  assert.match(validate.stderr, /proxmox_api_token_secret is not set/);
  const ready = spawnSync(process.execPath, [bin, 'config', 'validate', '--config', example], { encoding: 'utf8', cwd: work.dir, env: { ...process.env, PROXBALANCE_TOKEN_SECRET: 'x-0000' } });
  assert.match(ready.stderr, /a placeholder/);
  assert.doesNotMatch(ready.stderr, /not valid|must be|is required/, 'the example is valid apart from what the admin must fill in');
  // The packaged units are the ones test/deploy.test.ts checks with systemd-analyze.
  for (const u of UNITS) {
    assert.equal(readFileSync(join(x, 'lib/systemd/system', u), 'utf8'), readFileSync(join(ROOT, 'deploy', u), 'utf8'), `${u} differs from deploy/${u}`);
  }
});

test('lintian: no error and no warning at the default level; changelog, copyright and man page present', () => {
  for (const p of ['usr/share/doc/proxbalance/changelog.gz', 'usr/share/doc/proxbalance/copyright', 'usr/share/man/man1/proxbalance.1.gz']) {
    assert.ok(contents.includes(p), `${p} missing from the package`);
  }
  // No development files of the dependencies (linters, VCS and npm metadata, their tests).
  const dev = contents.filter((p) => p.includes('/node_modules/') && /(\/\.eslintrc[^/]*|\/\.npmignore|\/\.gitattributes|\/(test|tests|spec|__tests__)\/.+)$/.test(p));
  assert.deepEqual(dev, []);
  const r = run('lintian', ['--no-tag-display-limit', deb]);
  const tags = `${r.stdout}${r.stderr}`.split('\n').filter((l) => /^[EW]: /.test(l));
  assert.deepEqual(tags, [], `lintian:\n${r.stdout}${r.stderr}`);
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  // The man page is the CLI's own help: every command is in it.
  const x = join(work.dir, 'man');
  ok('dpkg-deb', ['-x', deb, x]);
  const page = spawnSync('sh', ['-c', `gzip -dc ${join(x, 'usr/share/man/man1/proxbalance.1.gz')}`], { encoding: 'utf8' }).stdout;
  for (const c of ['run', 'doctor', 'status', 'explain', 'config validate', 'history']) assert.match(page, new RegExp(`proxbalance ${c}\\b`), `${c} missing from the man page`);
});

test('install, reinstall, remove and purge with dpkg (in a throw-away mount namespace)', (t) => {
  // Needs root (CI is root) for mount namespaces and overlays; elsewhere this one is skipped, out loud.
  if (process.getuid?.() !== 0) return t.skip('needs root: mount namespace with overlays over /usr, /etc, /var, /opt');
  if (!existsSync('/usr/bin/unshare')) assert.fail('unshare (util-linux) is missing');
  const scratch = join(work.dir, 'ns');
  // The script enters a private mount namespace itself and refuses to mount anything outside one.
  const r = run('bash', [join(ROOT, 'test', 'deb-lifecycle.sh'), deb, scratch, pkg.version]);
  assert.equal(r.status, 0, `lifecycle failed (${r.status}):\n${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /lifecycle: all checks passed/);
});

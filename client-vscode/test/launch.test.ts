// bundled/launch.py, run by the machine's python3 as the extension runs it, on a stand-in
// bundle: a `pitfalls` whose main reports the sys.path it was imported with.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { temporary } from './temporary';

const launcher = join(__dirname, '..', '..', 'bundled', 'launch.py');
const version = spawnSync('python3', ['-c', 'import sys; print("%d%d" % sys.version_info[:2])'], { encoding: 'utf8' }).stdout.trim();

/** A copy of launch.py beside libs/ holding a stand-in pitfalls for each of `abis`. */
function standIn(abis: string[]): string {
    const root = temporary('pitfalls-bundle-');
    copyFileSync(launcher, join(root, 'launch.py'));
    mkdirSync(join(root, 'libs'));
    for (const abi of abis) {
        const cli = join(root, 'libs', abi, 'pitfalls', 'cli');
        mkdirSync(cli, { recursive: true });
        writeFileSync(join(root, 'libs', abi, 'pitfalls', '__init__.py'), '');
        writeFileSync(join(cli, '__init__.py'), '');
        writeFileSync(join(cli, 'main.py'), 'import json, sys\ndef main():\n    print(json.dumps({"argv": sys.argv[1:], "path": sys.path}))\n    return 3\n');
    }
    return join(root, 'launch.py');
}

function run(args: string[], cwd?: string) {
    return spawnSync('python3', args, { encoding: 'utf8', cwd, env: { ...process.env, PYTHONPATH: '/somewhere/else' } });
}

test('isolated: the bundle first, no site-packages, no PYTHONPATH, no current directory', () => {
    const script = standIn([`cp${version}`]);
    const cwd = temporary('pitfalls-cwd-');
    const result = run(['-I', '-S', script, 'server', '--log-level', 'info'], cwd);
    assert.equal(result.status, 3, result.stderr);
    const { argv, path } = JSON.parse(result.stdout);
    assert.deepEqual(argv, ['server', '--log-level', 'info']);
    assert.equal(path[0], join(script, '..', 'libs', `cp${version}`));
    const leaks = path.filter((p: string) => /site-packages|dist-packages/.test(p) || p === '/somewhere/else' || p === cwd || p === '');
    assert.deepEqual(leaks, []);
});

test('without -I -S it refuses to run, saying how', () => {
    const result = run([standIn([`cp${version}`]), 'server']);
    assert.equal(result.status, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^pitfalls: run the bundle as `python -I -S launch\.py \.\.\.`/);
});

test('a Python the bundle was not built for: one line naming the ones it was', () => {
    const result = run(['-I', '-S', standIn(['cp39', 'cp310']), 'server']);
    assert.equal(result.status, 1);
    assert.equal(result.stderr.trim(), `pitfalls: the bundle has no libraries for cpython ${version[0]}.${version.slice(1)} (it has CPython: 3.9, 3.10)`);
});

import { strict as assert } from 'node:assert';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { temporary } from './temporary';
import {
    bundledPythonVersions,
    doctorCommand,
    expandVariables,
    failureMessage,
    nodeProbe,
    olderThan,
    pathCandidates,
    Probe,
    PythonVersion,
    resolveServerCommand,
    shellQuote,
    withServer,
} from '../src/resolve';

/** A probe over a fake file system: executables, interpreters that have pitfalls, and what
 * each interpreter is (`cpython 3.11.7` by default, `broken`: it does not run). */
function fakeProbe(executables: string[], withPitfalls: string[] = [], versions: Record<string, string> = {}): Probe & { calls: string[] } {
    const calls: string[] = [];
    return {
        calls,
        async isExecutable(file) {
            calls.push(`x ${file}`);
            return executables.includes(file);
        },
        async hasPitfalls(python) {
            calls.push(`py ${python.join(' ')}`);
            return withPitfalls.includes(python[0]);
        },
        async pythonVersion(python): Promise<PythonVersion | undefined> {
            calls.push(`version ${python.join(' ')}`);
            const what = versions[python[0]] ?? 'cpython 3.11.7';
            const [implementation, version] = what.split(' ');
            return what === 'broken' ? undefined : { implementation, version };
        },
    };
}

const noBundle = { launcher: '/ext/bundled/launch.py', pythonVersions: [] };
const bundle = { launcher: '/ext/bundled/launch.py', pythonVersions: ['3.11', '3.12'] };
/** The environment's pitfalls, with no bundle to fall back on (a build without one). */
const base = {
    importStrategy: 'fromEnvironment' as const,
    bundle: noBundle,
    pathSetting: [],
    interpreterSetting: [],
    envPath: '/usr/bin:/usr/local/bin',
    platform: 'linux' as const,
};
/** The default: the bundled pitfalls. */
const bundled = { ...base, importStrategy: 'useBundled' as const, bundle };

test('pitfalls.path comes first, with "server" appended', async () => {
    const probe = fakeProbe(['/opt/pf/bin/pitfalls', '/usr/bin/pitfalls', '/venv/bin/python'], ['/venv/bin/python']);
    const r = await resolveServerCommand({ ...base, pathSetting: ['/opt/pf/bin/pitfalls'], pythonExtension: ['/venv/bin/python'] }, probe);
    assert.ok(r.ok);
    assert.equal(r.source, 'pitfalls.path');
    assert.equal(r.command, '/opt/pf/bin/pitfalls');
    assert.deepEqual(r.args, ['server']);
    assert.ok(!probe.calls.some((c) => c.startsWith('py')), 'no interpreter probed when pitfalls.path works');
});

test('pitfalls.path keeps its own arguments and a bare name is looked up on PATH', async () => {
    const probe = fakeProbe(['/usr/local/bin/pitfalls']);
    const r = await resolveServerCommand({ ...base, pathSetting: ['pitfalls', '--verbose', 'server'] }, probe);
    assert.ok(r.ok);
    assert.equal(r.command, '/usr/local/bin/pitfalls');
    assert.deepEqual(r.args, ['--verbose', 'server']);
});

test('then the Python extension interpreter: python -m pitfalls server', async () => {
    const probe = fakeProbe(['/venv/bin/python', '/usr/bin/pitfalls', '/usr/bin/python3'], ['/venv/bin/python', '/usr/bin/python3']);
    const r = await resolveServerCommand({ ...base, pythonExtension: ['/venv/bin/python'], interpreterSetting: ['/usr/bin/python3'] }, probe);
    assert.ok(r.ok);
    assert.equal(r.source, 'python extension');
    assert.equal(r.command, '/venv/bin/python');
    assert.deepEqual(r.args, ['-m', 'pitfalls', 'server']);
});

test('a broken pitfalls.path falls through and is recorded', async () => {
    const probe = fakeProbe(['/venv/bin/python'], ['/venv/bin/python']);
    const r = await resolveServerCommand({ ...base, pathSetting: ['/nope/pitfalls'], pythonExtension: ['/venv/bin/python'] }, probe);
    assert.ok(r.ok);
    assert.equal(r.source, 'python extension');
    assert.equal(r.attempts[0].source, 'pitfalls.path');
    assert.equal(r.attempts[0].ok, false);
});

test('then pitfalls.interpreter when the selected interpreter lacks pitfalls', async () => {
    const probe = fakeProbe(['/venv/bin/python', '/home/u/tools/bin/python'], ['/home/u/tools/bin/python']);
    const r = await resolveServerCommand(
        { ...base, pythonExtension: ['/venv/bin/python'], interpreterSetting: ['~/tools/bin/python'], home: '/home/u' },
        probe,
    );
    assert.ok(r.ok);
    assert.equal(r.source, 'pitfalls.interpreter');
    assert.equal(r.command, '/home/u/tools/bin/python');
    assert.match(r.attempts[0].reason ?? '', /not installed/);
});

test('interpreter arguments (conda run ...) are kept before -m', async () => {
    const probe = fakeProbe(['/usr/bin/conda'], ['/usr/bin/conda']);
    const r = await resolveServerCommand({ ...base, pythonExtension: ['conda', 'run', '-n', 'app', 'python'] }, probe);
    assert.ok(r.ok);
    assert.equal(r.command, '/usr/bin/conda');
    assert.deepEqual(r.args, ['run', '-n', 'app', 'python', '-m', 'pitfalls', 'server']);
});

test('${workspaceFolder} in pitfalls.interpreter', async () => {
    const probe = fakeProbe(['/ws/.venv/bin/python'], ['/ws/.venv/bin/python']);
    const r = await resolveServerCommand({ ...base, interpreterSetting: ['${workspaceFolder}/.venv/bin/python'], workspaceFolder: '/ws' }, probe);
    assert.ok(r.ok);
    assert.equal(r.command, '/ws/.venv/bin/python');
});

test('finally pitfalls on PATH', async () => {
    const probe = fakeProbe(['/usr/local/bin/pitfalls']);
    const r = await resolveServerCommand(base, probe);
    assert.ok(r.ok);
    assert.equal(r.source, 'PATH');
    assert.equal(r.command, '/usr/local/bin/pitfalls');
    assert.deepEqual(r.args, ['server']);
});

test('nothing works: one actionable message', async () => {
    const r = await resolveServerCommand({ ...base, pythonExtension: ['/venv/bin/python'] }, fakeProbe(['/venv/bin/python']));
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.match(r.message, /pip install pitfalls/);
    assert.match(r.message, /pitfalls\.interpreter/);
    assert.match(r.message, /pitfalls\.path/);
    assert.match(r.message, /\/venv\/bin\/python/);
    assert.ok(!r.message.includes('\n'));
    assert.deepEqual(r.attempts.map((a) => a.source), ['python extension', 'PATH']);
});

test('the message names a broken pitfalls.path', () => {
    const message = failureMessage([{ source: 'pitfalls.path', bundled: false, command: ['/x'], ok: false, reason: '/x is not an executable file' }], { bundle: noBundle });
    assert.match(message, /^pitfalls\.path does not work/);
    assert.match(message, /your project's environment/);
});

test('Windows PATH lookup tries PATHEXT', () => {
    const c = pathCandidates('pitfalls', 'C:\\Py\\Scripts;"C:\\Other"', 'win32', '.EXE;.CMD');
    assert.deepEqual(c, [
        'C:\\Py\\Scripts\\pitfalls',
        'C:\\Py\\Scripts\\pitfalls.exe',
        'C:\\Py\\Scripts\\pitfalls.cmd',
        'C:\\Other\\pitfalls',
        'C:\\Other\\pitfalls.exe',
        'C:\\Other\\pitfalls.cmd',
    ]);
});

test('variables', () => {
    const inputs = { workspaceFolder: '/ws', home: '/home/u', env: { VENV: '/v' } };
    assert.equal(expandVariables('~/bin/pitfalls', inputs), '/home/u/bin/pitfalls');
    assert.equal(expandVariables('${userHome}/x', inputs), '/home/u/x');
    assert.equal(expandVariables('${env:VENV}/bin/python', inputs), '/v/bin/python');
    assert.equal(expandVariables('${env:MISSING}x', inputs), 'x');
    assert.equal(expandVariables('${workspaceFolder}/a', {}), '${workspaceFolder}/a');
});

test('withServer, doctorCommand and shellQuote', () => {
    assert.deepEqual(withServer([]), ['server']);
    assert.deepEqual(withServer(['server', '-v']), ['server', '-v']);
    assert.deepEqual(doctorCommand({ ok: true, source: 'PATH', bundled: false, command: '/b/pitfalls', args: ['server'], attempts: [] }), ['/b/pitfalls', 'doctor']);
    assert.deepEqual(
        doctorCommand({ ok: true, source: 'python extension', bundled: false, command: '/v/python', args: ['-m', 'pitfalls', 'server'], attempts: [] }),
        ['/v/python', '-m', 'pitfalls', 'doctor'],
    );
    assert.deepEqual(
        doctorCommand({ ok: true, source: 'PATH', bundled: true, command: '/usr/bin/python3', args: ['-I', '-S', '/e/launch.py', 'server'], attempts: [] }),
        ['/usr/bin/python3', '-I', '-S', '/e/launch.py', 'doctor'],
    );
    assert.equal(doctorCommand({ ok: false, attempts: [], message: 'm' }), undefined);
    assert.equal(shellQuote(['/a b/python', '-m', 'pitfalls', "it's"], 'linux'), `'/a b/python' -m pitfalls 'it'\\''s'`);
    assert.equal(shellQuote(['C:\\a b\\python.exe', 'doctor'], 'win32'), '"C:\\a b\\python.exe" doctor');
});

test('the real probe on real files', async () => {
    const dir = temporary('pitfalls-resolve-');
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const exe = join(bin, 'pitfalls');
    writeFileSync(exe, '#!/bin/sh\nexit 0\n');
    chmodSync(exe, 0o755);
    writeFileSync(join(dir, 'plain'), 'not executable');
    // an "interpreter" that can import pitfalls only when asked exactly that
    const python = join(bin, 'python');
    writeFileSync(python, '#!/bin/sh\n[ "$1" = "-c" ] && [ "$2" = "import pitfalls" ] && exit 0\nexit 1\n');
    chmodSync(python, 0o755);
    const nopython = join(bin, 'nopython');
    writeFileSync(nopython, '#!/bin/sh\nexit 1\n');
    chmodSync(nopython, 0o755);

    assert.equal(await nodeProbe.isExecutable(exe), true);
    assert.equal(await nodeProbe.isExecutable(join(dir, 'plain')), false);
    assert.equal(await nodeProbe.isExecutable(bin), false);
    assert.equal(await nodeProbe.hasPitfalls([python]), true);
    assert.equal(await nodeProbe.hasPitfalls([nopython]), false);
    assert.equal(await nodeProbe.hasPitfalls([join(dir, 'missing')]), false);

    const r = await resolveServerCommand({ ...base, interpreterSetting: [nopython], envPath: bin });
    assert.ok(r.ok);
    assert.equal(r.source, 'PATH');
    assert.equal(r.command, exe);
    const viaInterpreter = await resolveServerCommand({ ...base, interpreterSetting: [python], envPath: '' });
    assert.ok(viaInterpreter.ok);
    assert.equal(viaInterpreter.source, 'pitfalls.interpreter');
});

test('useBundled: the bundle, run isolated by the Python extension interpreter', async () => {
    const probe = fakeProbe(['/venv/bin/python', '/usr/local/bin/pitfalls'], ['/venv/bin/python'], { '/venv/bin/python': 'cpython 3.12.1' });
    const r = await resolveServerCommand({ ...bundled, pythonExtension: ['/venv/bin/python'] }, probe);
    assert.ok(r.ok);
    assert.equal(r.source, 'python extension');
    assert.equal(r.bundled, true);
    assert.equal(r.command, '/venv/bin/python');
    assert.deepEqual(r.args, ['-I', '-S', '/ext/bundled/launch.py', 'server']);
    assert.equal(r.python, '3.12.1');
    assert.ok(!probe.calls.some((c) => c.startsWith('py ')), 'the environment\'s pitfalls is not looked for');
});

test('useBundled: an interpreter the bundle was not built for is passed over, with the reason', async () => {
    const probe = fakeProbe(['/venv/bin/python', '/opt/py/bin/pypy', '/usr/bin/python3'], [], {
        '/venv/bin/python': 'cpython 3.10.4',
        '/opt/py/bin/pypy': 'pypy 3.11.9',
    });
    const r = await resolveServerCommand({ ...bundled, pythonExtension: ['/venv/bin/python'], interpreterSetting: ['/opt/py/bin/pypy'] }, probe);
    assert.ok(r.ok);
    assert.equal(r.source, 'PATH');
    assert.equal(r.command, '/usr/bin/python3');
    assert.deepEqual(
        r.attempts.map((a) => [a.source, a.ok, a.reason]),
        [
            ['python extension', false, '/venv/bin/python is cpython 3.10.4; the bundle is for CPython 3.11, 3.12'],
            ['pitfalls.interpreter', false, '/opt/py/bin/pypy is pypy 3.11.9; the bundle is for CPython 3.11, 3.12'],
            ['PATH', true, undefined],
        ],
    );
});

test('useBundled: pitfalls.interpreter with arguments keeps them before -I -S', async () => {
    const probe = fakeProbe(['/usr/bin/conda']);
    const r = await resolveServerCommand({ ...bundled, interpreterSetting: ['conda', 'run', '-n', 'app', 'python'] }, probe);
    assert.ok(r.ok);
    assert.equal(r.source, 'pitfalls.interpreter');
    assert.deepEqual(r.args, ['run', '-n', 'app', 'python', '-I', '-S', '/ext/bundled/launch.py', 'server']);
    assert.ok(probe.calls.includes('version /usr/bin/conda run -n app python'));
});

test('useBundled: pitfalls.path still comes first', async () => {
    const probe = fakeProbe(['/opt/pf/bin/pitfalls', '/usr/bin/python3']);
    const r = await resolveServerCommand({ ...bundled, pathSetting: ['/opt/pf/bin/pitfalls'] }, probe);
    assert.ok(r.ok);
    assert.equal(r.source, 'pitfalls.path');
    assert.equal(r.bundled, false);
    assert.ok(!probe.calls.some((c) => c.startsWith('version')));
});

test('useBundled: no Python for the bundle falls back on the environment', async () => {
    const probe = fakeProbe(['/usr/bin/python3', '/usr/local/bin/pitfalls'], [], { '/usr/bin/python3': 'cpython 3.9.2' });
    const r = await resolveServerCommand(bundled, probe);
    assert.ok(r.ok);
    assert.equal(r.source, 'PATH');
    assert.equal(r.bundled, false);
    assert.equal(r.command, '/usr/local/bin/pitfalls');
    assert.deepEqual(r.attempts.map((a) => [a.bundled, a.ok]), [[true, false], [true, false], [false, true]]);
    assert.equal(r.attempts[1].reason, 'no python on PATH');
});

test('fromEnvironment: no pitfalls in the environment falls back on the bundle', async () => {
    const probe = fakeProbe(['/venv/bin/python', '/usr/bin/python3'], [], { '/venv/bin/python': 'broken' });
    const r = await resolveServerCommand({ ...bundled, importStrategy: 'fromEnvironment', pythonExtension: ['/venv/bin/python'] }, probe);
    assert.ok(r.ok);
    assert.equal(r.bundled, true);
    assert.equal(r.command, '/usr/bin/python3');
    assert.deepEqual(
        r.attempts.map((a) => [a.source, a.bundled, a.ok]),
        [
            ['python extension', false, false],
            ['PATH', false, false],
            ['python extension', true, false],
            ['PATH', true, true],
        ],
    );
    assert.equal(r.attempts[2].reason, '/venv/bin/python is not runnable; the bundle is for CPython 3.11, 3.12');
});

test('nothing works with a bundle: the message names the Pythons it needs', async () => {
    const r = await resolveServerCommand({ ...bundled, pythonExtension: ['/venv/bin/python'] }, fakeProbe(['/venv/bin/python'], [], { '/venv/bin/python': 'cpython 3.10.1' }));
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.match(r.message, /needs CPython 3\.11, 3\.12/);
    assert.match(r.message, /"pitfalls\.interpreter"/);
    assert.match(r.message, /"pitfalls\.path"/);
    assert.match(r.message, /\/venv\/bin\/python/);
    assert.ok(!r.message.includes('\n'));
});

test('the bundle\'s Python versions come from its cp3XX folders', () => {
    const libs = temporary('pitfalls-libs-');
    for (const name of ['cp313', 'cp39', 'cp311', 'README', 'cp3x']) mkdirSync(join(libs, name));
    assert.deepEqual(bundledPythonVersions(libs), ['3.9', '3.11', '3.13']);
    assert.deepEqual(bundledPythonVersions(join(libs, 'missing')), []);
});

test('olderThan compares release numbers; an unknown version is older', () => {
    assert.equal(olderThan('0.1.0', '0.1.0'), false);
    assert.equal(olderThan('0.2', '0.1.0'), false);
    assert.equal(olderThan('0.10.0', '0.9.1'), false);
    assert.equal(olderThan('0.0.9', '0.1.0'), true);
    assert.equal(olderThan('0.1.0rc1', '0.1.0'), false);
    assert.equal(olderThan('1.0.0.dev3', '1.0.1'), true);
    assert.equal(olderThan(undefined, '0.1.0'), true);
    assert.equal(olderThan('dev', '0.1.0'), true);
});

test('the real probe tells a real interpreter\'s version', async () => {
    const found = await nodeProbe.pythonVersion(['python3']);
    assert.ok(found, 'python3 runs');
    assert.equal(found.implementation, 'cpython');
    assert.match(found.version, /^3\.\d+\.\d+$/);
    assert.equal(await nodeProbe.pythonVersion([join(tmpdir(), 'no-such-python')]), undefined);
});

import { strict as assert } from 'node:assert';
import { chmodSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
    doctorCommand,
    expandVariables,
    failureMessage,
    nodeProbe,
    pathCandidates,
    Probe,
    resolveServerCommand,
    shellQuote,
    withServer,
} from '../src/resolve';

/** A probe over a fake file system: executables, and interpreters that have pitfalls. */
function fakeProbe(executables: string[], withPitfalls: string[] = []): Probe & { calls: string[] } {
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
    };
}

const base = { pathSetting: [], interpreterSetting: [], envPath: '/usr/bin:/usr/local/bin', platform: 'linux' as const };

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
    const message = failureMessage([{ source: 'pitfalls.path', command: ['/x'], ok: false, reason: '/x is not an executable file' }], {});
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
    assert.deepEqual(doctorCommand({ ok: true, source: 'PATH', command: '/b/pitfalls', args: ['server'], attempts: [] }), ['/b/pitfalls', 'doctor']);
    assert.deepEqual(
        doctorCommand({ ok: true, source: 'python extension', command: '/v/python', args: ['-m', 'pitfalls', 'server'], attempts: [] }),
        ['/v/python', '-m', 'pitfalls', 'doctor'],
    );
    assert.equal(doctorCommand({ ok: false, attempts: [], message: 'm' }), undefined);
    assert.equal(shellQuote(['/a b/python', '-m', 'pitfalls', "it's"], 'linux'), `'/a b/python' -m pitfalls 'it'\\''s'`);
    assert.equal(shellQuote(['C:\\a b\\python.exe', 'doctor'], 'win32'), '"C:\\a b\\python.exe" doctor');
});

test('the real probe on real files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pitfalls-resolve-'));
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

    const r = await resolveServerCommand({ pathSetting: [], interpreterSetting: [nopython], envPath: bin, platform: 'linux' });
    assert.ok(r.ok);
    assert.equal(r.source, 'PATH');
    assert.equal(r.command, exe);
    const viaInterpreter = await resolveServerCommand({ pathSetting: [], interpreterSetting: [python], envPath: '', platform: 'linux' });
    assert.ok(viaInterpreter.ok);
    assert.equal(viaInterpreter.source, 'pitfalls.interpreter');
});

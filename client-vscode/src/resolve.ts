/**
 * Which command starts `pitfalls server`. Pure of `vscode` (node's fs and child_process
 * only, behind the injectable `Probe`), so it is unit-tested under plain node.
 *
 * `pitfalls.path` comes first, whatever the strategy. Then, by `pitfalls.importStrategy`:
 * - `useBundled` (default): the pitfalls bundled in the extension (bundled/launch.py, run as
 *   `python -I -S launch.py server`) with the first of the Python extension's interpreter,
 *   `pitfalls.interpreter` and `python3` (or `python`) on PATH that is a CPython the bundle was
 *   built for; else the environment's pitfalls, as below.
 * - `fromEnvironment`: `python -m pitfalls server` with the Python extension's interpreter or
 *   `pitfalls.interpreter` when pitfalls is installed there, else `pitfalls` on PATH; else the
 *   bundle, as above.
 * The first that works wins; when none does, `message` says how to fix it.
 */

import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import * as nodePath from 'node:path';

export type Source = 'pitfalls.path' | 'python extension' | 'pitfalls.interpreter' | 'PATH';
export type ImportStrategy = 'useBundled' | 'fromEnvironment';

export interface Bundle {
    /** bundled/launch.py: `python -I -S launch.py ARGS` is `pitfalls ARGS`. */
    launcher: string;
    /** The CPython versions it has libraries for (`3.11`, ...); empty when the build has none. */
    pythonVersions: readonly string[];
}

export interface ResolveInputs {
    importStrategy: ImportStrategy;
    bundle: Bundle;
    /** `pitfalls.path`: the executable, optionally with arguments. */
    pathSetting: readonly string[];
    /** The Python extension's selected interpreter (its execution command), if any. */
    pythonExtension?: readonly string[] | undefined;
    /** `pitfalls.interpreter`: a Python interpreter, optionally with arguments. */
    interpreterSetting: readonly string[];
    /** The PATH to look `pitfalls` and `python3` up on. */
    envPath: string | undefined;
    platform?: NodeJS.Platform;
    /** Windows' PATHEXT. */
    pathExt?: string;
    /** For `${workspaceFolder}` in settings. */
    workspaceFolder?: string;
    /** For `~` and `${userHome}`. */
    home?: string;
    /** For `${env:NAME}`. */
    env?: Readonly<Record<string, string | undefined>>;
}

export interface PythonVersion {
    /** `sys.implementation.name`: `cpython`, `pypy`, ... */
    implementation: string;
    /** `3.11.7` */
    version: string;
}

export interface Probe {
    /** Whether `file` is an executable file. */
    isExecutable(file: string): Promise<boolean>;
    /** Whether `python` (a command and its arguments) can import pitfalls. */
    hasPitfalls(python: readonly string[]): Promise<boolean>;
    /** What `python` is, or undefined when it does not run. */
    pythonVersion(python: readonly string[]): Promise<PythonVersion | undefined>;
}

export interface Attempt {
    source: Source;
    /** Whether this was the bundled pitfalls run by the source's interpreter. */
    bundled: boolean;
    command: readonly string[];
    ok: boolean;
    reason?: string;
}

export type Resolution =
    | {
          ok: true;
          source: Source;
          bundled: boolean;
          command: string;
          args: string[];
          /** The interpreter's version when it runs the bundle. */
          python?: string;
          attempts: Attempt[];
      }
    | { ok: false; attempts: Attempt[]; message: string };

type Found = Omit<Extract<Resolution, { ok: true }>, 'ok' | 'attempts'>;

export const INSTALL_HINT = 'pip install pitfalls';

/** Expands `~`, `${userHome}`, `${workspaceFolder}` and `${env:NAME}` in a setting's value. */
export function expandVariables(value: string, inputs: Pick<ResolveInputs, 'workspaceFolder' | 'home' | 'env'>): string {
    let out = value.replace(/\$\{(workspaceFolder|userHome|env:([A-Za-z_][A-Za-z0-9_]*))\}/g, (whole, name: string, envName?: string) => {
        if (name === 'workspaceFolder') return inputs.workspaceFolder ?? whole;
        if (name === 'userHome') return inputs.home ?? whole;
        return inputs.env?.[envName ?? ''] ?? '';
    });
    if (inputs.home && (out === '~' || out.startsWith('~/') || out.startsWith('~\\'))) {
        out = inputs.home + out.slice(1);
    }
    return out;
}

function pathModule(platform: NodeJS.Platform): typeof nodePath.posix {
    return platform === 'win32' ? nodePath.win32 : nodePath.posix;
}

/** Candidates for `name` on `envPath` (with PATHEXT's extensions on Windows), in order. */
export function pathCandidates(name: string, envPath: string | undefined, platform: NodeJS.Platform, pathExt?: string): string[] {
    const p = pathModule(platform);
    const dirs = (envPath ?? '').split(platform === 'win32' ? ';' : ':').filter((d) => d !== '');
    const exts =
        platform === 'win32'
            ? ['', ...(pathExt ?? '.COM;.EXE;.BAT;.CMD').split(';').filter((e) => e !== '').map((e) => e.toLowerCase())]
            : [''];
    const out: string[] = [];
    for (const dir of dirs) {
        for (const ext of exts) out.push(p.join(dir.replace(/^"(.*)"$/, '$1'), name + ext));
    }
    return out;
}

/** The first executable `name` on PATH, or undefined. A name with a separator is a path. */
export async function which(name: string, inputs: ResolveInputs, probe: Probe): Promise<string | undefined> {
    const platform = inputs.platform ?? process.platform;
    const p = pathModule(platform);
    if (name.includes('/') || (platform === 'win32' && name.includes('\\'))) {
        const file = p.isAbsolute(name) || !inputs.workspaceFolder ? name : p.join(inputs.workspaceFolder, name);
        return (await probe.isExecutable(file)) ? file : undefined;
    }
    for (const candidate of pathCandidates(name, inputs.envPath, platform, inputs.pathExt)) {
        if (await probe.isExecutable(candidate)) return candidate;
    }
    return undefined;
}

/** `[exe, ...args]` with `server` appended unless an argument already is `server`. */
export function withServer(args: readonly string[]): string[] {
    return args.includes('server') ? [...args] : [...args, 'server'];
}

/** The CPython versions a bundle folder (bundled/libs, with one cp3XX folder each) has. */
export function bundledPythonVersions(libs: string): string[] {
    if (!existsSync(libs)) return [];
    return readdirSync(libs)
        .map((name) => /^cp3(\d+)$/.exec(name)?.[1])
        .filter((minor): minor is string => minor !== undefined)
        .sort((a, b) => Number(a) - Number(b))
        .map((minor) => `3.${minor}`);
}

/** Resolves the server command (see the module's comment). */
export async function resolveServerCommand(inputs: ResolveInputs, probe: Probe = nodeProbe): Promise<Resolution> {
    const attempts: Attempt[] = [];
    const steps = inputs.importStrategy === 'fromEnvironment' ? [fromEnvironment, fromBundle] : [fromBundle, fromEnvironment];
    for (const step of [fromPathSetting, ...steps]) {
        const found = await step(inputs, probe, attempts);
        if (found) return { ok: true, ...found, attempts };
    }
    return { ok: false, attempts, message: failureMessage(attempts, inputs) };
}

function expand(values: readonly string[], inputs: ResolveInputs): string[] {
    return values.map((v) => expandVariables(v, inputs)).filter((v) => v !== '');
}

/** The interpreters a user chose: the Python extension's, then `pitfalls.interpreter`. */
function chosenInterpreters(inputs: ResolveInputs): Array<[Source, string[]]> {
    const pythons: Array<[Source, string[]]> = [];
    if (inputs.pythonExtension && inputs.pythonExtension.length > 0) pythons.push(['python extension', [...inputs.pythonExtension]]);
    const interpreter = expand(inputs.interpreterSetting, inputs);
    if (interpreter.length > 0) pythons.push(['pitfalls.interpreter', interpreter]);
    return pythons;
}

async function fromPathSetting(inputs: ResolveInputs, probe: Probe, attempts: Attempt[]): Promise<Found | undefined> {
    const path = expand(inputs.pathSetting, inputs);
    if (path.length === 0) return undefined;
    const exe = await which(path[0], inputs, probe);
    const command = [exe ?? path[0], ...withServer(path.slice(1))];
    attempts.push({ source: 'pitfalls.path', bundled: false, command, ok: exe !== undefined, reason: exe ? undefined : `${path[0]} is not an executable file` });
    return exe ? { source: 'pitfalls.path', bundled: false, command: exe, args: command.slice(1) } : undefined;
}

async function fromEnvironment(inputs: ResolveInputs, probe: Probe, attempts: Attempt[]): Promise<Found | undefined> {
    for (const [source, python] of chosenInterpreters(inputs)) {
        const command = [...python, '-m', 'pitfalls', 'server'];
        const exe = await which(python[0], inputs, probe);
        if (!exe) {
            attempts.push({ source, bundled: false, command, ok: false, reason: `${python[0]} is not an executable file` });
        } else if (!(await probe.hasPitfalls([exe, ...python.slice(1)]))) {
            attempts.push({ source, bundled: false, command, ok: false, reason: `pitfalls is not installed for ${python.join(' ')}` });
        } else {
            attempts.push({ source, bundled: false, command, ok: true });
            return { source, bundled: false, command: exe, args: command.slice(1) };
        }
    }
    const onPath = await which('pitfalls', inputs, probe);
    attempts.push({ source: 'PATH', bundled: false, command: [onPath ?? 'pitfalls', 'server'], ok: onPath !== undefined, reason: onPath ? undefined : 'no pitfalls executable on PATH' });
    return onPath ? { source: 'PATH', bundled: false, command: onPath, args: ['server'] } : undefined;
}

async function fromBundle(inputs: ResolveInputs, probe: Probe, attempts: Attempt[]): Promise<Found | undefined> {
    const versions = inputs.bundle.pythonVersions;
    if (versions.length === 0) return undefined;
    const candidates: Array<[Source, string[]]> = [...chosenInterpreters(inputs), ['PATH', ['python3']], ['PATH', ['python']]];
    for (const [source, python] of candidates) {
        const command = [...python, '-I', '-S', inputs.bundle.launcher, 'server'];
        const exe = await which(python[0], inputs, probe);
        if (!exe) {
            const reason = source === 'PATH' ? `no ${python[0]} on PATH` : `${python[0]} is not an executable file`;
            attempts.push({ source, bundled: true, command, ok: false, reason });
            continue;
        }
        const found = await probe.pythonVersion([exe, ...python.slice(1)]);
        if (found?.implementation === 'cpython' && versions.includes(found.version.split('.').slice(0, 2).join('.'))) {
            attempts.push({ source, bundled: true, command, ok: true });
            return { source, bundled: true, command: exe, args: command.slice(1), python: found.version };
        }
        const what = found ? `${found.implementation} ${found.version}` : 'not runnable';
        attempts.push({ source, bundled: true, command, ok: false, reason: `${python.join(' ')} is ${what}; the bundle is for CPython ${versions.join(', ')}` });
    }
    return undefined;
}

/** One actionable sentence: what is missing, how to install it, which setting to set. */
export function failureMessage(attempts: readonly Attempt[], inputs: Pick<ResolveInputs, 'pythonExtension' | 'bundle'>): string {
    const python = inputs.pythonExtension && inputs.pythonExtension.length > 0 ? inputs.pythonExtension.join(' ') : undefined;
    const where = python ? `the selected interpreter (${python})` : 'your project\'s environment';
    const badPath = attempts.find((a) => a.source === 'pitfalls.path' && !a.ok);
    const prefix = badPath ? `pitfalls.path does not work (${badPath.reason}). ` : '';
    const versions = inputs.bundle.pythonVersions;
    if (versions.length === 0) {
        return (
            `${prefix}pitfalls could not start: it is not installed in ${where} nor on PATH. ` +
            `Install it with \`${INSTALL_HINT}\` there, or set "pitfalls.interpreter" to a Python that has it, ` +
            `or "pitfalls.path" to the pitfalls executable.`
        );
    }
    return (
        `${prefix}pitfalls could not start: its bundled server needs CPython ${versions.join(', ')} and none was found ` +
        `(the selected interpreter, "pitfalls.interpreter", python3 on PATH), nor is pitfalls installed in ${where} or on PATH. ` +
        `Install one of those Pythons or set "pitfalls.interpreter" to one, or install pitfalls (\`${INSTALL_HINT}\`) ` +
        `and set "pitfalls.path" to it.`
    );
}

/** Whether a server's `serverInfo.version` is older than `minimum` (release numbers compared;
 * a pre-release counts as its release). An unknown version counts as older. */
export function olderThan(version: string | undefined, minimum: string): boolean {
    const release = (v: string) => (/^\d+(\.\d+)*/.exec(v.trim())?.[0] ?? '').split('.').filter((p) => p !== '').map(Number);
    const have = version === undefined ? [] : release(version);
    const need = release(minimum);
    if (have.length === 0) return true;
    for (let i = 0; i < Math.max(have.length, need.length); i++) {
        const [a, b] = [have[i] ?? 0, need[i] ?? 0];
        if (a !== b) return a < b;
    }
    return false;
}

/** The command that runs `pitfalls doctor` alongside a resolved server command. */
export function doctorCommand(resolution: Resolution): string[] | undefined {
    if (!resolution.ok) return undefined;
    const args = [...resolution.args];
    const i = args.lastIndexOf('server');
    if (i >= 0) args.splice(i, 1);
    return [resolution.command, ...args, 'doctor'];
}

/** Quotes a command for a POSIX shell or PowerShell/cmd terminal. */
export function shellQuote(command: readonly string[], platform: NodeJS.Platform = process.platform): string {
    return command
        .map((arg) => {
            if (/^[A-Za-z0-9_@%+=:,./\\-]+$/.test(arg)) return arg;
            return platform === 'win32' ? `"${arg.replace(/"/g, '""')}"` : `'${arg.replace(/'/g, `'\\''`)}'`;
        })
        .join(' ');
}

/** The real probe: the file system and a short-lived child process. */
export const nodeProbe: Probe = {
    async isExecutable(file: string): Promise<boolean> {
        try {
            const s = await stat(file);
            if (!s.isFile()) return false;
            if (process.platform === 'win32') return true;
            await access(file, constants.X_OK);
            return true;
        } catch {
            return false;
        }
    },
    hasPitfalls(python: readonly string[]): Promise<boolean> {
        return new Promise((resolve) => {
            execFile(python[0], [...python.slice(1), '-c', 'import pitfalls'], { timeout: 20000, windowsHide: true }, (error) =>
                resolve(!error),
            );
        });
    },
    pythonVersion(python: readonly string[]): Promise<PythonVersion | undefined> {
        const script = 'import sys; print(sys.implementation.name, "%d.%d.%d" % sys.version_info[:3])';
        return new Promise((resolve) => {
            // -I -S: as the bundle is run, so a broken site-packages cannot fail the probe alone
            execFile(python[0], [...python.slice(1), '-I', '-S', '-c', script], { timeout: 20000, windowsHide: true }, (error, stdout) => {
                const match = /^(\S+) (\d+\.\d+\.\d+)\s*$/.exec(String(stdout));
                resolve(!error && match ? { implementation: match[1], version: match[2] } : undefined);
            });
        });
    },
};

/**
 * Which command starts `pitfalls server`. Pure of `vscode` (node's fs and child_process
 * only, behind the injectable `Probe`), so it is unit-tested under plain node.
 *
 * Order: the `pitfalls.path` setting; the interpreter selected in the Python extension
 * (`python -m pitfalls server`); the `pitfalls.interpreter` setting; `pitfalls` on PATH.
 * The first that works wins; when none does, `message` says how to fix it.
 */

import { execFile } from 'node:child_process';
import { access, constants, stat } from 'node:fs/promises';
import * as nodePath from 'node:path';

export type Source = 'pitfalls.path' | 'python extension' | 'pitfalls.interpreter' | 'PATH';

export interface ResolveInputs {
    /** `pitfalls.path`: the executable, optionally with arguments. */
    pathSetting: readonly string[];
    /** The Python extension's selected interpreter (its execution command), if any. */
    pythonExtension?: readonly string[] | undefined;
    /** `pitfalls.interpreter`: a Python interpreter, optionally with arguments. */
    interpreterSetting: readonly string[];
    /** The PATH to look `pitfalls` up on. */
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

export interface Probe {
    /** Whether `file` is an executable file. */
    isExecutable(file: string): Promise<boolean>;
    /** Whether `python` (a command and its arguments) can import pitfalls. */
    hasPitfalls(python: readonly string[]): Promise<boolean>;
}

export interface Attempt {
    source: Source;
    command: readonly string[];
    ok: boolean;
    reason?: string;
}

export type Resolution =
    | { ok: true; source: Source; command: string; args: string[]; attempts: Attempt[] }
    | { ok: false; attempts: Attempt[]; message: string };

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

/** Resolves the server command (see the module's comment). */
export async function resolveServerCommand(inputs: ResolveInputs, probe: Probe = nodeProbe): Promise<Resolution> {
    const attempts: Attempt[] = [];
    const expand = (values: readonly string[]) => values.map((v) => expandVariables(v, inputs)).filter((v) => v !== '');

    const path = expand(inputs.pathSetting);
    if (path.length > 0) {
        const exe = await which(path[0], inputs, probe);
        const command = [exe ?? path[0], ...withServer(path.slice(1))];
        if (exe) {
            attempts.push({ source: 'pitfalls.path', command, ok: true });
            return { ok: true, source: 'pitfalls.path', command: exe, args: command.slice(1), attempts };
        }
        attempts.push({ source: 'pitfalls.path', command, ok: false, reason: `${path[0]} is not an executable file` });
    }

    const pythons: Array<[Source, string[]]> = [];
    if (inputs.pythonExtension && inputs.pythonExtension.length > 0) pythons.push(['python extension', [...inputs.pythonExtension]]);
    const interpreter = expand(inputs.interpreterSetting);
    if (interpreter.length > 0) pythons.push(['pitfalls.interpreter', interpreter]);
    for (const [source, python] of pythons) {
        const command = [...python, '-m', 'pitfalls', 'server'];
        const exe = await which(python[0], inputs, probe);
        if (!exe) {
            attempts.push({ source, command, ok: false, reason: `${python[0]} is not an executable file` });
        } else if (!(await probe.hasPitfalls([exe, ...python.slice(1)]))) {
            attempts.push({ source, command, ok: false, reason: `pitfalls is not installed for ${python.join(' ')}` });
        } else {
            attempts.push({ source, command, ok: true });
            return { ok: true, source, command: exe, args: command.slice(1), attempts };
        }
    }

    const onPath = await which('pitfalls', inputs, probe);
    if (onPath) {
        attempts.push({ source: 'PATH', command: [onPath, 'server'], ok: true });
        return { ok: true, source: 'PATH', command: onPath, args: ['server'], attempts };
    }
    attempts.push({ source: 'PATH', command: ['pitfalls', 'server'], ok: false, reason: 'no pitfalls executable on PATH' });
    return { ok: false, attempts, message: failureMessage(attempts, inputs) };
}

/** One actionable sentence: what was tried, how to install, which setting to set. */
export function failureMessage(attempts: readonly Attempt[], inputs: Pick<ResolveInputs, 'pythonExtension'>): string {
    const python = inputs.pythonExtension && inputs.pythonExtension.length > 0 ? inputs.pythonExtension.join(' ') : undefined;
    const where = python ? `the selected interpreter (${python})` : 'your project\'s environment';
    const badPath = attempts.find((a) => a.source === 'pitfalls.path' && !a.ok);
    const prefix = badPath ? `pitfalls.path does not work (${badPath.reason}). ` : '';
    return (
        `${prefix}pitfalls could not start: it is not installed in ${where} nor on PATH. ` +
        `Install it with \`${INSTALL_HINT}\` there, or set "pitfalls.interpreter" to a Python that has it, ` +
        `or "pitfalls.path" to the pitfalls executable.`
    );
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
};

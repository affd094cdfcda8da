/**
 * The pitfalls extension: starts `pitfalls server` (one for the whole window, per-folder
 * settings answered on `workspace/configuration`) with vscode-languageclient.
 */

import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
    CodeAction,
    Command,
    LanguageClient,
    LanguageClientOptions,
    ResponseError,
    RevealOutputChannelOn,
    ServerOptions,
    State,
    StaticFeature,
} from 'vscode-languageclient/node';
import { Bundle, bundledPythonVersions, doctorCommand, olderThan, Resolution, resolveServerCommand, shellQuote } from './resolve';
import { applySeverities, parseSeverityMap } from './severity';
import { initializationOptions, normalizeSettings, notifies, RESTART_SETTINGS, toServerSettings } from './settings';

const SECTION = 'pitfalls';
const FIX_ALL_KIND = vscode.CodeActionKind.SourceFixAll.append('pitfalls');
const TOKEN_KEY = 'pitfalls.directus.token';
const REFRESH_SCHEMA_REQUEST = 'pitfalls/refreshLiveSchema';
const METHOD_NOT_FOUND = -32601;

let client: LanguageClient | undefined;
let resolution: Resolution | undefined;
let output: vscode.OutputChannel;
let status: vscode.LanguageStatusItem;
let context: vscode.ExtensionContext;
let starting: Promise<void> | undefined;
/** The server's diagnostics as it sent them, before `pitfalls.severity`, per document. */
const original = new Map<string, vscode.Diagnostic[]>();

/**
 * Keeps diagnostics pushed: it withdraws the pull capability vscode-languageclient declares,
 * so the server (which offers pull only to clients that declare it) publishes, and
 * `middleware.handleDiagnostics` applies `pitfalls.severity` to every diagnostic. Pulled
 * reports would bypass that middleware. Registered after the built-in features, whose
 * capabilities it edits.
 */
const pushedDiagnostics: StaticFeature = {
    fillClientCapabilities: (capabilities) => {
        delete capabilities.textDocument?.diagnostic;
    },
    initialize: () => undefined,
    getState: () => ({ kind: 'static' }),
    clear: () => undefined,
};

function settingsFor(resource?: vscode.Uri) {
    return normalizeSettings(vscode.workspace.getConfiguration(SECTION, resource));
}

function firstFolder(): vscode.WorkspaceFolder | undefined {
    return vscode.workspace.workspaceFolders?.[0];
}

/** The language status of Python files: the server's state, version and where it runs from. */
function setStatus(state: 'starting' | 'ready' | 'error' | 'stopped', detail: string, version?: string): void {
    status.text = version ? `pitfalls ${version}` : 'pitfalls';
    status.detail = detail;
    status.busy = state === 'starting';
    status.severity = state === 'error' ? vscode.LanguageStatusSeverity.Error : vscode.LanguageStatusSeverity.Information;
}

/** A message about the server, if `pitfalls.showNotifications` lets its level through. */
function notify(level: 'error' | 'warning' | 'info', message: string): void {
    if (!notifies(settingsFor(firstFolder()?.uri).showNotifications, level)) return;
    if (level === 'info') {
        void vscode.window.showInformationMessage(message);
        return;
    }
    const show = level === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    void show(message, 'Open Settings', 'Show Output').then((choice) => {
        if (choice === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'pitfalls.');
        if (choice === 'Show Output') output.show();
    });
}

/** Where a resolved server runs from, for the status and the log. */
function describe(r: Extract<Resolution, { ok: true }>): string {
    return r.bundled ? `bundled, run by ${r.command} (CPython ${r.python})` : `${r.command}, from ${r.source}`;
}

/** The Python extension's selected interpreter for `resource`, if it is installed. */
async function pythonExtensionInterpreter(resource?: vscode.Uri): Promise<string[] | undefined> {
    const ext = vscode.extensions.getExtension('ms-python.python');
    if (!ext) return undefined;
    try {
        const api: any = ext.isActive ? ext.exports : await ext.activate();
        const environments = api?.environments;
        if (environments?.getActiveEnvironmentPath) {
            const active = environments.getActiveEnvironmentPath(resource);
            const env = active ? await environments.resolveEnvironment(active) : undefined;
            const exe: string | undefined = env?.executable?.uri?.fsPath ?? (active?.path as string | undefined);
            if (exe) return [exe];
        }
        const details = api?.settings?.getExecutionDetails?.(resource);
        if (Array.isArray(details?.execCommand) && details.execCommand.length > 0) return details.execCommand;
    } catch (error) {
        output.appendLine(`pitfalls: could not ask the Python extension for its interpreter: ${error}`);
    }
    return undefined;
}

/** The server bundled in this build of the extension (none unless scripts/build-vsix.sh made it). */
function bundle(): Bundle {
    const root = context.asAbsolutePath('bundled');
    return { launcher: path.join(root, 'launch.py'), pythonVersions: bundledPythonVersions(path.join(root, 'libs')) };
}

async function resolve(): Promise<Resolution> {
    const folder = firstFolder();
    const settings = settingsFor(folder?.uri);
    return resolveServerCommand({
        importStrategy: settings.importStrategy,
        bundle: bundle(),
        pathSetting: settings.path,
        pythonExtension: await pythonExtensionInterpreter(folder?.uri),
        interpreterSetting: settings.interpreter,
        envPath: process.env.PATH ?? process.env.Path,
        pathExt: process.env.PATHEXT,
        workspaceFolder: folder?.uri.fsPath,
        home: os.homedir(),
        env: process.env,
    });
}

function reapplySeverities(): void {
    if (!client?.diagnostics) return;
    for (const [key, diagnostics] of original) {
        const uri = vscode.Uri.parse(key);
        const map = parseSeverityMap(settingsFor(uri).severity);
        client.diagnostics.set(uri, applySeverities(diagnostics.map(copyDiagnostic), map));
    }
}

function copyDiagnostic(d: vscode.Diagnostic): vscode.Diagnostic {
    const c = new vscode.Diagnostic(d.range, d.message, d.severity);
    Object.assign(c, d);
    return c;
}

function clientOptions(): LanguageClientOptions {
    const folder = firstFolder();
    const settings = settingsFor(folder?.uri);
    return {
        documentSelector: [
            { scheme: 'file', language: 'python' },
            { scheme: 'untitled', language: 'python' },
        ],
        outputChannel: output,
        traceOutputChannel: output,
        revealOutputChannelOn: RevealOutputChannelOn.Never,
        initializationOptions: initializationOptions(settings, context.extension.packageJSON.version ?? '0.0.0'),
        synchronize: { configurationSection: SECTION },
        initializationFailedHandler: (error) => {
            output.appendLine(`pitfalls: the server failed to initialize: ${error}`);
            setStatus('error', 'the server failed to initialize');
            return false;
        },
        middleware: {
            handleDiagnostics: (uri, diagnostics, next) => {
                original.set(uri.toString(), diagnostics.map(copyDiagnostic));
                const map = parseSeverityMap(settingsFor(uri).severity);
                next(uri, applySeverities(diagnostics, map));
            },
            provideCodeActions: async (document, range, ctx, token, next) => {
                const actions = await next(document, range, ctx, token);
                if (!actions || settingsFor(document.uri).fixAll) return actions;
                return actions.filter((a: vscode.Command | vscode.CodeAction | CodeAction | Command) =>
                    !('kind' in a && a.kind && FIX_ALL_KIND.contains(a.kind as vscode.CodeActionKind)),
                );
            },
            workspace: {
                configuration: async (params, token, next) => {
                    const answers = await next(params, token);
                    if (!Array.isArray(answers)) return answers;
                    return answers.map((answer, i) =>
                        params.items[i]?.section === SECTION ? toServerSettings(normalizeSettings(answer)) : answer,
                    );
                },
            },
        },
    };
}

async function start(): Promise<void> {
    const settings = settingsFor(firstFolder()?.uri);
    if (!settings.enable) {
        setStatus('stopped', 'disabled by pitfalls.enable');
        return;
    }
    setStatus('starting', 'looking for the server');
    const found = await resolve();
    resolution = found;
    for (const a of found.attempts) {
        const what = a.bundled ? `the bundled pitfalls with ${a.source}` : a.source;
        output.appendLine(`pitfalls: ${a.ok ? 'using' : 'tried'} ${what}: ${a.command.join(' ')}${a.reason ? ` (${a.reason})` : ''}`);
    }
    if (!found.ok) {
        output.appendLine(`pitfalls: ${found.message}`);
        setStatus('error', 'no server found: see the output');
        notify('error', found.message);
        return;
    }
    // the other strategy's server, because the chosen one had none
    if (found.source !== 'pitfalls.path' && found.bundled !== (settings.importStrategy === 'useBundled')) {
        const message = found.bundled
            ? `pitfalls is not installed in the environment; using the bundled pitfalls (${describe(found)}).`
            : `no Python the bundled pitfalls runs with was found; using ${describe(found)}.`;
        output.appendLine(`pitfalls: ${message}`);
        notify('warning', `pitfalls: ${message}`);
    }
    const env: NodeJS.ProcessEnv = { ...process.env };
    const token = await context.secrets.get(TOKEN_KEY);
    if (token) env.DIRECTUS_TOKEN = token;
    const serverOptions: ServerOptions = {
        command: found.command,
        args: [...found.args, '--log-level', settings.logLevel],
        // no `transport`: stdio all the same, without the `--stdio` argument that
        // TransportKind.stdio appends and `pitfalls server` rejects
        options: { env, cwd: firstFolder()?.uri.fsPath },
    };
    const c = new LanguageClient('pitfalls', 'pitfalls', serverOptions, clientOptions());
    c.registerFeature(pushedDiagnostics);
    client = c;
    c.onDidChangeState((e) => {
        if (client !== c) return;
        if (e.newState === State.Starting) setStatus('starting', 'starting the server');
        else if (e.newState === State.Running) setStatus('ready', describe(found), c.initializeResult?.serverInfo?.version);
        else setStatus('error', 'the server stopped: see the output');
    });
    try {
        await c.start();
    } catch (error) {
        output.appendLine(`pitfalls: could not start ${[found.command, ...found.args].join(' ')}: ${error}`);
        setStatus('error', 'the server could not start: see the output');
        notify('error', 'pitfalls: the server could not start; see the output for why.');
        return;
    }
    const version = c.initializeResult?.serverInfo?.version;
    const minimum: string = context.extension.packageJSON.minimumServerVersion;
    if (olderThan(version, minimum)) {
        const fix = found.bundled ? 'rebuild the extension' : 'upgrade it, or clear "pitfalls.path" and set "pitfalls.importStrategy" to "useBundled"';
        const message = `pitfalls: the server ${found.command} is ${version ?? 'of no known version'}, older than the ${minimum} this extension needs: ${fix}.`;
        output.appendLine(message);
        await stop();
        setStatus('error', `the server is older than ${minimum}`, version);
        notify('error', message);
        return;
    }
    output.appendLine(`pitfalls: pitfalls ${version} is running (${describe(found)})`);
    notify('info', `pitfalls ${version} is running (${describe(found)}).`);
}

async function stop(): Promise<void> {
    const c = client;
    client = undefined;
    original.clear();
    if (c) {
        try {
            await c.stop(5000);
        } catch (error) {
            output.appendLine(`pitfalls: stopping the server: ${error}`);
        }
        await c.dispose().catch(() => undefined);
    }
}

async function restart(): Promise<void> {
    const previous = starting ?? Promise.resolve();
    starting = previous.then(async () => {
        await stop();
        await start();
    });
    return starting;
}

async function fixAll(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.languageId !== 'python') {
        void vscode.window.showInformationMessage('pitfalls: open a Python file to fix.');
        return;
    }
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
        'vscode.executeCodeActionProvider',
        editor.document.uri,
        new vscode.Range(0, 0, editor.document.lineCount, 0),
        FIX_ALL_KIND.value,
    );
    const action = (actions ?? []).find((a) => a.kind && FIX_ALL_KIND.contains(a.kind));
    if (!action) {
        void vscode.window.setStatusBarMessage('pitfalls: nothing to fix', 3000);
        return;
    }
    if (action.edit) await vscode.workspace.applyEdit(action.edit);
    if (action.command) await vscode.commands.executeCommand(action.command.command, ...(action.command.arguments ?? []));
}

async function refreshLiveSchema(): Promise<void> {
    if (!client || !client.isRunning()) {
        void vscode.window.showWarningMessage('pitfalls: the server is not running.');
        return;
    }
    try {
        await client.sendRequest(REFRESH_SCHEMA_REQUEST, {});
        void vscode.window.setStatusBarMessage('pitfalls: live schema refreshed', 3000);
    } catch (error) {
        if (error instanceof ResponseError && error.code === METHOD_NOT_FOUND) {
            void vscode.window.showInformationMessage(
                'pitfalls: this version of the pitfalls server cannot refresh a live schema yet; restart the server to re-read it.',
                'Restart Server',
            ).then((choice) => choice && restart());
        } else {
            output.appendLine(`pitfalls: refreshing the live schema failed: ${error}`);
            void vscode.window.showErrorMessage(`pitfalls: refreshing the live schema failed: ${error instanceof Error ? error.message : error}`);
        }
    }
}

async function runDoctor(): Promise<void> {
    const res = resolution?.ok ? resolution : await resolve();
    const command = doctorCommand(res);
    if (!command) {
        void vscode.window.showErrorMessage(res.ok ? 'pitfalls: cannot run doctor.' : res.message);
        return;
    }
    const env: Record<string, string> = {};
    const token = await context.secrets.get(TOKEN_KEY);
    if (token) env.DIRECTUS_TOKEN = token;
    const terminal = vscode.window.createTerminal({ name: 'pitfalls doctor', cwd: firstFolder()?.uri, env });
    terminal.show();
    terminal.sendText(shellQuote(command));
}

async function setDirectusToken(): Promise<void> {
    const value = await vscode.window.showInputBox({
        title: 'pitfalls: Directus token',
        prompt: 'Stored in VS Code\'s secret storage and given to the server as DIRECTUS_TOKEN. Empty: forget the stored token.',
        password: true,
        ignoreFocusOut: true,
    });
    if (value === undefined) return;
    if (value.trim() === '') await context.secrets.delete(TOKEN_KEY);
    else await context.secrets.store(TOKEN_KEY, value.trim());
    await restart();
}

export async function activate(ctx: vscode.ExtensionContext): Promise<void> {
    context = ctx;
    output = vscode.window.createOutputChannel('pitfalls');
    status = vscode.languages.createLanguageStatusItem('pitfalls.status', { language: 'python' });
    status.name = 'pitfalls';
    status.command = { title: 'Show Output', command: 'pitfalls.showOutput' };
    ctx.subscriptions.push(
        output,
        status,
        vscode.commands.registerCommand('pitfalls.restart', restart),
        vscode.commands.registerCommand('pitfalls.fixAll', fixAll),
        vscode.commands.registerCommand('pitfalls.showOutput', () => output.show()),
        vscode.commands.registerCommand('pitfalls.refreshLiveSchema', refreshLiveSchema),
        vscode.commands.registerCommand('pitfalls.runDoctor', runDoctor),
        vscode.commands.registerCommand('pitfalls.setDirectusToken', setDirectusToken),
        vscode.workspace.onDidChangeConfiguration((e) => {
            if (RESTART_SETTINGS.some((s) => e.affectsConfiguration(s))) void restart();
            else if (e.affectsConfiguration('pitfalls.severity')) reapplySeverities();
        }),
        vscode.workspace.onDidChangeWorkspaceFolders(() => {
            if (!client) void restart();
        }),
        ctx.secrets.onDidChange((e) => {
            if (e.key === TOKEN_KEY) output.appendLine('pitfalls: the Directus token changed');
        }),
    );
    const python = vscode.extensions.getExtension('ms-python.python');
    if (python) {
        try {
            const api: any = python.isActive ? python.exports : await python.activate();
            const event = api?.environments?.onDidChangeActiveEnvironmentPath;
            if (typeof event === 'function') ctx.subscriptions.push(event(() => void restart()));
        } catch {
            // the Python extension is optional
        }
    }
    starting = start();
    await starting;
}

export async function deactivate(): Promise<void> {
    await stop();
}

/**
 * The extension's settings (section `pitfalls`) and what of them goes to the server.
 * Pure: no `vscode` import.
 *
 * The server reads any `[tool.pitfalls]` key plus `run` from initializationOptions and
 * `workspace/configuration`, and logs every other key as unknown: the client-only settings
 * (enable, importStrategy, path, interpreter, severity, fixAll, showNotifications, logLevel,
 * trace) are therefore not sent; the log level goes on the command line (`--log-level`).
 */

export const IMPORT_STRATEGIES = ['useBundled', 'fromEnvironment'] as const;
export const NOTIFICATION_LEVELS = ['off', 'onError', 'onWarning', 'always'] as const;
export const LOG_LEVELS = ['error', 'warning', 'info', 'debug', 'trace'] as const;

export interface ClientSettings {
    enable: boolean;
    importStrategy: (typeof IMPORT_STRATEGIES)[number];
    path: string[];
    interpreter: string[];
    select: string[] | null;
    ignore: string[] | null;
    severity: Record<string, string>;
    fixAll: boolean;
    run: 'onType' | 'onSave';
    showNotifications: (typeof NOTIFICATION_LEVELS)[number];
    logLevel: (typeof LOG_LEVELS)[number];
    directus: { url: string | null; snapshot: string | null };
    database: { url: string | null };
    trace: { server: 'off' | 'messages' | 'verbose' };
}

export const DEFAULT_SETTINGS: ClientSettings = {
    enable: true,
    importStrategy: 'useBundled',
    path: [],
    interpreter: [],
    select: null,
    ignore: null,
    severity: {},
    fixAll: true,
    run: 'onType',
    showNotifications: 'onError',
    logLevel: 'warning',
    directus: { url: null, snapshot: null },
    database: { url: null },
    trace: { server: 'off' },
};

function obj(v: unknown): Record<string, unknown> {
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function strings(v: unknown): string[] | null {
    if (typeof v === 'string') return v.trim() ? [v] : [];
    if (!Array.isArray(v)) return null;
    return v.filter((s): s is string => typeof s === 'string' && s.trim() !== '');
}

function text(v: unknown): string | null {
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

/** `v` when it is one of `choices`, else `fallback`. */
function oneOf<T extends string>(v: unknown, choices: readonly T[], fallback: T): T {
    return choices.find((c) => c === v) ?? fallback;
}

/** Reads a raw `pitfalls` section (as `getConfiguration('pitfalls')` or a
 * `workspace/configuration` answer gives it: nested objects, or dotted keys) into typed
 * settings with defaults for anything missing or of the wrong type. */
export function normalizeSettings(raw: unknown): ClientSettings {
    const r = undotted(obj(raw));
    const directus = obj(r.directus);
    const database = obj(r.database);
    const trace = obj(r.trace);
    const run = r.run === 'onSave' ? 'onSave' : 'onType';
    const traceServer = trace.server === 'messages' || trace.server === 'verbose' ? trace.server : 'off';
    return {
        enable: typeof r.enable === 'boolean' ? r.enable : DEFAULT_SETTINGS.enable,
        importStrategy: oneOf(r.importStrategy, IMPORT_STRATEGIES, DEFAULT_SETTINGS.importStrategy),
        path: strings(r.path) ?? [],
        interpreter: strings(r.interpreter) ?? [],
        select: strings(r.select),
        ignore: strings(r.ignore),
        severity: Object.fromEntries(
            Object.entries(obj(r.severity)).filter((e): e is [string, string] => typeof e[1] === 'string'),
        ),
        fixAll: typeof r.fixAll === 'boolean' ? r.fixAll : DEFAULT_SETTINGS.fixAll,
        run,
        showNotifications: oneOf(r.showNotifications, NOTIFICATION_LEVELS, DEFAULT_SETTINGS.showNotifications),
        logLevel: oneOf(r.logLevel, LOG_LEVELS, DEFAULT_SETTINGS.logLevel),
        directus: { url: text(directus.url), snapshot: text(directus.snapshot) },
        database: { url: text(database.url) },
        trace: { server: traceServer },
    };
}

/** `{"directus.url": x}` -> `{"directus": {"url": x}}` (nested values win over dotted). */
function undotted(r: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(r)) {
        const dot = key.indexOf('.');
        if (dot < 0) continue;
        const head = key.slice(0, dot);
        out[head] = { ...obj(out[head]), [key.slice(dot + 1)]: value };
    }
    for (const [key, value] of Object.entries(r)) {
        if (key.includes('.')) continue;
        out[key] = value && typeof value === 'object' && !Array.isArray(value) ? { ...obj(out[key]), ...obj(value) } : value;
    }
    return out;
}

/** What the server is told (initializationOptions and each `workspace/configuration`
 * answer). Every server key is present: `null` where the user set nothing, so the folder's
 * `[tool.pitfalls]` applies (the server drops nulls) and a setting removed since start-up
 * also removes what initializationOptions said (the server merges answers over them). */
export function toServerSettings(settings: ClientSettings): Record<string, unknown> {
    const directus: Record<string, string> = {};
    if (settings.directus.url) directus.url = settings.directus.url;
    if (settings.directus.snapshot) directus.snapshot = settings.directus.snapshot;
    return {
        select: settings.select !== null && settings.select.length > 0 ? settings.select : null,
        ignore: settings.ignore, // [] set on purpose clears the file's ignore
        run: settings.run,
        directus: Object.keys(directus).length > 0 ? directus : null,
        database: settings.database.url ? { url: settings.database.url } : null,
    };
}

/** initializationOptions: the server settings plus the client's identity. */
export function initializationOptions(settings: ClientSettings, clientVersion: string): Record<string, unknown> {
    return { settings: toServerSettings(settings), client: { name: 'pitfalls-vscode', version: clientVersion } };
}

/** Settings whose change needs the server restarted (rather than only re-answered). */
export const RESTART_SETTINGS = [
    'pitfalls.enable',
    'pitfalls.importStrategy',
    'pitfalls.path',
    'pitfalls.interpreter',
    'pitfalls.logLevel',
    'pitfalls.trace.server',
];

/** Whether `pitfalls.showNotifications` lets a message of `level` show. */
export function notifies(setting: ClientSettings['showNotifications'], level: 'error' | 'warning' | 'info'): boolean {
    if (setting === 'always') return true;
    if (setting === 'onWarning') return level !== 'info';
    return setting === 'onError' && level === 'error';
}

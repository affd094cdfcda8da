/**
 * `pitfalls.severity`: a map from a rule code or prefix to the severity VS Code shows.
 * Pure: no `vscode` import, so it is unit-tested under plain node.
 */

export const SEVERITY_NAMES = ['Error', 'Warning', 'Information', 'Hint'] as const;
export type SeverityName = (typeof SEVERITY_NAMES)[number];

/** VS Code's `DiagnosticSeverity` values (Error = 0 ... Hint = 3). */
export const SEVERITY_VALUES: Record<SeverityName, number> = {
    Error: 0,
    Warning: 1,
    Information: 2,
    Hint: 3,
};

export interface SeverityMap {
    /** Upper-cased prefixes, longest first. */
    readonly entries: ReadonlyArray<readonly [string, SeverityName]>;
    /** One line per ignored entry of the setting. */
    readonly problems: readonly string[];
}

/** The setting's value, checked: entries that are not a code/prefix -> severity are skipped
 * and named in `problems`. Severity names are matched case-insensitively. */
export function parseSeverityMap(raw: unknown): SeverityMap {
    const entries: Array<[string, SeverityName]> = [];
    const problems: string[] = [];
    if (raw === undefined || raw === null) {
        return { entries, problems };
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) {
        return { entries, problems: ['pitfalls.severity must be an object such as {"PF1": "Error"}'] };
    }
    for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
        const prefix = key.trim().toUpperCase();
        const name =
            typeof value === 'string'
                ? SEVERITY_NAMES.find((n) => n.toLowerCase() === value.trim().toLowerCase())
                : undefined;
        if (!/^[A-Z]+[0-9]*$/.test(prefix)) {
            problems.push(`pitfalls.severity: "${key}" is not a rule code or prefix (e.g. "PF1", "PF103")`);
        } else if (name === undefined) {
            problems.push(`pitfalls.severity: "${key}": ${JSON.stringify(value)} is not one of ${SEVERITY_NAMES.join(', ')}`);
        } else {
            entries.push([prefix, name]);
        }
    }
    entries.sort((a, b) => b[0].length - a[0].length || a[0].localeCompare(b[0]));
    return { entries, problems };
}

/** The code of a diagnostic as VS Code or LSP carries it: a string, a number or `{value}`. */
export function diagnosticCode(code: unknown): string | undefined {
    if (typeof code === 'string') return code;
    if (typeof code === 'number') return String(code);
    if (code && typeof code === 'object' && 'value' in code) {
        return diagnosticCode((code as { value: unknown }).value);
    }
    return undefined;
}

/** The severity configured for `code`: the longest matching prefix wins. */
export function severityFor(code: string | undefined, map: SeverityMap): SeverityName | undefined {
    if (!code) return undefined;
    const upper = code.toUpperCase();
    for (const [prefix, name] of map.entries) {
        if (upper.startsWith(prefix)) return name;
    }
    return undefined;
}

/** Rewrites, in place, the severity of each diagnostic whose code the map covers, and
 * returns the same array (what `middleware.handleDiagnostics` passes on). */
export function applySeverities<T extends { code?: unknown; severity: number }>(diagnostics: T[], map: SeverityMap): T[] {
    if (map.entries.length === 0) return diagnostics;
    for (const d of diagnostics) {
        const name = severityFor(diagnosticCode(d.code), map);
        if (name !== undefined) d.severity = SEVERITY_VALUES[name];
    }
    return diagnostics;
}

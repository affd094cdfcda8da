import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { DEFAULT_SETTINGS, initializationOptions, normalizeSettings, notifies, toServerSettings } from '../src/settings';

test('defaults for a missing or malformed section', () => {
    assert.deepEqual(normalizeSettings(undefined), DEFAULT_SETTINGS);
    assert.deepEqual(normalizeSettings({ enable: 'yes', path: 3, run: 'sometimes', trace: { server: 'loud' } }), DEFAULT_SETTINGS);
    assert.deepEqual(normalizeSettings({ importStrategy: 'fromPATH', showNotifications: true, logLevel: 'loud' }), DEFAULT_SETTINGS);
});

test('the bundle, errors only and warnings by default; each can be set', () => {
    assert.equal(DEFAULT_SETTINGS.importStrategy, 'useBundled');
    assert.equal(DEFAULT_SETTINGS.showNotifications, 'onError');
    assert.equal(DEFAULT_SETTINGS.logLevel, 'warning');
    const s = normalizeSettings({ importStrategy: 'fromEnvironment', showNotifications: 'always', logLevel: 'trace' });
    assert.deepEqual([s.importStrategy, s.showNotifications, s.logLevel], ['fromEnvironment', 'always', 'trace']);
});

test('showNotifications lets a level through from its threshold up', () => {
    const shown = (setting: 'off' | 'onError' | 'onWarning' | 'always') =>
        (['error', 'warning', 'info'] as const).filter((level) => notifies(setting, level));
    assert.deepEqual(shown('off'), []);
    assert.deepEqual(shown('onError'), ['error']);
    assert.deepEqual(shown('onWarning'), ['error', 'warning']);
    assert.deepEqual(shown('always'), ['error', 'warning', 'info']);
});

test('nested and dotted keys are both read', () => {
    const nested = normalizeSettings({ directus: { url: 'http://127.0.0.1:8055', snapshot: 'schema.json' }, trace: { server: 'verbose' } });
    const dotted = normalizeSettings({ 'directus.url': 'http://127.0.0.1:8055', 'directus.snapshot': 'schema.json', 'trace.server': 'verbose' });
    assert.deepEqual(nested, dotted);
    assert.equal(nested.directus.url, 'http://127.0.0.1:8055');
    assert.equal(nested.trace.server, 'verbose');
});

test('a string path or interpreter becomes a one-item list; blanks are dropped', () => {
    const s = normalizeSettings({ path: '/opt/pitfalls', interpreter: ['', '/usr/bin/python3'] });
    assert.deepEqual(s.path, ['/opt/pitfalls']);
    assert.deepEqual(s.interpreter, ['/usr/bin/python3']);
});

test('server settings: unset keys are null, client-only keys are left out', () => {
    const server = toServerSettings(
        normalizeSettings({
            enable: true,
            importStrategy: 'fromEnvironment',
            path: ['x'],
            severity: { PF1: 'Error' },
            fixAll: false,
            showNotifications: 'always',
            logLevel: 'debug',
            trace: { server: 'messages' },
        }),
    );
    assert.deepEqual(server, { select: null, ignore: null, run: 'onType', directus: null, database: null });
});

test('server settings: what the user set', () => {
    const server = toServerSettings(
        normalizeSettings({
            select: ['PF1', 'PF4'],
            ignore: [],
            run: 'onSave',
            directus: { url: ' http://127.0.0.1:8055 ', snapshot: '' },
            database: { url: 'postgresql://db/app' },
        }),
    );
    assert.deepEqual(server, {
        select: ['PF1', 'PF4'],
        ignore: [],
        run: 'onSave',
        directus: { url: 'http://127.0.0.1:8055' },
        database: { url: 'postgresql://db/app' },
    });
});

test('an empty select is not sent (it would select nothing)', () => {
    assert.equal(toServerSettings(normalizeSettings({ select: [] })).select, null);
});

test('initializationOptions carry the server settings under "settings"', () => {
    const options = initializationOptions(normalizeSettings({ select: ['PF2'] }), '0.1.0');
    assert.deepEqual(options.settings, { select: ['PF2'], ignore: null, run: 'onType', directus: null, database: null });
    assert.deepEqual(options.client, { name: 'pitfalls-vscode', version: '0.1.0' });
});

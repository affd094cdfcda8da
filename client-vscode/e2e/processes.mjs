// Child processes for the end-to-end test: each runs in its own process group, so stopping it
// also stops what it started (code-server's extension host and the pitfalls server, chromium's
// helpers), and every one is stopped even when the test fails or is interrupted.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { constants } from 'node:os';

const groups = new Set();

function signalGroup(pid, signal) {
    try {
        process.kill(-pid, signal);
        return true;
    } catch {
        return false; // ESRCH: the group is gone
    }
}

function killAllNow() {
    for (const pid of groups) signalGroup(pid, 'SIGKILL');
}

process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
        killAllNow();
        process.exit(128 + constants.signals[signal]);
    });
}

/** Starts `command` in a new process group; its stdout and stderr go to `logPath`. */
export function startGroup(command, args, { logPath, env = process.env, cwd } = {}) {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env, cwd });
    groups.add(child.pid);
    const log = createWriteStream(logPath);
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.once('close', () => log.end());
    return child;
}

/** Resolves with the first match of `pattern` in the child's output, or rejects after `timeoutMs`. */
export function waitForOutput(child, pattern, timeoutMs, what) {
    return new Promise((resolve, reject) => {
        let seen = '';
        const done = (error, match) => {
            clearTimeout(timer);
            child.stdout.off('data', onData);
            child.stderr.off('data', onData);
            child.off('exit', onExit);
            if (error) reject(error);
            else resolve(match);
        };
        const onData = (chunk) => {
            seen = (seen + chunk).slice(-20000);
            const match = seen.match(pattern);
            if (match) done(null, match);
        };
        const onExit = (code, signal) => done(new Error(`${what} exited (${code ?? signal}) before printing ${pattern}`));
        const timer = setTimeout(() => done(new Error(`${what} printed no ${pattern} within ${timeoutMs} ms`)), timeoutMs);
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('exit', onExit);
    });
}

/** SIGTERM to the child's whole group, SIGKILL after `graceMs`; true when the group is gone. */
export async function stopGroup(child, graceMs = 5000) {
    const pid = child.pid;
    if (!signalGroup(pid, 'SIGTERM')) {
        groups.delete(pid);
        return true;
    }
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && signalGroup(pid, 0)) await new Promise((r) => setTimeout(r, 100));
    signalGroup(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const gone = !signalGroup(pid, 0);
    if (gone) groups.delete(pid);
    return gone;
}

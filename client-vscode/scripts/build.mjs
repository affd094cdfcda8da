// Bundles the extension (dist/extension.js) or, with --tests, the unit tests (out/test/).
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';

const production = process.argv.includes('--production');
const tests = process.argv.includes('--tests');

if (tests) {
    rmSync('out', { recursive: true, force: true });
    const entryPoints = readdirSync('test').filter((f) => f.endsWith('.test.ts')).map((f) => `test/${f}`);
    await esbuild.build({
        entryPoints,
        outdir: 'out/test',
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        sourcemap: 'inline',
        // the unit tests cover the pure modules: importing vscode there is a bug
        external: [],
        logLevel: 'warning',
    });
} else {
    rmSync('dist', { recursive: true, force: true });
    await esbuild.build({
        entryPoints: ['src/extension.ts'],
        outfile: 'dist/extension.js',
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        external: ['vscode'],
        minify: production,
        sourcemap: !production,
        logLevel: 'warning',
    });
}

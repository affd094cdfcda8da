// The README's tables document every setting and command package.json contributes, so a new
// setting or a changed default cannot ship undocumented.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The table rows of the README's `## heading` section, by their first code span, as cells. */
function tableRows(heading: string): Map<string, string[]> {
    const section = readme.split(/^## /m).find((s) => s.startsWith(`${heading}\n`)) ?? '';
    const rows = new Map<string, string[]>();
    for (const line of section.split('\n')) {
        if (!line.startsWith('|')) continue;
        const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
        const key = cells.find((c) => /^`[^`]+`$/.test(c));
        if (key) rows.set(key.slice(1, -1), cells);
    }
    return rows;
}

test('every setting is in the README with its default', () => {
    const rows = tableRows('Settings');
    for (const [name, schema] of Object.entries<{ default: unknown }>(manifest.contributes.configuration.properties)) {
        const row = rows.get(name);
        assert.ok(row, `${name} is not in the README's settings table`);
        assert.equal(row[2], `\`${JSON.stringify(schema.default)}\``, `${name}'s default`);
    }
});

test('every command is in the README with its title', () => {
    const rows = tableRows('Commands');
    for (const { command, title, category } of manifest.contributes.commands) {
        const row = rows.get(command);
        assert.ok(row, `${command} is not in the README's commands table`);
        assert.equal(row[0], `**${category}: ${title}**`);
    }
});

test('the README has no setting or command package.json lacks', () => {
    const settings = Object.keys(manifest.contributes.configuration.properties);
    const commands = manifest.contributes.commands.map((c: { command: string }) => c.command);
    assert.deepEqual([...tableRows('Settings').keys()].filter((key) => !settings.includes(key)), []);
    assert.deepEqual([...tableRows('Commands').keys()].filter((key) => !commands.includes(key)), []);
});

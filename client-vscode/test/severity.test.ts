import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { applySeverities, diagnosticCode, parseSeverityMap, severityFor, SEVERITY_VALUES } from '../src/severity';

test('longest matching prefix wins', () => {
    const map = parseSeverityMap({ PF: 'Information', PF1: 'Error', PF103: 'Hint' });
    assert.equal(severityFor('PF103', map), 'Hint');
    assert.equal(severityFor('PF104', map), 'Error');
    assert.equal(severityFor('PF501', map), 'Information');
    assert.equal(severityFor('XY1', map), undefined);
    assert.equal(severityFor(undefined, map), undefined);
});

test('codes and severity names are case-insensitive', () => {
    const map = parseSeverityMap({ pf2: 'warning' });
    assert.equal(severityFor('PF201', map), 'Warning');
    assert.deepEqual(map.problems, []);
});

test('bad entries are reported and skipped', () => {
    const map = parseSeverityMap({ PF1: 'Fatal', 'not a code': 'Error', PF2: 3, PF3: 'Hint' });
    assert.deepEqual(map.entries, [['PF3', 'Hint']]);
    assert.equal(map.problems.length, 3);
    assert.equal(parseSeverityMap(['PF1']).problems.length, 1);
    assert.deepEqual(parseSeverityMap(undefined), { entries: [], problems: [] });
});

test('diagnostic codes come as strings, numbers or {value}', () => {
    assert.equal(diagnosticCode('PF101'), 'PF101');
    assert.equal(diagnosticCode(7), '7');
    assert.equal(diagnosticCode({ value: 'PF202', target: 'https://x' }), 'PF202');
    assert.equal(diagnosticCode(undefined), undefined);
});

test('applySeverities rewrites only covered diagnostics', () => {
    const diagnostics = [
        { code: 'PF103', severity: SEVERITY_VALUES.Warning },
        { code: { value: 'PF501' }, severity: SEVERITY_VALUES.Error },
        { code: undefined, severity: SEVERITY_VALUES.Error },
    ];
    const out = applySeverities(diagnostics, parseSeverityMap({ PF1: 'Hint', PF5: 'Information' }));
    assert.equal(out, diagnostics);
    assert.deepEqual(out.map((d) => d.severity), [3, 2, 0]);
});

test('an empty map leaves diagnostics alone', () => {
    const diagnostics = [{ code: 'PF103', severity: 1 }];
    assert.deepEqual(applySeverities(diagnostics, parseSeverityMap({})), [{ code: 'PF103', severity: 1 }]);
});

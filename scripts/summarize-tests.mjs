#!/usr/bin/env node
// Reads vitest's JSON report and ends the output with the one line CI reads:
// `N passed, N failed` (`, N skipped` when any were). Exits non-zero when anything failed or no
// test ran. Usage: node scripts/summarize-tests.mjs [artifacts/vitest.json]
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

const reportPath = process.argv[2] ?? 'artifacts/vitest.json';

function summarize(report) {
  const failures = [];
  let passed = 0;
  let skipped = 0;
  for (const file of report.testResults ?? []) {
    const name = relative(process.cwd(), file.name);
    let failedInFile = 0;
    for (const test of file.assertionResults ?? []) {
      if (test.status === 'passed') passed += 1;
      else if (test.status === 'failed') {
        failedInFile += 1;
        failures.push(`${name} > ${[...(test.ancestorTitles ?? []), test.title].join(' > ')}`);
      } else skipped += 1;
    }
    // A file that failed without a failing test (it did not load, or a hook threw) would otherwise
    // vanish from the count; count it as one failure.
    if (file.status === 'failed' && failedInFile === 0) {
      failures.push(`${name} (the file itself: ${firstLine(file.message) || 'failed outside any test'})`);
    }
  }
  // Errors outside every file (e.g. unhandled rejections) make vitest fail the run; so do we.
  if (report.success === false && failures.length === 0) failures.push('errors outside any test file (see vitest output above)');
  return { passed, failed: failures.length, skipped, failures };
}

function firstLine(text) {
  return (
    (text ?? '')
      .split('\n')
      .find((line) => line.trim() !== '')
      ?.trim() ?? ''
  );
}

let summary;
if (!existsSync(reportPath)) {
  console.log(`No vitest report at ${reportPath}: vitest did not get as far as writing it.`);
  summary = { passed: 0, failed: 0, skipped: 0, failures: [] };
} else {
  summary = summarize(JSON.parse(readFileSync(reportPath, 'utf8')));
}

for (const failure of summary.failures) console.log(`FAILED ${failure}`);
const ran = summary.passed + summary.failed;
if (ran === 0) console.log('No test ran.');
console.log(`${summary.passed} passed, ${summary.failed} failed${summary.skipped > 0 ? `, ${summary.skipped} skipped` : ''}`);
process.exit(summary.failed > 0 || ran === 0 ? 1 : 0);

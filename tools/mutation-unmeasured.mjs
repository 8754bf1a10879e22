/* global console, process */
// Runs after the mutation gate: a mutant that tests cover but whose run completed no test was never measured, yet
// Stryker scores it as survived. That is how a test runner that filters tests by a name format the test framework no
// longer uses shows up (every covered mutant "survives"), so the gate fails on it instead of reporting a score.
import { readFileSync } from 'node:fs';

const reportFile = process.argv[2] ?? 'reports/mutation/mutation.json';
const report = JSON.parse(readFileSync(reportFile, 'utf8'));
const unmeasured = Object.entries(report.files).flatMap(([file, { mutants }]) =>
  mutants
    .filter((mutant) => mutant.status === 'Survived' && (mutant.coveredBy?.length ?? 0) > 0 && mutant.testsCompleted === 0)
    .map((mutant) => `${file}:${mutant.location.start.line}:${mutant.location.start.column} ${mutant.mutatorName}`),
);
if (unmeasured.length > 0) {
  console.error(`${unmeasured.length} mutant(s) covered by tests ran none of them, so their "survived" measures nothing; is the test runner plugin current with vitest?`);
  for (const line of unmeasured.slice(0, 20)) console.error(`  ${line}`);
  process.exit(1);
}
console.log(`mutation report ${reportFile}: every covered mutant ran its tests`);

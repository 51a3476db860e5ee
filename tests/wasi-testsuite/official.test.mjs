// The official WASI preview1 conformance suite through `capos run` (see suite.mjs for how a
// test is run). Without the suite the test is skipped with a note saying how to get it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOW_TO_GET, SUITE, judge, listTests, runTest, suitePresent } from './suite.mjs';

if (!suitePresent()) {
  test('official WASI testsuite', { skip: `no suite at ${SUITE}: set WASI_TESTSUITE=DIR, or ${HOW_TO_GET}` }, () => {});
} else {
  const tests = listTests(SUITE);
  test('the suite has its 72 preview1 tests', () => assert.equal(tests.length, 72));
  for (const t of tests) {
    test(`${t.lang}/${t.name}`, async () => {
      const result = await runTest(t);
      const problems = judge(t, result);
      assert.deepEqual(problems, [], `${t.lang}/${t.name}: ${problems.join('; ')}\n`
        + `stderr: ${result.stderr.toString().slice(0, 2000)}`);
    });
  }
}

/**
 * node:test with a deadline on every test and hook: a regression fails with the name of what hung instead of
 * hanging CI. (Node 20's --test-timeout bounds a whole file, not each test; npm test passes it as well, for a file
 * that cannot end. The runner's own per-test flag came in Node 22.) Every test file imports these instead of
 * node:test's own.
 */
import * as nodeTest from 'node:test';

export { describe } from 'node:test';

/** Far beyond the slowest test on a machine several times slower than ours: a guard against hanging, not a speed claim. */
export const TEST_DEADLINE_MS = 5 * 60_000;

type TestFn = (t: nodeTest.TestContext) => void | Promise<void>;

export function test(name: string, fn: TestFn): Promise<void>;
export function test(name: string, options: nodeTest.TestOptions, fn: TestFn): Promise<void>;
export function test(name: string, ...rest: [TestFn] | [nodeTest.TestOptions, TestFn]): Promise<void> {
  const [options, fn] = rest.length === 1 ? [{}, rest[0]] : rest;
  return nodeTest.test(name, { timeout: TEST_DEADLINE_MS, ...options }, fn);
}

export function before(fn: nodeTest.HookFn, options: nodeTest.HookOptions = {}): void {
  nodeTest.before(fn, { timeout: TEST_DEADLINE_MS, ...options });
}

export function after(fn: nodeTest.HookFn, options: nodeTest.HookOptions = {}): void {
  nodeTest.after(fn, { timeout: TEST_DEADLINE_MS, ...options });
}

/**
 * The shape every adapter module default-exports. Plain JSDoc so editors can check the
 * adapters without a TypeScript build step.
 *
 * @typedef {import('../scenarios.mjs').User} User
 *
 * @typedef {object} Scenario
 * @property {(context: any) => any} run
 *   Evaluates once for one pre-built context and returns the SDK's own result object (a Promise
 *   for SDKs whose API is asynchronous). This is the function that is timed.
 * @property {(result: any) => unknown} value
 *   The served value (S1-S3) or variant key (S4) from a result; only used for the sanity column.
 * @property {((result: any) => 'last' | 'other') | undefined} [rule]
 *   For S3, which rule served, when the SDK reports it.
 *
 * @typedef {object} AdapterInstance
 * @property {(user: User) => any} context
 *   Builds the SDK's own context for a user. The runner builds every context before timing.
 * @property {boolean} async whether `run` returns a Promise
 * @property {{ s1: Scenario, s2: Scenario, s3: Scenario, s4: Scenario }} scenarios
 * @property {() => (void | Promise<void>)} close
 *
 * @typedef {object} Adapter
 * @property {string} id short id, used in file names and filters
 * @property {string} name label in the results table
 * @property {'switchyard' | 'peer' | 'floor'} role
 * @property {string | null} pkg npm package whose version is reported
 * @property {string} api the call that is timed, for the notes under the table
 * @property {() => Promise<AdapterInstance>} create sets the SDK up with the four scenarios' flags
 */

export {};

// The SDK, from its build. Once `pnpm install` has linked this workspace package, this file can
// simply be `export * from '@switchyard/sdk-node';` (see README.md). Build the SDK first:
// `cd packages/sdk-node && npx tsup`.
export { createClient, consoleLogger } from '../../../packages/sdk-node/dist/index.js';

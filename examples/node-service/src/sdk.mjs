// The SDK, as an app installs it from npm (a workspace link here).
export { createClient, consoleLogger } from '@switchyard/sdk-node';

#!/usr/bin/env node
// Runs the service: SWITCHYARD_URL, SWITCHYARD_SDK_KEY (a server key) and PORT.
//   SWITCHYARD_URL=http://127.0.0.1:8787 SWITCHYARD_SDK_KEY=sy_srv_... PORT=3000 node src/main.mjs
import { consoleLogger } from './sdk.mjs';
import { startService } from './service.mjs';

const sdkKey = process.env.SWITCHYARD_SDK_KEY;
if (!sdkKey) {
  console.error('set SWITCHYARD_SDK_KEY to a Switchyard server key');
  process.exit(1);
}
const service = await startService({
  sdkKey,
  baseUrl: process.env.SWITCHYARD_URL ?? 'http://127.0.0.1:8787',
  port: Number(process.env.PORT ?? 3000),
  clientOptions: { logger: consoleLogger('warn') },
});
console.log(`checkout service on ${service.url} (config version ${service.client.configVersion ?? 'none yet'})`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    void service.close().then(() => process.exit(0));
  });
}

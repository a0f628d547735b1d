import { CopyButton } from '../../../components/ui/copy-button';

const accessor = (type: string) => (type === 'boolean' ? 'boolean' : type === 'number' ? 'number' : type === 'string' ? 'string' : 'json');
const fallback = (type: string) => (type === 'boolean' ? 'false' : type === 'number' ? '0' : type === 'string' ? "''" : '{}');

/** Copy-ready code that reads this flag with the Node and browser SDKs. */
export function SdkSnippets({ flagKey, type }: { flagKey: string; type: string }) {
  const node = `import { createClient } from '@switchyard/sdk-node';

const client = createClient({ baseUrl: process.env.SWITCHYARD_URL, sdkKey: process.env.SWITCHYARD_SERVER_KEY });
await client.ready();
const value = client.${accessor(type)}('${flagKey}', { key: user.id }, ${fallback(type)});`;
  // The console is served by the Switchyard server itself, so its origin is the SDK's baseUrl.
  const browser = `import { createBrowserClient } from '@switchyard/sdk-browser';

const client = createBrowserClient({ baseUrl: '${window.location.origin}', clientKey: 'sy_cli_…', context: { key: user.id } });
await client.ready();
const value = client.${accessor(type)}('${flagKey}', ${fallback(type)});`;
  return (
    <section aria-labelledby="sdk-title">
      <h2 id="sdk-title">Use it in code</h2>
      {[
        { title: 'Node', code: node },
        { title: 'Browser', code: browser },
      ].map((s) => (
        <figure key={s.title} className="snippet">
          <figcaption>
            {s.title} <CopyButton text={s.code} label={`Copy ${s.title} snippet`} />
          </figcaption>
          <pre tabIndex={0}>
            <code>{s.code}</code>
          </pre>
        </figure>
      ))}
    </section>
  );
}

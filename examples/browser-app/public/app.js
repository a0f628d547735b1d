// The example shop: one flag, one experiment, live updates. No framework, no build step:
// window.Switchyard comes from the SDK's script-tag bundle loaded in index.html.
const USERS = {
  ann: { key: 'user-ann', name: 'Ann', email: 'ann@example.com', country: 'DE' },
  bob: { key: 'user-bob', name: 'Bob', email: 'bob@shop.test', country: 'US' },
};
const FLOWS = {
  new: { title: 'One-page checkout', steps: ['Address, delivery and payment on one page'] },
  classic: { title: 'Classic checkout', steps: ['Address', 'Delivery', 'Payment'] },
};
const STATUS_TEXT = { loading: 'connecting…', cached: 'cached values', ready: 'live', stale: 'offline · last known values' };

const $ = (selector) => document.querySelector(selector);
const { baseUrl, clientKey } = await (await fetch('/config.json')).json();
const first = new URLSearchParams(location.search).get('user') in USERS ? new URLSearchParams(location.search).get('user') : 'ann';
$('#user').value = first;

/* global Switchyard -- the SDK's IIFE build, loaded by index.html */
const client = Switchyard.createBrowserClient({ baseUrl, clientKey, context: USERS[first] });
window.shop = { client }; // for the console (and the example's test)

function render() {
  // The flag: which checkout flow this visitor gets.
  const flow = client.boolean('new-checkout', false) ? 'new' : 'classic';
  const box = $('#checkout-flow');
  box.dataset.flow = flow;
  box.querySelector('.flow-title').textContent = FLOWS[flow].title;
  box
    .querySelector('.steps')
    .replaceChildren(...FLOWS[flow].steps.map((s) => Object.assign(document.createElement('li'), { textContent: s })));

  // The experiment: the button colour. Reading it records this visitor's exposure (once).
  $('#buy').dataset.colour = client.string('checkout-cta', 'blue');

  // Everything the client holds for this visitor (all() records no exposures).
  const rows = Object.entries(client.all()).sort(([a], [b]) => a.localeCompare(b));
  $('#flags').replaceChildren(
    ...rows.map(([key, d]) => {
      const tr = document.createElement('tr');
      for (const [text, cls] of [
        [key, 'key'],
        [JSON.stringify(d.value), 'value'],
        [d.variant ?? '-', 'variant'],
        [d.reason, `reason r-${d.reason.toLowerCase()}`],
      ]) {
        tr.append(Object.assign(document.createElement('td'), { textContent: text, className: cls }));
      }
      return tr;
    }),
  );
  $('#status').dataset.status = client.status;
  $('#status').textContent = STATUS_TEXT[client.status];
}

client.on('change', render);
client.on('ready', render);
client.on('error', render);
render(); // last visit's values (reason CACHED) or the defaults, at once
client
  .ready()
  .catch((e) => console.warn('Switchyard:', e.code, e.message))
  .finally(render);

$('#user').addEventListener('change', async (e) => {
  $('#thanks').hidden = true;
  await client.identify(USERS[e.target.value]).catch((err) => console.warn('Switchyard:', err.code));
  render();
});

$('#buy').addEventListener('click', () => {
  // Queued and batched; a closing tab still delivers them with navigator.sendBeacon.
  client.track('purchase', { value: 42.5 });
  client.track('revenue', { value: 42.5 });
  $('#thanks').hidden = false;
});

/**
 * `/docs`: a self-contained page (no CDN, so it works offline and under a strict CSP via its
 * nonce-free inline script being the only one) that renders /api/v1/openapi.json.
 */
export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Switchyard API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1f2328;background:#fff}
header{background:#0b3d2e;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}
main{max-width:980px;margin:0 auto;padding:16px 24px}
h2{border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:32px}
details{border:1px solid #d0d7de;border-radius:6px;margin:8px 0}summary{cursor:pointer;padding:8px 12px;font-family:ui-monospace,monospace}
.m{display:inline-block;min-width:64px;font-weight:700;text-transform:uppercase}.get{color:#0969da}.post{color:#1a7f37}.put,.patch{color:#9a6700}.delete{color:#cf222e}
pre{background:#f6f8fa;padding:8px 12px;overflow:auto;margin:0 12px 12px;border-radius:6px;font-size:12px}
</style></head><body><header><h1>Switchyard API</h1><div>OpenAPI document: <a style="color:#9fe" href="/api/v1/openapi.json">/api/v1/openapi.json</a></div></header>
<main id="root">Loading…</main>
<script>
fetch('/api/v1/openapi.json').then(function(r){return r.json()}).then(function(doc){
  var root=document.getElementById('root');root.textContent='';
  var byTag={};
  Object.keys(doc.paths).forEach(function(p){Object.keys(doc.paths[p]).forEach(function(m){var op=doc.paths[p][m];var t=(op.tags&&op.tags[0])||'Other';(byTag[t]=byTag[t]||[]).push([m,p,op]);});});
  Object.keys(byTag).forEach(function(t){
    var h=document.createElement('h2');h.textContent=t;root.appendChild(h);
    byTag[t].forEach(function(e){
      var d=document.createElement('details');var s=document.createElement('summary');
      var m=document.createElement('span');m.className='m '+e[0];m.textContent=e[0];s.appendChild(m);
      s.appendChild(document.createTextNode(' '+e[1]+' — '+(e[2].summary||'')));d.appendChild(s);
      var pre=document.createElement('pre');pre.textContent=JSON.stringify({parameters:e[2].parameters,requestBody:e[2].requestBody,responses:Object.keys(e[2].responses)},null,2);
      d.appendChild(pre);root.appendChild(d);
    });
  });
}).catch(function(err){document.getElementById('root').textContent='Could not load the OpenAPI document: '+err;});
</script></body></html>`;

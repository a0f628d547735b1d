import sw from '../src/evaluation/adapters/switchyard.mjs';
import { floorChars } from '../src/evaluation/adapters/floor.mjs';
import { generateUsers } from '../src/evaluation/scenarios.mjs';
const users = generateUsers();
const which = process.argv[2] ?? 'all';
const out = [];
for (const a of [sw, floorChars]) {
  const inst = await a.create();
  const ctxs = users.map(inst.context);
  // warm all scenarios
  for (const s of ['s1','s2','s3','s4']) for (const c of ctxs) inst.scenarios[s].run(c);
  for (const s of ['s1','s2','s3','s4']) {
    if (which !== 'all' && which !== s) continue;
    const run = inst.scenarios[s].run;
    const f = new Function('run','ctxs', `/*${a.id}${s}*/ return function(){ let last; for (let r = 0; r < 100; r++) for (let i = 0; i < ctxs.length; i++) last = run(ctxs[i]); return last; }`)(run, ctxs);
    const times = [];
    for (let rep = 0; rep < 5; rep++) { const t = process.hrtime.bigint(); f(); times.push(Number(process.hrtime.bigint() - t) / 1e6); }
    times.sort((x, y) => x - y);
    out.push(`${a.id} ${s} ${times[2].toFixed(1)} ns (min ${times[0].toFixed(1)})`);
  }
}
console.log(out.join('\n'));

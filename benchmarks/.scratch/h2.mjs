import { createBucketer } from '@switchyard/core';
import murmur from 'murmurhash3js-revisited';
const enc = new TextEncoder();
for (const len of [10, 20, 36]) {
  const keys = JSON.parse(JSON.stringify(Array.from({length: 10000}, (_, i) => ('u' + i + '-').padEnd(len, 'abcdef0123456789'))));
  const b = createBucketer('s2-rollout');
  for (let rep = 0; rep < 2; rep++) {
    let t = process.hrtime.bigint(); let x = 0;
    for (let r = 0; r < 100; r++) for (let i = 0; i < keys.length; i++) x += b(keys[i]);
    const a = Number(process.hrtime.bigint() - t) / 1e6;
    t = process.hrtime.bigint();
    for (let r = 0; r < 100; r++) for (let i = 0; i < keys.length; i++) x += murmur.x86.hash32(enc.encode('s2-rollout.' + keys[i]));
    const c = Number(process.hrtime.bigint() - t) / 1e6;
    t = process.hrtime.bigint();
    for (let r = 0; r < 100; r++) for (let i = 0; i < keys.length; i++) x += enc.encode(keys[i]).length;
    const d = Number(process.hrtime.bigint() - t) / 1e6;
    console.log(len, 'core', a.toFixed(0), 'ref', c.toFixed(0), 'encode only', d.toFixed(0));
  }
}

import { charCodeBucketer } from '../src/evaluation/adapters/floor.mjs';
import { createBucketer } from '@switchyard/core';
import { generateUsers } from '../src/evaluation/scenarios.mjs';
const users = JSON.parse(JSON.stringify(generateUsers()));
const keys = users.map(u => u.key);
for (const [name, b] of [['floor', charCodeBucketer('s2-rollout')], ['core', createBucketer('s2-rollout')]]) {
  for (let rep = 0; rep < 3; rep++) {
    let t = process.hrtime.bigint(); let x = 0;
    for (let r = 0; r < 100; r++) for (let i = 0; i < keys.length; i++) x += b(keys[i]);
    console.log(name, Number(process.hrtime.bigint() - t) / 1e6, 'ns/eval', x);
  }
}
const same = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const b = charCodeBucketer('s2-rollout');
let t = process.hrtime.bigint(); let x = 0;
for (let r = 0; r < 1e6; r++) x += b(same);
console.log('same key', Number(process.hrtime.bigint() - t) / 1e6, x);

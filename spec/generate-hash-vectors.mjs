#!/usr/bin/env node
// Writes spec/hash.json and spec/bucket.json from the reference implementation
// (murmurhash3js-revisited over TextEncoder UTF-8 bytes). Run: node spec/generate-hash-vectors.mjs
import { writeFileSync } from 'node:fs';
import { hex, prng, refBucket, refHash32, utf8, findUnit } from './reference.mjs';

const out = (name, data) => writeFileSync(new URL(name, import.meta.url), JSON.stringify(data, null, 2) + '\n');

// ---- hash.json -------------------------------------------------------------------------

const named = [
  ['empty string', ''],
  ['1 byte', 'a'],
  ['2 bytes (tail 2)', 'ab'],
  ['3 bytes (tail 3)', 'abc'],
  ['4 bytes (one block, no tail)', 'abcd'],
  ['5 bytes (tail 1)', 'abcde'],
  ['6 bytes (tail 2)', 'abcdef'],
  ['7 bytes (tail 3)', 'abcdefg'],
  ['8 bytes (two blocks)', 'abcdefgh'],
  ['hello', 'hello'],
  ['Hello, World!', 'Hello, World!'],
  ['pangram', 'The quick brown fox jumps over the lazy dog'],
  ['digit', '0'],
  ['number string', '42'],
  ['unit id', 'user-1'],
  ['salted unit', 'new-checkout.user-1'],
  ['traffic salt', 'checkout-exp.traffic.user-1'],
  ['namespace salt', 'ns.checkout.user-1'],
  ['spaces', '   '],
  ['NUL byte', '\u0000'],
  ['control characters', '\t\n\r'],
  ['DEL', '\u007f'],
  ['high bytes in a block (sign bit)', '\u00ff\u00ff'],
  ['long ASCII (1000 x a)', 'a'.repeat(1000)],
  ['long ASCII, 1001 bytes (tail 1)', 'b'.repeat(1001)],
  ['long ASCII, 257 bytes mixed', Array.from({ length: 257 }, (_, i) => String.fromCharCode(32 + (i % 95))).join('')],
  ['Latin-1: e acute (2-byte tail)', 'é'],
  ['Latin-1: cafe', 'café'],
  ['Latin-1: naive', 'naïve'],
  ['Latin-1: Jose', 'José'],
  ['Latin-1: y diaeresis', 'ÿ'],
  ['Latin-1: U+0080', '\u0080'],
  ['Latin-1: no-break space', '\u00a0'],
  ['Latin-1: mixed', 'Ünïcödé-Grüße'],
  ['euro sign (3 bytes)', '€'],
  ['ASCII + euro (5 bytes)', 'ab€'],
  ['CJK: nihongo', '日本語'],
  ['CJK: user (katakana)', 'ユーザー'],
  ['CJK: Chinese', '中文测试'],
  ['Hangul', '한국어'],
  ['Cyrillic', 'Привет'],
  ['Arabic', 'مرحبا'],
  ['U+FFFF', '\uffff'],
  ['U+FFFD replacement character', '\ufffd'],
  ['emoji (surrogate pair, 4 bytes)', '😀'],
  ['emoji + ASCII', 'a😀'],
  ['emoji with skin tone', '👍🏽'],
  ['ZWJ family emoji', '👨‍👩‍👧‍👦'],
  ['flag emoji', '🇺🇸'],
  ['U+10FFFF', '\u{10ffff}'],
  ['unit with emoji', 'user-😀-42'],
  ['lone high surrogate', '\ud800'],
  ['lone low surrogate', '\udfff'],
  ['ASCII + lone high surrogate', 'a\ud83d'],
  ['lone low surrogate + ASCII', '\ude00b'],
  ['reversed surrogate pair', '\udc00\ud800'],
  ['high surrogate then ASCII then low', '\ud83dx\ude00'],
];

// Deterministic pseudo-random strings over several code-point ranges, lone surrogates included.
const rnd = prng(20240601);
const ranges = [
  [0x20, 0x7e],
  [0x00, 0x7f],
  [0x80, 0x7ff],
  [0x800, 0xffff],
  [0xd800, 0xdfff],
  [0x10000, 0x10ffff],
];
const randomStrings = [];
for (let i = 0; i < 40; i++) {
  const len = Math.floor(rnd() * 24);
  let s = '';
  for (let j = 0; j < len; j++) {
    const [lo, hi] = ranges[Math.floor(rnd() * ranges.length)];
    s += String.fromCodePoint(lo + Math.floor(rnd() * (hi - lo + 1)));
  }
  randomStrings.push([`random ${i}`, s]);
}

const hashCases = [...named, ...randomStrings].map(([name, input]) => ({
  name,
  input,
  utf8: hex(utf8(input)),
  hash: refHash32(input),
}));

out('hash.json', {
  description:
    'MurmurHash3 x86 32-bit, seed 0, over the UTF-8 bytes of `input`, as an unsigned integer. `utf8` is the hex of the bytes hashed (WHATWG TextEncoder: a lone surrogate becomes U+FFFD, EF BF BD).',
  generator: 'spec/generate-hash-vectors.mjs (murmurhash3js-revisited x86.hash32(new TextEncoder().encode(input), 0))',
  cases: hashCases,
});

// ---- bucket.json -----------------------------------------------------------------------

const salts = ['new-checkout', 'checkout-exp', 'checkout-exp.traffic', 'ns.checkout', 'a', '', 'sälz-😀', 'Flag_Key.v2'];
const units = ['user-1', 'user-2', '42', '', 'José', 'ユーザー42', '😀', 'a\ud800b', 'company 7', 'x'.repeat(300)];
const bucketCases = [];
for (const salt of salts) for (const unit of units) bucketCases.push({ salt, unit });
// Units on the edges of the range and of common split boundaries.
for (const [salt, target] of [
  ['boundary', 0],
  ['boundary', 9999],
  ['boundary', 4999],
  ['boundary', 5000],
  ['boundary', 2999],
  ['boundary', 3000],
]) {
  bucketCases.push({ salt, unit: findUnit(salt, (b) => b === target, 'u') });
}

out('bucket.json', {
  description:
    'bucket(salt, unit) = floor(hash32(salt + "." + unit) * 10000 / 2^32), an integer in [0, 9999]. `input` is the string hashed, `hash` its hash32.',
  generator: 'spec/generate-hash-vectors.mjs (reference hash, exact integer arithmetic)',
  cases: bucketCases.map(({ salt, unit }) => ({
    salt,
    unit,
    input: salt + '.' + unit,
    hash: refHash32(salt + '.' + unit),
    bucket: refBucket(salt, unit),
  })),
});

console.log(`hash.json: ${hashCases.length} cases, bucket.json: ${bucketCases.length} cases`);

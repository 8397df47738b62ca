// Generates the UnicodeScripts pre-tokenizer goldens from the Rust `tokenizers` library
// (0.22.2 through npm @anush008/tokenizers, installed under bench/peers: `cd bench/peers && npm install`).
//
//   node cppformers/tokenizers/testdata/unicode_scripts/make_golden.js
//
// Writes, next to this script:
//  * script_classes.json: the library's character classes, recovered by probing its pre-tokenizer
//    over every code point: {"ranges": [[first, last, class], ...]} where class 1.. numbers the
//    classes in order of first appearance and code points in no range are the class the library
//    never splits on ("Any": the space, and everything its script table does not list).
//    Probing: a code point c is "Any" when neither "a"+c nor "α"+c splits (so it belongs to
//    neither Latin nor Greek nor anything else); the other code points, in order, split exactly
//    where their class changes; each resulting run is then matched against one representative of
//    every class seen so far ("r k1 r k2 ..." splits around each k that differs from r).
//  * golden.jsonl: for mixed-script texts, pre_tokenize_str (pieces and code-point offsets) and the
//    full encoding (ids, tokens, offsets) of tokenizer.json (UnicodeScripts + a small WordLevel).
'use strict';
const fs = require('fs');
const path = require('path');
const root = path.resolve(__dirname, '../../../..');
const { Tokenizer } = require(path.join(root, 'bench/peers/node_modules/@anush008/tokenizers'));

const tokJsonPath = path.join(__dirname, 'tokenizer.json');
const tok = Tokenizer.fromFile(tokJsonPath);
const pre = tok.getPreTokenizer();

// Start offsets (code points) of the pieces of s.
function starts(s) {
  return pre.preTokenizeString(s).map((p) => p[1][0]);
}

const cps = [];
for (let c = 0; c <= 0x10ffff; ++c) if (c < 0xd800 || c > 0xdfff) cps.push(c);

// 1. "Any": joins both "a" and "α".
const joins = (ref) => {
  const out = new Uint8Array(0x110000);
  const chunk = 50000;
  for (let i = 0; i < cps.length; i += chunk) {
    const part = cps.slice(i, i + chunk);
    const s = part.map((c) => ref + String.fromCodePoint(c)).join('');
    const st = new Set(starts(s));
    part.forEach((c, k) => { out[c] = !st.has(2 * k + 1) && !st.has(2 * k + 2) ? 1 : 0; });
  }
  return out;
};
const ja = joins('a');
const jg = joins('\u03b1');
const any = (c) => ja[c] && jg[c];

// 2. Runs of equal class among the other code points, in order.
const rest = cps.filter((c) => !any(c));
const runStarts = new Set();
{
  const chunk = 100000;
  for (let i = 0; i < rest.length; i += chunk) {
    const part = rest.slice(i, i + chunk);
    // Overlap one code point with the previous chunk so a change at the boundary is seen.
    const from = i === 0 ? 0 : i - 1;
    const ext = rest.slice(from, i + chunk);
    const s = ext.map((c) => String.fromCodePoint(c)).join('');
    for (const o of starts(s)) {
      const idx = from + o;
      if (idx >= i || i === 0) runStarts.add(idx);
    }
    void part;
  }
}
runStarts.add(0);
const runIdx = [...runStarts].sort((a, b) => a - b);

// 3. One class per run, matched against the representatives seen so far.
const reps = [];  // code point per class (index + 1 = class)
const runClass = [];
for (const ri of runIdx) {
  const r = String.fromCodePoint(rest[ri]);
  let cls = 0;
  if (reps.length) {
    const s = r + reps.map((k) => String.fromCodePoint(k) + r).join('');
    const st = new Set(starts(s));
    for (let j = 0; j < reps.length; ++j) {
      if (!st.has(2 * j + 1)) { cls = j + 1; break; }
    }
  }
  if (!cls) { reps.push(rest[ri]); cls = reps.length; }
  runClass.push(cls);
}

// Class of every non-Any code point, then ranges over consecutive code points.
const classOf = new Map();
for (let k = 0; k < runIdx.length; ++k) {
  const end = k + 1 < runIdx.length ? runIdx[k + 1] : rest.length;
  for (let i = runIdx[k]; i < end; ++i) classOf.set(rest[i], runClass[k]);
}
const ranges = [];
for (const c of rest) {
  const cls = classOf.get(c);
  const last = ranges[ranges.length - 1];
  if (last && last[1] === c - 1 && last[2] === cls) last[1] = c;
  else ranges.push([c, c, cls]);
}
fs.writeFileSync(path.join(__dirname, 'script_classes.json'),
  JSON.stringify({ library: 'tokenizers 0.22.2 (npm @anush008/tokenizers 0.6.0)', classes: reps.length,
    representatives: reps, ranges }) + '\n');
console.error(`classes: ${reps.length}, ranges: ${ranges.length}, any: ${cps.length - rest.length}`);

// 4. Encodings of mixed-script texts.
const texts = JSON.parse(fs.readFileSync(path.join(__dirname, "texts.json"), "utf8"))
  .concat(fs.readFileSync(path.join(root, "../shared/fixtures/tokenizers/texts.jsonl"), "utf8").split("\n").filter((l) => l).map((l) => JSON.parse(l).text));
(async () => {
  const lines = [];
  for (const text of texts) {
    const e = await tok.encode(text);
    lines.push(JSON.stringify({ text, pre_tokens: pre.preTokenizeString(text), ids: e.getIds(),
      tokens: e.getTokens(), offsets: e.getOffsets() }));
  }
  fs.writeFileSync(path.join(__dirname, 'golden.jsonl'), lines.join('\n') + '\n');
  console.error(`golden: ${lines.length} texts`);
})();

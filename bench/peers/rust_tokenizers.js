// Peer for bench/tokenizers_bench.cpp: the Rust `tokenizers` 0.22.2 through its Node binding
// (npm @anush008/tokenizers; install with `cd bench/peers && npm install`).
//
//   node bench/peers/rust_tokenizers.js --corpus CORPUS.json [--reps N] TOKENIZER.json...
//
// CORPUS.json is a JSON array of strings (bench_tokenizers writes it). For each tokenizer file
// prints one JSON line: {file, load_s (median of 5 Tokenizer.fromFile), single_mbs (one
// `await encode(text)` after another, best of N: one thread, per-call overhead included),
// batch_mbs (one `encodeBatch(all texts)`, best of N: rayon on all cores), tokens}.
'use strict';
const fs = require('fs');
const { Tokenizer } = require('@anush008/tokenizers');

async function main() {
  const args = process.argv.slice(2);
  let corpusPath = null;
  let reps = 3;
  const files = [];
  for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--corpus') corpusPath = args[++i];
    else if (args[i] === '--reps') reps = parseInt(args[++i], 10);
    else files.push(args[i]);
  }
  if (!corpusPath || files.length === 0) {
    console.error('usage: rust_tokenizers.js --corpus CORPUS.json [--reps N] TOKENIZER.json...');
    process.exit(2);
  }
  const corpus = JSON.parse(fs.readFileSync(corpusPath, 'utf8'));
  const bytes = corpus.reduce((n, s) => n + Buffer.byteLength(s, 'utf8'), 0);
  for (const file of files) {
    const loads = [];
    for (let i = 0; i < 5; ++i) {
      const t0 = process.hrtime.bigint();
      Tokenizer.fromFile(file);
      loads.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    loads.sort((a, b) => a - b);
    const tok = Tokenizer.fromFile(file);
    let tokens = 0;
    for (const s of corpus) tokens += (await tok.encode(s)).getIds().length;  // warm-up
    let best = Infinity;
    for (let r = 0; r < reps; ++r) {
      const t0 = process.hrtime.bigint();
      for (const s of corpus) await tok.encode(s);
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
    }
    const single = bytes / best / 1e6;
    best = Infinity;
    for (let r = 0; r < reps; ++r) {
      const t0 = process.hrtime.bigint();
      await tok.encodeBatch(corpus);
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
    }
    const batch = bytes / best / 1e6;
    console.log(JSON.stringify({ file, load_s: loads[2], single_mbs: single, batch_mbs: batch, tokens }));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

// Records what the Rust `tokenizers` trainers (0.22.2, through the Node binding
// @anush008/tokenizers installed in bench/peers) learn from a small corpus, for trainers_test.cpp.
//
//   node cppformers/tokenizers/testdata/trainers/make_trainer_goldens.js
//
// Corpus: the texts of ../shared/fixtures/tokenizers/texts.jsonl joined with "\n" (one file;
// Tokenizer.train reads it line by line, each line with its "\n"). Each case starts from a
// fixture tokenizer.json with its vocabulary emptied (as train_new_from_iterator does) and runs
// the model's default trainer (Tokenizer.train: vocab_size 30000, min_frequency 0, no special
// tokens, no initial alphabet; WordPiece: continuing_subword_prefix "##"). The binding exposes
// no trainer options, so these goldens cover the default configuration.
//
// Byte-level BPE training is deterministic in the Rust library; WordPiece is not (the ids of the
// "##x" characters follow a hash map's iteration order), so its golden is one run, and the test
// reproduces it by giving our trainer that run's "##x" order.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const root = path.resolve(__dirname, '../../../..');
const { Tokenizer } = require(path.join(root, 'bench/peers/node_modules/@anush008/tokenizers'));
const fixtures = path.resolve(root, '../shared/fixtures/tokenizers');

const texts = fs.readFileSync(path.join(fixtures, 'texts.jsonl'), 'utf8')
  .split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l).text);
const corpus = texts.join('\n') + '\n';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trainer-goldens-'));
const corpusFile = path.join(tmp, 'corpus.txt');
fs.writeFileSync(corpusFile, corpus);

const cases = {
  bpe_roberta: 'roberta_bpe',
  bpe_gpt2: 'gpt2',
  bpe_llama_nopretok: 'llama_bpe_bytefallback',
  wordpiece_bert: 'bert_wordpiece',
};
const out = { library: 'tokenizers 0.22.2 via @anush008/tokenizers 0.6.0', corpus_bytes: Buffer.byteLength(corpus), cases: {} };
for (const [name, fixture] of Object.entries(cases)) {
  const j = JSON.parse(fs.readFileSync(path.join(fixtures, fixture, 'tokenizer.json'), 'utf8'));
  j.added_tokens = [];
  j.post_processor = null;
  j.model.vocab = {};
  if (j.model.type === 'BPE') j.model.merges = [];
  const tok = Tokenizer.fromString(JSON.stringify(j));
  tok.train([corpusFile]);
  const file = path.join(tmp, name + '.json');
  tok.save(file, false);
  const m = JSON.parse(fs.readFileSync(file, 'utf8')).model;
  const vocab = Object.entries(m.vocab).sort((a, b) => a[1] - b[1]).map((e) => e[0]);
  const rec = { template: fixture, vocab };
  if (m.merges) rec.merges = m.merges.map((x) => (Array.isArray(x) ? x : x.split(' ')));
  out.cases[name] = rec;
}
fs.writeFileSync(path.join(__dirname, 'rust_trainer_goldens.json.gz'), zlib.gzipSync(JSON.stringify(out) + '\n', { level: 9 }));
fs.rmSync(tmp, { recursive: true });
console.log(Object.entries(out.cases).map(([k, v]) => `${k}: vocab ${v.vocab.length}` + (v.merges ? `, merges ${v.merges.length}` : '')).join('\n'));

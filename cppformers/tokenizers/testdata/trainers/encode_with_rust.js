// Loads a tokenizer.json in the Rust `tokenizers` library (Node binding @anush008/tokenizers,
// installed in bench/peers) and prints the ids of each text as one JSON array of arrays:
//
//   node encode_with_rust.js TOKENIZER.json TEXTS.json   (TEXTS.json: a JSON array of strings)
'use strict';
const fs = require('fs');
const path = require('path');
const root = path.resolve(__dirname, '../../../..');
const { Tokenizer } = require(path.join(root, 'bench/peers/node_modules/@anush008/tokenizers'));

async function main() {
  const [file, textsFile] = process.argv.slice(2);
  const tok = Tokenizer.fromFile(file);
  const texts = JSON.parse(fs.readFileSync(textsFile, 'utf8'));
  const out = [];
  for (const t of texts) out.push((await tok.encode(t, null, { addSpecialTokens: true })).getIds());
  process.stdout.write(JSON.stringify(out) + '\n');
}
main().catch((e) => {
  console.error(String(e));
  process.exit(1);
});

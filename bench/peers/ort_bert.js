// The ONNX Runtime peer of bench_bert_forward: runs the ONNX export of bench/peers/torch_bert.py's
// module (the same weights) with npm onnxruntime-node on the CPU execution provider, on the inputs
// in DIR/inputs.safetensors, timed as the others (warm-up, then N runs, median and min), and
// checks its outputs against DIR/cppformers_out.safetensors.
//
//   node bench/peers/ort_bert.js --dir DIR --model FILE.onnx [--threads 2] [--iters 20] [--warmup 3]
//
// Install: cd bench/peers && ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm install
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

function args() {
  const a = { dir: null, model: null, threads: 2, iters: 20, warmup: 3, cases: 'b1,b8,b8pad', tag: 'onnxruntime' };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) {
    const k = v[i].replace(/^--/, '');
    if (!(k in a)) throw new Error(`unknown option ${v[i]}`);
    a[k] = typeof a[k] === 'number' ? Number(v[i + 1]) : v[i + 1];
  }
  if (!a.dir || !a.model) throw new Error('usage: ort_bert.js --dir DIR --model FILE.onnx [--threads N] [--iters N] [--warmup N]');
  return a;
}

// safetensors by hand: u64 LE header size, JSON header, data.
function loadSafetensors(file) {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const base = 8 + n;
  const out = {};
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [b, end] = e.data_offsets;
    const bytes = buf.subarray(base + b, base + end);
    const copy = new ArrayBuffer(bytes.length);
    new Uint8Array(copy).set(bytes);
    let data;
    if (e.dtype === 'F32') data = new Float32Array(copy);
    else if (e.dtype === 'I64') data = new BigInt64Array(copy);
    else throw new Error(`${file}: ${name}: dtype ${e.dtype} not handled`);
    out[name] = { dtype: e.dtype, shape: e.shape, data };
  }
  return out;
}

function median(xs) {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

function flops(c, B, S) {
  const h = c.hidden_size, I = c.intermediate_size, L = c.num_hidden_layers, H = c.num_attention_heads, D = h / H;
  return 2 * L * (4 * h * h + 2 * h * I) * B * S + L * 2 * 2 * B * H * S * S * D + 2 * h * h * B;
}

async function main() {
  const a = args();
  const cfg = JSON.parse(fs.readFileSync(path.join(a.dir, 'config.json'), 'utf8'));
  const opts = {
    executionProviders: ['cpu'],
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  const session = await ort.InferenceSession.create(a.model, opts);
  const version = require('onnxruntime-node/package.json').version;
  const detail = `onnxruntime-node ${version}, CPU EP (MLAS), intraOpNumThreads=${a.threads}, graph optimization all`;
  console.log(`[${a.tag}] ${detail}`);
  const inputs = loadSafetensors(path.join(a.dir, 'inputs.safetensors'));
  const refFile = path.join(a.dir, 'cppformers_out.safetensors');
  const ref = fs.existsSync(refFile) ? loadSafetensors(refFile) : {};
  const results = { backend: a.tag, detail, cases: [] };
  for (const name of a.cases.split(',')) {
    const ids = inputs[`input_ids.${name}`], mask = inputs[`attention_mask.${name}`];
    const feeds = {
      input_ids: new ort.Tensor('int64', ids.data, ids.shape),
      attention_mask: new ort.Tensor('int64', mask.data, mask.shape),
    };
    let out;
    for (let i = 0; i < a.warmup; ++i) out = await session.run(feeds);
    const ms = [];
    for (let i = 0; i < a.iters; ++i) {
      const t0 = process.hrtime.bigint();
      out = await session.run(feeds);
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const diffs = {};
    for (const key of ['last_hidden_state', 'pooler_output']) {
      const r = ref[`${key}.${name}`];
      if (!r) continue;
      const o = out[key].data;
      let d = 0;
      for (let i = 0; i < o.length; ++i) d = Math.max(d, Math.abs(o[i] - r.data[i]));
      diffs[key] = d;
    }
    const [B, S] = ids.shape;
    const fl = flops(cfg, B, S);
    const med = median(ms);
    console.log(`[${a.tag}] ${name.padEnd(6)} batch ${B}: median ${med.toFixed(2).padStart(8)} ms, ` +
                `min ${Math.min(...ms).toFixed(2).padStart(8)} ms, max ${Math.max(...ms).toFixed(2).padStart(8)} ms, ` +
                `${(fl / med * 1e-6).toFixed(1).padStart(6)} GFLOP/s; max |diff| vs cppformers: ` +
                Object.entries(diffs).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', '));
    results.cases.push({ name, batch: B, seq: S, flops: fl, median_ms: med, min_ms: Math.min(...ms),
                         mean_ms: ms.reduce((p, q) => p + q, 0) / ms.length, max_ms: Math.max(...ms),
                         all_ms: ms, max_abs_diff: diffs });
  }
  fs.writeFileSync(path.join(a.dir, `${a.tag}_results.json`), JSON.stringify(results, null, 2));
}

main().catch((e) => {
  console.error(`ort_bert.js: ${e.stack || e}`);
  process.exit(1);
});

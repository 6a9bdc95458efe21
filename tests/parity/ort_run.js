#!/usr/bin/env node
// ONNX Runtime (CPU execution provider) reference runner for quire's parity tests and
// benchmarks: runs one model on one .npy input and writes the first output as .npy.
//
// Usage: node ort_run.js MODEL.onnx IN.npy OUT.npy [--threads N] [--repeat R]
//
// IN.npy: float32 ('<f4'), C order, any NumPy format version; fed to the model's
// first input. OUT.npy: the model's first output, float32, C order, format 1.0.
// --threads N: intraOpNumThreads (default 1); interOpNumThreads is always 1,
//   sequential execution, graph optimization level "all".
// --opt LEVEL: graph optimization level disabled, basic, extended or all (default
//   all); the harness self-check uses disabled to get a legitimately different sum order.
// --repeat R: after the first (untimed, warm-up) run, time R more runs and print
//   "median_ms=<ms>". Output is always from the first run.
// Always prints "peak_rss_kb=<KiB>" (process.resourceUsage().maxRSS) at the end.
// Exit status: 0 on success, 1 on any error (message on stderr).
'use strict';

const fs = require('fs');
const path = require('path');

function die(msg) {
  process.stderr.write(`ort_run.js: error: ${msg}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const pos = [];
  const opt = { threads: 1, repeat: 0, opt: 'all' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--threads' || a === '--repeat') {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < (a === '--threads' ? 1 : 0)) die(`bad value for ${a}: ${argv[i]}`);
      opt[a.slice(2)] = v;
    } else if (a === '--opt') {
      opt.opt = argv[++i];
      if (!['disabled', 'basic', 'extended', 'all'].includes(opt.opt)) die(`bad value for --opt: ${opt.opt}`);
    } else if (a.startsWith('--')) {
      die(`unknown option ${a}`);
    } else {
      pos.push(a);
    }
  }
  if (pos.length !== 3) die('usage: node ort_run.js MODEL.onnx IN.npy OUT.npy [--threads N] [--repeat R]');
  [opt.model, opt.input, opt.output] = pos;
  return opt;
}

// readNpy: parse a float32 C-order .npy file into { shape, data: Float32Array }.
function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') die(`${file}: not a .npy file`);
  const major = buf[6];
  let hlen, hstart;
  if (major === 1) { hlen = buf.readUInt16LE(8); hstart = 10; }
  else if (major === 2 || major === 3) { hlen = buf.readUInt32LE(8); hstart = 12; }
  else die(`${file}: unsupported .npy version ${major}`);
  if (hstart + hlen > buf.length) die(`${file}: truncated header`);
  const header = buf.toString(major === 3 ? 'utf8' : 'latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shapeM = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeM) die(`${file}: malformed header ${header}`);
  if (descr[1] !== '<f4') die(`${file}: dtype ${descr[1]}, expected float32 '<f4'`);
  if (fortran[1] !== 'False') die(`${file}: Fortran order not supported, save C order`);
  const shape = shapeM[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const off = hstart + hlen;
  if (buf.length - off !== count * 4) die(`${file}: ${buf.length - off} data bytes, shape [${shape}] needs ${count * 4}`);
  // Copy into an aligned buffer (the data offset need not be 4-byte aligned).
  const data = new Float32Array(count);
  Buffer.from(data.buffer).set(buf.subarray(off));
  return { shape, data };
}

// writeNpy: write float32 data of the given shape as a version 1.0 .npy file.
function writeNpy(file, shape, data) {
  const shp = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shp}, }`;
  // Pad so that the data starts at a multiple of 64 bytes, header ends with '\n'.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header + ' '.repeat(total - 10 - header.length - 1) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  let ort;
  try {
    ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));
  } catch (e) {
    die(`cannot load onnxruntime-node (run tests/parity/setup.sh): ${e.message}`);
  }
  if (!fs.existsSync(opt.model)) die(`${opt.model}: no such model file`);
  const inp = readNpy(opt.input);

  const session = await ort.InferenceSession.create(opt.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: opt.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: opt.opt,
  });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', inp.data, inp.shape) };
  const outName = session.outputNames[0];

  const first = await session.run(feeds);
  const out = first[outName];
  if (out.type !== 'float32') die(`output ${outName} has type ${out.type}, expected float32`);
  writeNpy(opt.output, out.dims, out.data);
  process.stdout.write(`ort ${ort.env.versions.node}: ${path.basename(opt.model)} ` +
    `${session.inputNames[0]}[${inp.shape}] -> ${outName}[${out.dims}] threads=${opt.threads}\n`);

  if (opt.repeat > 0) {
    const times = [];
    for (let i = 0; i < opt.repeat; i++) {
      const t0 = process.hrtime.bigint();
      await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    process.stdout.write(`median_ms=${median(times).toFixed(3)} runs=${opt.repeat} ` +
      `min_ms=${Math.min(...times).toFixed(3)}\n`);
  }
  process.stdout.write(`peak_rss_kb=${process.resourceUsage().maxRSS}\n`);
}

main().catch((e) => die(e && e.message ? e.message : String(e)));

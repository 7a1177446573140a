// The ONNX Runtime side of MixLens's side-by-side benchmark (bench/Peers/PeersCommand.cs drives it).
// usage: node ort-worker.mjs ORT_DIR   (ORT_DIR: a folder where `npm install --ignore-scripts onnxruntime-node@1.23.2` was run)
// One JSON command per stdin line; each reply is one stdout line "@@ {json}". Commands (the same as MixLensWorker.cs):
//   {"op":"info"}                       -> ort version, processors
//   {"op":"load","onnx":F,"threads":T[,"spin":false]}
//                                       -> load_ms (InferenceSession.create, options as ../shared/peers/ort-bench.mjs;
//                                          spin false sets session.intra_op.allow_spinning = 0), memory
//   {"op":"set","texts":[[ids...],...]} -> the batch: padded to the longest text with [PAD] = 0, attention_mask 1/0,
//                                          int64 [B, maxN], as an ORT user feeds a batch of texts
//   {"op":"output","path":P}            -> one run; for each text its n real rows of last_hidden_state [B, maxN, d]
//                                          (float32, padding rows dropped) appended to P
//   {"op":"time","runs":R}              -> R runs: ms per run (session.run incl. output copy), process CPU ms over all R
//   {"op":"warmup","seconds":S,"runs":R} -> runs until both S seconds and R runs have passed
//   {"op":"memory"}                     -> VmRSS / RssAnon / RssFile from /proc/self/status, MiB
//   {"op":"quit"}
import { createRequire } from 'module';
import { readFileSync, writeFileSync } from 'fs';
import readline from 'readline';

const ortDir = process.argv[2];
const ort = createRequire(ortDir.replace(/\/?$/, '/'))('onnxruntime-node');
let session = null, feeds = null, lengths = [], maxN = 0;

function memory() {
  const out = {};
  for (const line of readFileSync('/proc/self/status', 'utf8').split('\n')) {
    const m = /^(VmRSS|RssAnon|RssFile):\s+(\d+) kB/.exec(line);
    if (m) out[{ VmRSS: 'rss_mib', RssAnon: 'rss_anon_mib', RssFile: 'rss_file_mib' }[m[1]]] = Math.round(+m[2] / 102.4) / 10;
  }
  return out;
}

async function handle(cmd) {
  switch (cmd.op) {
    case 'info':
      return { ort: JSON.parse(readFileSync(ortDir + '/node_modules/onnxruntime-node/package.json', 'utf8')).version,
               processors: (await import('os')).availableParallelism() };
    case 'load': {
      if (session) await session.release();
      const t0 = process.hrtime.bigint();
      const options = { intraOpNumThreads: cmd.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' };
      if (cmd.spin === false) options.extra = { session: { intra_op: { allow_spinning: '0' } } }; // ORT's default is to spin
      session = await ort.InferenceSession.create(cmd.onnx, options);
      return { load_ms: Number(process.hrtime.bigint() - t0) / 1e6, memory: memory() };
    }
    case 'set': {
      lengths = cmd.texts.map(t => t.length);
      maxN = Math.max(...lengths);
      const B = cmd.texts.length;
      const ids = new BigInt64Array(B * maxN), mask = new BigInt64Array(B * maxN); // zero = [PAD] / masked
      cmd.texts.forEach((t, b) => t.forEach((id, p) => { ids[b * maxN + p] = BigInt(id); mask[b * maxN + p] = 1n; }));
      feeds = { input_ids: new ort.Tensor('int64', ids, [B, maxN]), attention_mask: new ort.Tensor('int64', mask, [B, maxN]) };
      return {};
    }
    case 'output': {
      const t0 = process.hrtime.bigint();
      const out = (await session.run(feeds)).last_hidden_state;
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const d = out.dims[2], data = out.data, parts = [];
      lengths.forEach((n, b) => parts.push(Buffer.from(data.buffer, data.byteOffset + b * maxN * d * 4, n * d * 4)));
      writeFileSync(cmd.path, Buffer.concat(parts));
      return { ms };
    }
    case 'time': {
      const ms = [], cpu0 = process.cpuUsage();
      for (let r = 0; r < cmd.runs; r++) {
        const t0 = process.hrtime.bigint();
        await session.run(feeds);
        ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      const cpu = process.cpuUsage(cpu0);
      return { ms, cpu_ms: (cpu.user + cpu.system) / 1000 };
    }
    case 'warmup': {
      const t0 = process.hrtime.bigint(); let runs = 0;
      while (runs < cmd.runs || Number(process.hrtime.bigint() - t0) / 1e9 < cmd.seconds) { await session.run(feeds); runs++; }
      return { runs, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
    }
    case 'memory': return memory();
    default: return { error: 'unknown op ' + cmd.op };
  }
}

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  const cmd = JSON.parse(line);
  let reply;
  try { reply = await handle(cmd); } catch (e) { reply = { error: String(e && e.stack || e) }; }
  process.stdout.write('@@ ' + JSON.stringify(reply) + '\n');
  if (cmd.op === 'quit') break;
}
process.exit(0);

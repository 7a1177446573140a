using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using MixLens.Bench.Common;
using MixLens.Engine;

namespace MixLens.Bench.Peers;

/// <summary>
/// <c>peers</c>: MixLens against ONNX Runtime (the C# Microsoft.ML.OnnxRuntime 1.32.0, <see cref="OrtWorker"/>; or with
/// <c>--peer node</c> npm onnxruntime-node 1.23, <see cref="OrtRuntime"/>) on all-MiniLM-L6-v2 and
/// the BERT-base-shaped peer (<see cref="BertBasePeer"/>), same weights, same token ids.
/// <para><b>How</b>: each engine runs in its own long-lived child process (<see cref="MixLensWorker"/>,
/// <see cref="OrtWorker"/> or ort-worker.mjs), so the two never share a heap or a thread pool and each loads a model once per thread setting.
/// For every shape (<see cref="Workload.Standard"/>) the runner first checks that both last_hidden_states agree within
/// <see cref="Tolerance"/> on every real token (max |diff| reported; this first run is also a warm-up), then alternates
/// rounds — ORT, MixLens, ORT, MixLens, … — so both see the same background load, and reports the median time per run
/// of each engine and the ratio ORT / MixLens (above 1: MixLens is faster). Rounds and runs per round shrink for slow
/// shapes (about 0.4 s per round, 5 rounds; 3 rounds of 1 run when a run takes over a second, 2 over 4 seconds). After each model
/// load both engines are warmed up first (<see cref="WarmUp"/>).</para>
/// <para><b>Threads</b>: "1" starts both children under <c>taskset -c LAST_CORE</c> (so MixLens sees
/// <see cref="Environment.ProcessorCount"/> = 1 and its GEMM and its attention Parallel.For stay on one core; MixLens
/// has no thread-count setting today) with ORT's <c>intraOpNumThreads = 1</c>; "all" leaves affinity alone with
/// <c>intraOpNumThreads</c> = logical cores. The CPU-use columns (process CPU time / wall time) show what each engine
/// really used; with 1 thread on a loaded machine the process CPU time per run (median over rounds) is a second,
/// contention-resistant measure of the work done (with several threads it also counts ORT's spinning workers).</para>
/// <para>Also measured, in fresh processes: load time of all-MiniLM-L6-v2 (MixLens <c>EncoderModel.Load</c>, ORT
/// <c>InferenceSession.create</c>) and resident memory (<see cref="ProcessMemory"/>) after load and after one
/// forward at batch 1, n = 128.</para>
/// Run: <c>dotnet run -c Release --project bench -- peers [--peer csharp|node] [--models minilm,bert-base] [--threads 1,all]
/// [--shapes n16,n128,n512,b32,mixed] [--skip-memory] [--ort-no-spin] [--out FILE] [--scratch DIR]</c> (defaults:
/// everything, ORT's default spinning intra-op threads; --ort-no-spin sets its allow_spinning = 0; scratch
/// /tmp/mixlens-peers or MIXLENS_PEERS_SCRATCH, where the BERT-base peer and the output files for the agreement check go).
/// </summary>
public static class PeersCommand
{
    /// <summary>Largest |MixLens − ORT| accepted on last_hidden_state.</summary>
    const double Tolerance = 1e-4;
    const double RoundSeconds = 0.4;

    sealed record PeerModel(string Name, string Directory, string Onnx);

    /// <summary>One table row: medians (ms), CPU use (CPU time / wall time) and CPU ms per run of each engine.</summary>
    sealed record Row(string Model, string Threads, Workload Workload, double MaxDiff, double OrtMs, double MixMs,
        double OrtCpu, double MixCpu, double OrtCpuMs, double MixCpuMs, int Rounds, int RunsPerRound, string LoadAverage);

    public static int Run(string[] args)
    {
        var options = ParseOptions(args);
        string peer = options.GetValueOrDefault("peer") ?? "csharp";
        if (peer is not ("csharp" or "node")) throw new ArgumentException($"--peer must be csharp or node, not '{peer}'");
        EngineWorkers.UseNodePeer = peer == "node";
        if (EngineWorkers.UseNodePeer && !OrtRuntime.IsInstalled()) return 2;
        var total = Stopwatch.StartNew();
        string scratch = options.GetValueOrDefault("scratch") ?? Environment.GetEnvironmentVariable("MIXLENS_PEERS_SCRATCH") ?? "/tmp/mixlens-peers";
        Directory.CreateDirectory(scratch);

        var models = new List<PeerModel>();
        var wanted = (options.GetValueOrDefault("models") ?? "minilm,bert-base").Split(',');
        string minilm = SharedPaths.Model("all-MiniLM-L6-v2");
        if (wanted.Contains("minilm")) models.Add(new("all-MiniLM-L6-v2", minilm, Path.Combine(minilm, "model.onnx")));
        if (wanted.Contains("bert-base"))
        {
            string dir = BertBasePeer.Ensure(SharedPaths.Root, scratch);
            models.Add(new("bert-base-random", dir, Path.Combine(dir, "model.onnx")));
        }
        var threadSettings = (options.GetValueOrDefault("threads") ?? "1,all").Split(',');
        var shapes = (options.GetValueOrDefault("shapes") ?? "n16,n128,n512,b32,mixed").Split(',');
        bool noSpin = options.ContainsKey("ort-no-spin");

        List<Workload> workloads;
        using (var tokenizerModel = EncoderModel.Load(minilm))
            workloads = Workload.Standard(tokenizerModel.Tokenizer, Path.Combine(SharedPaths.Root, "data", "sst2-dev.tsv"));

        var report = new StringBuilder();
        report.AppendLine(MachineInfo.Summary());
        report.AppendLine($"ONNX Runtime: {EngineWorkers.OrtDescription}" +
                          (noSpin ? "; ORT intra-op spinning off" : ""));
        report.AppendLine();

        var loads = new List<string> { MachineInfo.LoadAverage() };
        var rows = new List<Row>();
        foreach (var threads in threadSettings)
        {
            using var ort = EngineWorkers.StartOrt(threads);
            using var mix = EngineWorkers.StartMixLens(threads);
            var mixInfo = mix.Send(new JsonObject { ["op"] = "info" });
            Console.Error.WriteLine($"// threads {threads}: MixLens worker sees {mixInfo["processors"]} processor(s), path {mixInfo["vector_path"]}");
            foreach (var model in models)
            {
                ort.Send(new JsonObject { ["op"] = "load", ["onnx"] = model.Onnx, ["threads"] = EngineWorkers.OrtThreads(threads), ["spin"] = !noSpin });
                mix.Send(new JsonObject { ["op"] = "load", ["dir"] = model.Directory });
                WarmUp(workloads, ort, mix);
                foreach (var workload in workloads.Where(w => shapes.Contains(w.Key)))
                {
                    string load = MachineInfo.LoadAverage();
                    loads.Add(load);
                    var row = Compare(model, threads, workload, ort, mix, scratch, load);
                    rows.Add(row);
                    Console.Error.WriteLine($"// {model.Name} {workload.Name} threads {threads}: ORT {row.OrtMs:F1} ms, MixLens {row.MixMs:F1} ms, " +
                                            $"ratio {row.OrtMs / row.MixMs:F2}, max|diff| {row.MaxDiff:E1} (load {load}, {total.Elapsed.TotalSeconds:F0} s)");
                }
            }
        }
        loads.Add(MachineInfo.LoadAverage());

        report.AppendLine(RatioTable(rows));
        report.AppendLine($"Load average (1/5/15 min) seen during the run: {string.Join("; ", loads.Distinct())}.");
        report.AppendLine();
        if (!options.ContainsKey("skip-memory"))
        {
            report.AppendLine(LoadAndMemory.Measure(minilm, workloads.First(w => w.Key == "n128")));
            report.AppendLine();
        }
        report.AppendLine($"Total runner time: {total.Elapsed.TotalMinutes:F1} min.");

        Console.WriteLine();
        Console.WriteLine(report);
        if (options.GetValueOrDefault("out") is { } outPath) File.WriteAllText(outPath, report.ToString());
        return rows.All(r => r.MaxDiff <= Tolerance) ? 0 : 1;
    }

    /// <summary>Agreement check, then alternating timed rounds, for one model, thread setting and workload.</summary>
    static Row Compare(PeerModel model, string threads, Workload workload, WorkerClient ort, WorkerClient mix, string scratch, string load)
    {
        var texts = EngineWorkers.Texts(workload);
        ort.Send(new JsonObject { ["op"] = "set", ["texts"] = texts.DeepClone() });
        mix.Send(new JsonObject { ["op"] = "set", ["texts"] = texts.DeepClone() });

        // agreement (and first warm-up run)
        string ortPath = Path.Combine(scratch, "ort.f32"), mixPath = Path.Combine(scratch, "mixlens.f32");
        double ortFirst = (double)ort.Send(new JsonObject { ["op"] = "output", ["path"] = ortPath })["ms"]!;
        double mixFirst = (double)mix.Send(new JsonObject { ["op"] = "output", ["path"] = mixPath })["ms"]!;
        double maxDiff = MaxAbsDiff(ortPath, mixPath);
        if (maxDiff > Tolerance)
            Console.Error.WriteLine($"// WARNING {model.Name} {workload.Name}: max |diff| {maxDiff:E2} exceeds {Tolerance:E0}");

        // a second warm-up where it is cheap, then size the rounds from the slower engine
        double estimate = Math.Max(ortFirst, mixFirst);
        if (estimate < 1000)
        {
            double o = Times(ort.Send(new JsonObject { ["op"] = "time", ["runs"] = 2 })).Max();
            double m = Times(mix.Send(new JsonObject { ["op"] = "time", ["runs"] = 2 })).Max();
            estimate = Math.Max(o, m);
        }
        int rounds = estimate > 4000 ? 2 : estimate > 1000 ? 3 : 5;
        int runs = Math.Clamp((int)(RoundSeconds * 1000 / estimate), 1, 20);

        var ortMs = new List<double>();
        var mixMs = new List<double>();
        var ortCpuPerRun = new List<double>();
        var mixCpuPerRun = new List<double>();
        double gcPauseMs = 0;
        int gen2 = 0;
        for (int r = 0; r < rounds; r++)
        {
            var o = ort.Send(new JsonObject { ["op"] = "time", ["runs"] = runs });
            var m = mix.Send(new JsonObject { ["op"] = "time", ["runs"] = runs });
            ortMs.AddRange(Times(o));
            mixMs.AddRange(Times(m));
            Console.Error.WriteLine($"//   round {r + 1}: ORT median {Stats.Median(Times(o)):F1} ms, MixLens median {Stats.Median(Times(m)):F1} ms");
            ortCpuPerRun.Add((double)o["cpu_ms"]! / runs);
            mixCpuPerRun.Add((double)m["cpu_ms"]! / runs);
            gcPauseMs += (double)m["gc_pause_ms"]!;
            gen2 += (int)m["gen2_collections"]!;
        }
        Console.Error.WriteLine($"// MixLens GC during {rounds * runs} timed runs: {gcPauseMs:F0} ms paused, {gen2} gen-2 collections");
        return new Row(model.Name, threads, workload, maxDiff, Stats.Median(ortMs), Stats.Median(mixMs),
            ortCpuPerRun.Sum() * runs / ortMs.Sum(), mixCpuPerRun.Sum() * runs / mixMs.Sum(),
            Stats.Median(ortCpuPerRun), Stats.Median(mixCpuPerRun), rounds, runs, load);
    }

    /// <summary>
    /// After a load, both engines run batch 1 at n = 16 (≥ 40 runs, ≥ 1 s) and n = 128 (≥ 10 runs, ≥ 1 s), so that .NET's
    /// tiered JIT has promoted MixLens's kernels to optimised code (after ~30 calls and a background compile) and ORT
    /// has allocated its arenas, before any shape is timed.
    /// </summary>
    static void WarmUp(List<Workload> workloads, WorkerClient ort, WorkerClient mix)
    {
        foreach (var (name, runs) in new[] { ("b1 n16", 40), ("b1 n128", 10) })
        {
            var texts = EngineWorkers.Texts(workloads.First(w => w.Name == name));
            foreach (var worker in new[] { ort, mix })
            {
                worker.Send(new JsonObject { ["op"] = "set", ["texts"] = texts.DeepClone() });
                worker.Send(new JsonObject { ["op"] = "warmup", ["seconds"] = 1.0, ["runs"] = runs });
            }
        }
    }

    static double[] Times(JsonObject reply) => reply["ms"]!.AsArray().Select(x => (double)x!).ToArray();

    /// <summary>max |a − b| over two float32 files of the same length (the real-token rows of last_hidden_state).</summary>
    static double MaxAbsDiff(string pathA, string pathB)
    {
        var a = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(pathA));
        var b = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(pathB));
        if (a.Length != b.Length) throw new InvalidDataException($"outputs differ in size: {a.Length} vs {b.Length} floats");
        double max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = Math.Abs((double)a[i] - b[i]);
            if (!(d <= max)) max = d; // NaN propagates
        }
        return max;
    }

    // ---- report -------------------------------------------------------------------------------------------------------

    static string RatioTable(List<Row> rows)
    {
        var table = new MarkdownTable("model", "shape", "threads", "tokens MixLens / ORT", "max abs diff",
            "ORT median ms", "MixLens median ms", "ORT / MixLens", "CPU use ORT / MixLens", "CPU ms/run ORT / MixLens", "rounds × runs");
        foreach (var r in rows)
            table.Add(r.Model, r.Workload.Name, r.Threads, $"{r.Workload.Tokens} / {r.Workload.Batch * r.Workload.MaxLength}",
                $"{r.MaxDiff:E1}{(r.MaxDiff <= Tolerance ? "" : " ✗")}", $"{r.OrtMs:F1}", $"{r.MixMs:F1}", $"**{r.OrtMs / r.MixMs:F2}**",
                $"{r.OrtCpu:F2} / {r.MixCpu:F2}", $"{r.OrtCpuMs:F1} / {r.MixCpuMs:F1}", $"{r.Rounds} × {r.RunsPerRound}");
        return table.ToString();
    }

    static Dictionary<string, string> ParseOptions(string[] args)
    {
        var options = new Dictionary<string, string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--")) throw new ArgumentException($"unexpected argument '{args[i]}'");
            string key = args[i][2..];
            options[key] = i + 1 < args.Length && !args[i + 1].StartsWith("--") ? args[++i] : "true";
        }
        return options;
    }
}

using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;

namespace MixLens.Bench.Peers;

/// <summary>
/// <c>ort-worker</c>: the ONNX Runtime side of the side-by-side (<see cref="PeersCommand"/>), with the C# API of
/// Microsoft.ML.OnnxRuntime <see cref="Version"/> (the newest served; referenced by the bench project only, never by
/// src/). A child process of its own, driven by the same JSON commands as <see cref="MixLensWorker"/> and
/// ort-worker.mjs (the npm onnxruntime-node 1.23 peer, still available with <c>--peer node</c>):
/// <code>
///   {"op":"info"}                                → ort version, processors
///   {"op":"load","onnx":F,"threads":T[,"spin":false]}
///                                                → load_ms (new InferenceSession: all graph optimisations, sequential
///                                                  execution, intra-op threads T, inter-op 1; spin false sets
///                                                  session.intra_op.allow_spinning = 0), memory
///   {"op":"set","texts":[[ids…],…]}              → the batch: padded to the longest text with [PAD] = 0, attention_mask
///                                                  1/0, token_type_ids 0 when the graph takes them; int64 [B, maxN]
///   {"op":"output","path":P}                     → one run; each text's n real rows of last_hidden_state appended to P
///   {"op":"time","runs":R}                       → R runs: ms per run (Run and the outputs' release), process CPU ms
///   {"op":"warmup","seconds":S,"runs":R}         → runs until both S seconds and R runs have passed
///   {"op":"memory"}, {"op":"quit"}
/// </code>
/// </summary>
public static class OrtWorker
{
    public const string Version = "1.32.0";

    public static int Run(string[] args)
    {
        InferenceSession? session = null;
        Batch? batch = null;
        return WorkerLoop.Serve((op, command) =>
        {
            switch (op)
            {
                case "info":
                    return new JsonObject { ["ort"] = Version, ["processors"] = Environment.ProcessorCount };
                case "load":
                    batch?.Dispose();
                    batch = null;
                    session?.Dispose();
                    var sw = Stopwatch.StartNew();
                    session = Load((string)command["onnx"]!, (int)command["threads"]!, command["spin"] is not { } spin || (bool)spin);
                    return new JsonObject { ["load_ms"] = sw.Elapsed.TotalMilliseconds, ["memory"] = ProcessMemory.Snapshot() };
                case "set":
                    batch?.Dispose();
                    batch = new Batch(session!, command["texts"]!.AsArray().Select(t => t!.AsArray().Select(id => (long)id!).ToArray()).ToList());
                    return [];
                case "output": return WriteOutput(batch!, (string)command["path"]!);
                case "time": return Time(batch!, (int)command["runs"]!);
                case "warmup": return WarmUp(batch!, (double)command["seconds"]!, (int)command["runs"]!);
                case "memory": return ProcessMemory.Snapshot();
                default: return null;
            }
        }, () =>
        {
            batch?.Dispose();
            session?.Dispose();
        });
    }

    static InferenceSession Load(string onnx, int threads, bool spin)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        if (!spin) options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); // ORT's default is to spin
        return new InferenceSession(onnx, options);
    }

    /// <summary>One padded batch as ORT inputs, built once per "set" and reused by every run.</summary>
    sealed class Batch : IDisposable
    {
        readonly InferenceSession _session;
        readonly List<OrtValue> _values = [];
        readonly string[] _inputNames;
        readonly string[] _outputNames = ["last_hidden_state"];
        readonly RunOptions _runOptions = new();
        public int[] Lengths { get; }
        public int MaxN { get; }

        public Batch(InferenceSession session, List<long[]> texts)
        {
            _session = session;
            Lengths = texts.Select(t => t.Length).ToArray();
            MaxN = Lengths.Max();
            int b = texts.Count;
            var ids = new long[b * MaxN];
            var mask = new long[b * MaxN]; // zero = [PAD] / masked
            for (int t = 0; t < b; t++)
                for (int p = 0; p < texts[t].Length; p++) { ids[t * MaxN + p] = texts[t][p]; mask[t * MaxN + p] = 1; }
            long[] shape = [b, MaxN];
            var inputs = new Dictionary<string, long[]> { ["input_ids"] = ids, ["attention_mask"] = mask };
            if (session.InputMetadata.ContainsKey("token_type_ids")) inputs["token_type_ids"] = new long[b * MaxN];
            _inputNames = [.. inputs.Keys];
            foreach (var name in _inputNames) _values.Add(OrtValue.CreateTensorValueFromMemory(inputs[name], shape));
        }

        public IDisposableReadOnlyCollection<OrtValue> Run() => _session.Run(_runOptions, _inputNames, _values, _outputNames);

        public void Dispose()
        {
            foreach (var v in _values) v.Dispose();
            _runOptions.Dispose();
        }
    }

    static JsonObject WriteOutput(Batch batch, string path)
    {
        var sw = Stopwatch.StartNew();
        using var outputs = batch.Run();
        double ms = sw.Elapsed.TotalMilliseconds;
        var hidden = outputs[0].GetTensorDataAsSpan<float>();
        int d = hidden.Length / (batch.Lengths.Length * batch.MaxN);
        using var file = File.Create(path);
        for (int t = 0; t < batch.Lengths.Length; t++)
            file.Write(MemoryMarshal.AsBytes(hidden.Slice(t * batch.MaxN * d, batch.Lengths[t] * d)));
        return new JsonObject { ["ms"] = ms };
    }

    static JsonObject WarmUp(Batch batch, double seconds, int minRuns)
    {
        var sw = Stopwatch.StartNew();
        int runs = 0;
        while (runs < minRuns || sw.Elapsed.TotalSeconds < seconds)
        {
            using var outputs = batch.Run();
            runs++;
        }
        return new JsonObject { ["runs"] = runs, ["ms"] = sw.Elapsed.TotalMilliseconds };
    }

    static JsonObject Time(Batch batch, int runs)
    {
        var ms = new JsonArray();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var sw = new Stopwatch();
        for (int r = 0; r < runs; r++)
        {
            sw.Restart();
            using (batch.Run()) { }
            ms.Add(sw.Elapsed.TotalMilliseconds);
        }
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
        return new JsonObject { ["ms"] = ms, ["cpu_ms"] = cpu.TotalMilliseconds };
    }
}

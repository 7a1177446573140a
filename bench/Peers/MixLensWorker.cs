using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Kernels;

namespace MixLens.Bench.Peers;

/// <summary>
/// <c>peers-worker</c>: the MixLens side of the side-by-side, a child process driven by <see cref="PeersCommand"/>
/// through one JSON command per stdin line; each reply is one stdout line starting with <see cref="WorkerClient.ReplyPrefix"/>.
/// It is started on one core (<c>taskset</c>) for the 1-thread runs, so <see cref="Environment.ProcessorCount"/> is 1
/// and every kernel runs on that core. The same commands as ort-worker.mjs:
/// <code>
///   {"op":"info"}                          → processors, vector path
///   {"op":"load","dir":D}                  → load_ms (EncoderModel.Load), memory
///   {"op":"set","texts":[[ids…],…]}        → the batch every later run uses (token types 0, no padding: MixLens packs)
///   {"op":"output","path":P}               → one forward; last_hidden_state of each text, [n, d] float32, appended to P
///   {"op":"time","runs":R}                 → R forwards: ms per run, process CPU ms, GC pause ms and gen-2 GCs over all R
///   {"op":"warmup","seconds":S,"runs":R}   → forwards until both S seconds and R runs have passed (tiered JIT and
///                                            PGO reach their optimised code only after ~30 calls of a method)
///   {"op":"memory"}                        → <see cref="ProcessMemory.Snapshot"/>
///   {"op":"quit"}
/// </code>
/// A timed run is <c>model.Encoder.Forward(batch)</c> returning the last hidden states (what a user's call costs).
/// </summary>
public static class MixLensWorker
{
    public static int Run(string[] args)
    {
        EncoderModel? model = null;
        List<EncoderInput> batch = [];
        return WorkerLoop.Serve((op, command) =>
        {
            switch (op)
            {
                case "info":
                    return new JsonObject { ["processors"] = Environment.ProcessorCount, ["vector_path"] = VectorPaths.Active.ToString() };
                case "load":
                    model?.Dispose();
                    var sw = Stopwatch.StartNew();
                    model = EncoderModel.Load((string)command["dir"]!);
                    return new JsonObject { ["load_ms"] = sw.Elapsed.TotalMilliseconds, ["memory"] = ProcessMemory.Snapshot() };
                case "set":
                    batch = command["texts"]!.AsArray()
                        .Select(t => t!.AsArray().Select(id => (int)id!).ToArray())
                        .Select(ids => new EncoderInput(ids, new int[ids.Length]))
                        .ToList();
                    return [];
                case "output": return WriteOutput(model!, batch, (string)command["path"]!);
                case "time": return Time(model!, batch, (int)command["runs"]!);
                case "warmup": return WarmUp(model!, batch, (double)command["seconds"]!, (int)command["runs"]!);
                case "memory": return ProcessMemory.Snapshot();
                default: return null;
            }
        }, () => model?.Dispose());
    }

    static JsonObject WriteOutput(EncoderModel model, List<EncoderInput> batch, string path)
    {
        var sw = Stopwatch.StartNew();
        var output = model.Encoder.Forward(batch);
        double ms = sw.Elapsed.TotalMilliseconds;
        using var file = File.Create(path);
        foreach (var hidden in output.LastHiddenStates) file.Write(MemoryMarshal.AsBytes(hidden.Data.AsSpan()));
        return new JsonObject { ["ms"] = ms };
    }

    static JsonObject WarmUp(EncoderModel model, List<EncoderInput> batch, double seconds, int minRuns)
    {
        var sw = Stopwatch.StartNew();
        int runs = 0;
        while (runs < minRuns || sw.Elapsed.TotalSeconds < seconds)
        {
            GC.KeepAlive(model.Encoder.Forward(batch));
            runs++;
        }
        return new JsonObject { ["runs"] = runs, ["ms"] = sw.Elapsed.TotalMilliseconds };
    }

    static JsonObject Time(EncoderModel model, List<EncoderInput> batch, int runs)
    {
        var ms = new JsonArray();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var pause0 = GC.GetTotalPauseDuration();
        int gen2 = GC.CollectionCount(2);
        var sw = new Stopwatch();
        for (int r = 0; r < runs; r++)
        {
            sw.Restart();
            var output = model.Encoder.Forward(batch);
            ms.Add(sw.Elapsed.TotalMilliseconds);
            GC.KeepAlive(output);
        }
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
        return new JsonObject
        {
            ["ms"] = ms, ["cpu_ms"] = cpu.TotalMilliseconds,
            ["gc_pause_ms"] = (GC.GetTotalPauseDuration() - pause0).TotalMilliseconds, ["gen2_collections"] = GC.CollectionCount(2) - gen2,
        };
    }
}

using System.Text.Json.Nodes;
using MixLens.Bench.Common;

namespace MixLens.Bench.Peers;

/// <summary>
/// Load time and resident memory of all-MiniLM-L6-v2 in each engine, in fresh worker processes (all cores): memory at
/// start, the load (MixLens <c>EncoderModel.Load</c>, ORT <c>InferenceSession.create</c>; the first includes JIT), memory
/// after it, one forward at batch 1 n = 128, memory after that, then a second load in the same process. Memory is
/// <see cref="ProcessMemory.Snapshot"/> (VmRSS split into anonymous and file-backed pages); no GC is forced.
/// </summary>
public static class LoadAndMemory
{
    /// <summary>Fresh workers (all cores): memory at start, load, memory, one forward at batch 1 n = 128, memory, second load.</summary>
    public static string Measure(string minilm, Workload workload)
    {
        var table = new MarkdownTable("engine", "first load ms", "second load ms", "RSS at start MiB",
            "RSS after load MiB (anon + file)", "RSS after 1 forward MiB (anon + file)", ".NET private bytes after forward MiB");
        var texts = EngineWorkers.Texts(workload);
        string outPath = Path.Combine(Path.GetTempPath(), $"mixlens-peers-{Environment.ProcessId}.f32");
        foreach (var engine in new[] { "MixLens", "ORT" })
        {
            using var worker = engine == "ORT" ? EngineWorkers.StartOrt("all") : EngineWorkers.StartMixLens("all");
            var load = engine == "ORT"
                ? new JsonObject { ["op"] = "load", ["onnx"] = Path.Combine(minilm, "model.onnx"), ["threads"] = Environment.ProcessorCount }
                : new JsonObject { ["op"] = "load", ["dir"] = minilm };
            var start = worker.Send(new JsonObject { ["op"] = "memory" });
            var first = worker.Send((JsonObject)load.DeepClone());
            worker.Send(new JsonObject { ["op"] = "set", ["texts"] = texts.DeepClone() });
            worker.Send(new JsonObject { ["op"] = "output", ["path"] = outPath });
            var afterForward = worker.Send(new JsonObject { ["op"] = "memory" });
            var second = worker.Send((JsonObject)load.DeepClone());
            table.Add(engine, $"{(double)first["load_ms"]!:F0}", $"{(double)second["load_ms"]!:F0}", Rss(start),
                Rss(first["memory"]!.AsObject()), Rss(afterForward),
                afterForward["private_bytes_mib"] is { } pb ? $"{(double)pb!:F0}" : "n/a");
        }
        File.Delete(outPath);
        return "all-MiniLM-L6-v2, load time and resident memory (fresh process each, page cache warm, no forced GC):\n\n" + table;
    }

    static string Rss(JsonObject m) => $"{(double)m["rss_mib"]!:F0} ({(double)m["rss_anon_mib"]!:F0} + {(double)m["rss_file_mib"]!:F0})";
}

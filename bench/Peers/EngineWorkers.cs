using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;

namespace MixLens.Bench.Peers;

/// <summary>
/// Starting the two engines' worker processes for a thread setting: "1" runs each under <c>taskset -c LAST_CORE</c>
/// (MixLens then sees <see cref="Environment.ProcessorCount"/> = 1; <c>DOTNET_PROCESSOR_COUNT=1</c> is set as well, and
/// ORT gets <c>intraOpNumThreads = 1</c>); "all" leaves affinity alone (ORT: <c>intraOpNumThreads</c> = logical cores).
/// MixLens has no thread-count setting: its GEMM splits on <see cref="Environment.ProcessorCount"/> and its attention
/// runs <c>Parallel.For</c> on the thread pool, whose workers still take part with <c>DOTNET_PROCESSOR_COUNT=1</c> alone
/// (seen: four pool threads with 0.3–1.4 s of CPU each beside the main thread's 11 s), free to use another core.
/// </summary>
public static class EngineWorkers
{
    public static int OrtThreads(string threads) => threads == "all" ? Environment.ProcessorCount : int.Parse(threads);

    /// <summary>taskset -c 'last core' for the 1-thread setting (when taskset exists), else nothing.</summary>
    static List<string> Pinning(string threads)
    {
        if (threads != "1") return [];
        if (File.Exists("/usr/bin/taskset") || File.Exists("/bin/taskset"))
            return ["taskset", "-c", (Environment.ProcessorCount - 1).ToString()];
        Console.Error.WriteLine("// taskset not found: 1-thread runs rely on DOTNET_PROCESSOR_COUNT=1 (attention may still use 2 threads)");
        return [];
    }

    /// <summary>Which ONNX Runtime the runner compares with: the C# package (<see cref="OrtWorker"/>, default) or npm
    /// onnxruntime-node (ort-worker.mjs, <c>--peer node</c>).</summary>
    public static bool UseNodePeer { get; set; }

    /// <summary>"Microsoft.ML.OnnxRuntime 1.32.0 (C#)" or "onnxruntime-node 1.23.2 (node vX)", for reports.</summary>
    public static string OrtDescription => UseNodePeer
        ? $"onnxruntime-node {OrtRuntime.Version} from {OrtRuntime.Directory}, node {NodeVersion()}"
        : $"Microsoft.ML.OnnxRuntime {OrtWorker.Version} (C# API, its own worker process)";

    public static WorkerClient StartOrt(string threads)
        => UseNodePeer
            ? new("ORT", [.. Pinning(threads), "node", OrtRuntime.WorkerScript, OrtRuntime.Directory])
            : new("ORT", [.. Pinning(threads), .. SelfCommand(), "ort-worker"]);

    public static WorkerClient StartMixLens(string threads)
    {
        var env = new Dictionary<string, string>();
        if (threads != "all") env["DOTNET_PROCESSOR_COUNT"] = threads;
        return new("MixLens", [.. Pinning(threads), .. SelfCommand(), "peers-worker"], env);
    }

    /// <summary>How to start this bench program again: its apphost, or dotnet + its dll.</summary>
    static string[] SelfCommand()
    {
        string host = Environment.ProcessPath!;
        return Path.GetFileNameWithoutExtension(host) == "dotnet" ? [host, Assembly.GetEntryAssembly()!.Location] : [host];
    }

    public static string NodeVersion()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("node", "--version") { RedirectStandardOutput = true })!;
            return p.StandardOutput.ReadToEnd().Trim();
        }
        catch (System.ComponentModel.Win32Exception) { return "not found"; }
    }

    /// <summary>A workload's token ids as the workers' "set" command takes them.</summary>
    public static JsonArray Texts(Workload workload)
        => new(workload.Texts.Select(t => (JsonNode)new JsonArray(t.Select(id => (JsonNode)id).ToArray())).ToArray());
}

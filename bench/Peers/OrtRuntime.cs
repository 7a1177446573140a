namespace MixLens.Bench.Peers;

/// <summary>
/// Where ONNX Runtime comes from: the npm package <c>onnxruntime-node@1.23.2</c> installed into a scratch folder
/// outside the repository (<c>MIXLENS_ORT_DIR</c>, default /tmp/mixlens-ort). Nothing is installed by the benchmark;
/// when the package is missing it says the exact command.
/// </summary>
public static class OrtRuntime
{
    public const string Version = "1.23.2";

    public static string Directory =>
        Environment.GetEnvironmentVariable("MIXLENS_ORT_DIR") is { Length: > 0 } dir ? Path.GetFullPath(dir) : "/tmp/mixlens-ort";

    public static string InstallCommand =>
        $"mkdir -p {Directory} && cd {Directory} && npm install --ignore-scripts onnxruntime-node@{Version}";

    /// <summary>True when the package is installed; otherwise prints how to install it.</summary>
    public static bool IsInstalled()
    {
        string package = Path.Combine(Directory, "node_modules", "onnxruntime-node", "package.json");
        if (File.Exists(package)) return true;
        Console.Error.WriteLine($"ONNX Runtime for Node is not installed in {Directory}. Install it (nothing goes into the repository):");
        Console.Error.WriteLine($"  {InstallCommand}");
        Console.Error.WriteLine("(set MIXLENS_ORT_DIR to use another folder; --ignore-scripts skips a download that is not needed: the CPU library is bundled)");
        return false;
    }

    /// <summary>The worker script, copied beside the bench assembly at build time.</summary>
    public static string WorkerScript => Path.Combine(AppContext.BaseDirectory, "Peers", "ort-worker.mjs");
}

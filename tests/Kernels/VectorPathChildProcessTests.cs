using System.Diagnostics;
using System.Text;
using MixLens.Kernels;
using Xunit.Abstractions;

namespace MixLens.Tests.Kernels;

/// <summary>
/// Re-runs the kernel tests in a child process with hardware intrinsics switched off by the runtime's own knobs, as
/// ImageSharp's FeatureTestRunner does. In-process, <see cref="VectorPaths.LimitForCurrentThread"/> already covers
/// every narrower path of our own kernels; the child runs catch what only a real JIT-time switch changes: the
/// <c>TensorPrimitives</c> code behind softmax and GELU-tanh, <c>Vector*.IsHardwareAccelerated</c>-dependent helpers
/// (the Sum4 fallback without SSE3), and the path detection itself. The child runs only the detected path and skips the
/// long sweeps and large shapes to stay fast.
/// </summary>
[Trait("Category", "ChildProcess")]
public class VectorPathChildProcessTests(ITestOutputHelper output)
{
    /// <summary>Set in the child's environment; the value is the widest <see cref="VectorPath"/> it may detect.</summary>
    internal const string ChildMarker = "MIXLENS_KERNELS_CHILD_MAX_PATH";

    const string ChildFilter =
        "FullyQualifiedName~MixLens.Tests.Kernels&Category!=ChildProcess&FullyQualifiedName!~LargeShapes&FullyQualifiedName!~Sweep";

    static readonly (string Environment, VectorPath MaxPath)[] Configurations =
    [
        // .NET 10 spells the AVX-512 switch DOTNET_EnableAVX512; DOTNET_EnableAVX512F is the older name (ignored by 10)
        ("DOTNET_EnableAVX512F=0;DOTNET_EnableAVX512=0", VectorPath.Vector256),
        ("DOTNET_EnableAVX2=0", VectorPath.Vector128),
        ("DOTNET_EnableHWIntrinsic=0", VectorPath.Scalar),
    ];

    /// <summary>The three child runs go concurrently (each is mostly test-host start-up).</summary>
    [Fact]
    public async Task KernelTests_WithIntrinsicsDisabled_PassInChildProcesses()
    {
        if (Environment.GetEnvironmentVariable(ChildMarker) is not null) return;   // never recurse
        var runs = await Task.WhenAll(Configurations.Select(c => Task.Run(() => RunChild(c.Environment, c.MaxPath))));
        foreach (var run in runs) output.WriteLine($"{run.Environment}: exit {run.ExitCode} after {run.Seconds:F1} s; {run.Summary}");
        var failed = runs.Where(r => r.ExitCode != 0 || !r.Log.Contains("Passed!")).ToArray();
        Assert.True(failed.Length == 0, string.Join("\n\n", failed.Select(r => $"child test run with {r.Environment} failed (exit {r.ExitCode}):\n{Tail(r.Log)}")));
    }

    static (string Environment, int ExitCode, double Seconds, string Summary, string Log) RunChild(string environment, VectorPath maxPath)
    {
        string assembly = typeof(VectorPathChildProcessTests).Assembly.Location;
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "test", assembly, "--filter", ChildFilter, "--nologo" }) start.ArgumentList.Add(arg);
        foreach (var pair in environment.Split(';'))
        {
            int eq = pair.IndexOf('=');
            start.Environment[pair[..eq]] = pair[(eq + 1)..];
        }
        start.Environment[ChildMarker] = maxPath.ToString();

        var log = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        var clock = Stopwatch.StartNew();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            lock (log) log.AppendLine("(timed out after 5 min and was killed)");
            return (environment, -1, clock.Elapsed.TotalSeconds, "timed out", log.ToString());
        }
        process.WaitForExit();   // drains the redirected output
        string text;
        lock (log) text = log.ToString();
        string summary = text.Split('\n').FirstOrDefault(l => l.Contains("Passed!") || l.Contains("Failed!"))?.Trim() ?? "no summary";
        return (environment, process.ExitCode, clock.Elapsed.TotalSeconds, summary, text);
    }

    /// <summary>Runs in the child (it is excluded from nothing there): the knob really lowered the detected path.</summary>
    [Fact]
    public void VectorPaths_InChildProcess_RespectTheDisabledIntrinsics()
    {
        if (Environment.GetEnvironmentVariable(ChildMarker) is not { } expected) return;   // parent: nothing to check
        var max = Enum.Parse<VectorPath>(expected);
        Assert.True(VectorPaths.Detected <= max, $"detected {VectorPaths.Detected} although the child allows at most {max}");
        if (max == VectorPath.Scalar) Assert.Equal(VectorPath.Scalar, VectorPaths.Detected);
    }

    static string Tail(string text) => text.Length <= 4000 ? text : "…" + text[^4000..];
}

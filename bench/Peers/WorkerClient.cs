using System.Diagnostics;
using System.Text.Json.Nodes;

namespace MixLens.Bench.Peers;

/// <summary>
/// A benchmark child process (MixLens <see cref="MixLensWorker"/> or ONNX Runtime ort-worker.mjs) spoken to with one
/// JSON command per stdin line. Replies are the stdout lines starting with <see cref="ReplyPrefix"/>; any other output
/// of the child is passed through to stderr. Stderr of the child goes straight to ours.
/// </summary>
public sealed class WorkerClient : IDisposable
{
    public const string ReplyPrefix = "@@ ";

    readonly Process _process;

    /// <summary>Which engine this is, for messages.</summary>
    public string Name { get; }

    /// <param name="name">engine name for messages.</param>
    /// <param name="command">the program and its arguments, e.g. taskset -c 1 node ort-worker.mjs DIR.</param>
    /// <param name="environment">extra environment variables.</param>
    public WorkerClient(string name, IReadOnlyList<string> command, IReadOnlyDictionary<string, string>? environment = null)
    {
        Name = name;
        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in command.Skip(1)) info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        _process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {string.Join(' ', command)}");
    }

    /// <summary>Sends a command and waits for its reply; throws when the worker answers with an error or exits.</summary>
    public JsonObject Send(JsonObject command)
    {
        _process.StandardInput.WriteLine(command.ToJsonString());
        _process.StandardInput.Flush();
        while (true)
        {
            var line = _process.StandardOutput.ReadLine()
                ?? throw new InvalidOperationException($"{Name} worker exited (code {(_process.WaitForExit(2000) ? _process.ExitCode : -1)}) during {command["op"]}");
            if (!line.StartsWith(ReplyPrefix)) { Console.Error.WriteLine($"[{Name}] {line}"); continue; }
            var reply = JsonNode.Parse(line[ReplyPrefix.Length..])!.AsObject();
            if (reply["error"] is { } error) throw new InvalidOperationException($"{Name} worker, {command["op"]}: {error}");
            return reply;
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Send(new JsonObject { ["op"] = "quit" });
                if (!_process.WaitForExit(10_000)) _process.Kill();
            }
        }
        catch (Exception e) when (e is InvalidOperationException or IOException) { }
        _process.Dispose();
    }
}

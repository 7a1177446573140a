using System.Diagnostics;
using System.Text.Json;
using MixLens.Analysis.Methods;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.SafeTensors;
using MixLens.Engine.Tracing;
using MixLens.Gpu;
using MixLens.Kernels;

namespace MixLens.Bench.Gpu;

/// <summary>
/// The GPU check that bench/gpu-check.sh runs on a machine with a GPU (and, as a dry run, here):
/// <code>
///   gpu parity --shared DIR --device cuda|sim          every carried fixture on the device, at the fixture tolerances
///   gpu time   --shared DIR --scratch DIR --device cuda|cpu|sim [--shapes b1n128,b32n128,b32n512] [--vz 128,512]
///              [--runs R] [--dump DIR] [--model DIR]    forward and Value Zeroing timings on BERT-base-shaped weights
///                                                       (written under --scratch), or on the model of --model
/// </code>
/// "sim" is ILGPU's CPU accelerator (a simulated GPU: slow, for small shapes only). Timings: median of R runs after
/// one warm-up, as Markdown table rows.
/// </summary>
public static class GpuCheckCommand
{
    public static int Run(string[] args)
    {
        if (args.Length == 0) return Usage();
        var options = ParseOptions(args[1..]);
        return args[0] switch
        {
            "parity" => Parity(options),
            "time" => Time(options),
            _ => Usage(),
        };
    }

    static int Usage()
    {
        Console.Error.WriteLine("usage: gpu parity --shared DIR --device cuda|sim | gpu time --shared DIR --scratch DIR --device cuda|cpu|sim [--shapes b1n128,...] [--vz 128,512] [--runs R] [--dump DIR]");
        return 2;
    }

    static Dictionary<string, string> ParseOptions(string[] args)
    {
        var options = new Dictionary<string, string>();
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"expected an option, got '{args[i]}'");
            options[args[i][2..]] = args[i + 1];
        }
        return options;
    }

    static EncoderBackend OpenDevice(string device) => device switch
    {
        "sim" => GpuEncoderBackend.CreateCpuSimulator(),
        "cpu" => EncoderBackend.Simd,
        "cuda" => Devices.Open(ComputeDevice.Cuda),
        _ => throw new ArgumentException($"unknown device '{device}': cuda, cpu or sim"),
    };

    static BertEncoder LoadEncoder(string dir, EncoderBackend backend)
    {
        var config = EncoderConfig.Load(Path.Combine(dir, "config.json"));
        var file = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors"));
        return new BertEncoder(config, BertWeights.Load(file, config)) { Backend = backend };
    }

    // ------------------------------------------------------------------ parity

    sealed record Tolerance(double Atol, double Rtol, double AtolOfMax);

    static int Parity(Dictionary<string, string> options)
    {
        string shared = options["shared"];
        var backend = OpenDevice(options.GetValueOrDefault("device", "cuda"));
        Console.WriteLine($"device: {backend.Device}");
        Console.WriteLine();
        Console.WriteLine("| model | cases | tensors compared | max abs diff | worst excess over tolerance | result |");
        Console.WriteLine("|---|---:|---:|---:|---:|---|");
        bool allPass = true;
        foreach (var fixtureDir in Directory.GetDirectories(Path.Combine(shared, "fixtures")).Order())
        {
            string model = Path.GetFileName(fixtureDir), modelDir = Path.Combine(shared, "models", model);
            if (!File.Exists(Path.Combine(fixtureDir, "index.json")) || !File.Exists(Path.Combine(modelDir, "model.safetensors"))) continue;
            using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(fixtureDir, "index.json")));
            var root = doc.RootElement;
            if (!root.TryGetProperty("cases", out var cases)) continue;
            var tolerances = new Dictionary<string, Tolerance>();
            foreach (var t in root.GetProperty("tolerances").EnumerateObject())
            {
                double Get(string name) => t.Value.TryGetProperty(name, out var v) ? v.GetDouble() : 0;
                tolerances[t.Name] = new Tolerance(Get("atol"), Get("rtol"), Get("atol_of_max"));
            }
            int layers = root.GetProperty("layers").GetInt32();
            var encoder = LoadEncoder(modelDir, backend);
            int caseCount = 0, compared = 0;
            double maxDiff = 0, worstExcess = double.NegativeInfinity;
            string worstWhere = "";
            foreach (var c in cases.EnumerateArray())
            {
                var ids = c.GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
                var types = c.GetProperty("token_type_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray();
                var expected = SafeTensorsFile.Open(Path.Combine(fixtureDir, c.GetProperty("file").GetString()!));
                var input = new EncoderInput(ids, types);
                var (_, trace) = encoder.Forward(input, TraceRequest.All);
                Tensor? valueZeroing = null;
                foreach (var info in expected.Tensors)
                {
                    Tensor actual;
                    if (TraceNames.TryParse(info.Name, layers, out _, out _)) actual = trace[info.Name];
                    else if (info.Name == "analysis.value_zeroing") actual = valueZeroing ??= ValueZeroing.Compute(encoder, input);
                    else continue;
                    var tol = tolerances[Group(info.Name)];
                    var (diff, excess) = Check(expected.GetFloat32(info.Name).Span, actual.Data, tol);
                    compared++;
                    maxDiff = Math.Max(maxDiff, diff);
                    if (excess > worstExcess) { worstExcess = excess; worstWhere = $"{c.GetProperty("id").GetString()} {info.Name}"; }
                }
                caseCount++;
            }
            bool pass = worstExcess <= 0;
            allPass &= pass;
            Console.WriteLine($"| {model} | {caseCount} | {compared} | {maxDiff:G3} | {worstExcess:G3} ({worstWhere}) | {(pass ? "pass" : "FAIL")} |");
        }
        (backend as IDisposable)?.Dispose();
        Console.WriteLine();
        Console.WriteLine(allPass ? "parity: every carried fixture within its tolerances" : "parity: FAILURES above");
        return allPass ? 0 : 1;
    }

    /// <summary>The fixture tolerance group of a tensor (tests/Encoder/EncoderParityTests.cs).</summary>
    static string Group(string name) => name switch
    {
        _ when name.EndsWith(".attention.probs", StringComparison.Ordinal) => "attention_probs",
        "analysis.value_zeroing" => "value_zeroing_alti",
        _ => "hidden_states",
    };

    /// <summary>Max |diff| and the largest excess of |diff| over the allowed atol + rtol·|expected| (≤ 0: within).</summary>
    static (double MaxDiff, double WorstExcess) Check(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, Tolerance tol)
    {
        if (expected.Length != actual.Length) return (double.PositiveInfinity, double.PositiveInfinity);
        double maxAbs = 0;
        foreach (var e in expected) maxAbs = Math.Max(maxAbs, Math.Abs(e));
        double maxDiff = 0, worst = double.NegativeInfinity;
        for (int k = 0; k < expected.Length; k++)
        {
            double diff = float.IsNegativeInfinity(expected[k]) && float.IsNegativeInfinity(actual[k]) ? 0
                : double.IsNaN(actual[k]) ? double.PositiveInfinity : Math.Abs((double)actual[k] - expected[k]);
            double allowed = tol.AtolOfMax > 0 ? tol.AtolOfMax * maxAbs : tol.Atol + tol.Rtol * Math.Abs(expected[k]);
            maxDiff = Math.Max(maxDiff, diff);
            worst = Math.Max(worst, diff - allowed);
        }
        return (maxDiff, worst);
    }

    // ------------------------------------------------------------------ timings

    static int Time(Dictionary<string, string> options)
    {
        string device = options.GetValueOrDefault("device", "cuda");
        if (options.TryGetValue("threads", out var threads)) Parallelism.MaxThreads = int.Parse(threads);
        int runs = int.Parse(options.GetValueOrDefault("runs", "5"));
        string dir = options.TryGetValue("model", out var model) ? model : MixLens.Bench.Peers.BertBasePeer.Ensure(options["shared"], options["scratch"]);
        var backend = OpenDevice(device);
        var encoder = LoadEncoder(dir, backend);
        string label = device == "cpu" ? $"cpu SIMD, {Environment.ProcessorCount} cores" : backend.Device;
        Console.Error.WriteLine($"// device: {backend.Device}; model: {dir}{(model is null ? " (BERT-base shape, random weights)" : "")}");

        if (options.TryGetValue("dump", out var dump))
        {
            // b1 n128 ids and last hidden state, for the PyTorch side's parity check (bench/gpu_torch.py)
            Directory.CreateDirectory(dump);
            var input = RandomBatch(1, 128, seed: 7)[0];
            var hidden = encoder.Forward(input).LastHiddenState;
            File.WriteAllBytes(Path.Combine(dump, "ids_b1_n128.i32"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(input.InputIds.AsSpan()).ToArray());
            File.WriteAllBytes(Path.Combine(dump, $"hidden_b1_n128.{device}.f32"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(hidden.Data.AsSpan()).ToArray());
        }

        if (backend is GpuEncoderBackend gpu && options.TryGetValue("gemm", out var gemm))
        {
            // the GEMM kernel alone, device-resident operands: its share of the device's float32 peak
            var mnk = gemm.Split('x').Select(int.Parse).ToArray();
            double ms = gpu.TimeGemm(mnk[0], mnk[1], mnk[2], 10);
            Console.WriteLine($"| mixlens | {label} | gemm kernel {gemm} ({2.0 * mnk[0] * mnk[1] * mnk[2] / ms / 1e9:F1} TFLOP/s) | {ms:F3} | | 10 |");
        }
        foreach (var shape in options.GetValueOrDefault("shapes", "b1n128,b32n128,b32n512").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = shape.TrimStart('b').Split('n');
            int b = int.Parse(parts[0]), n = int.Parse(parts[1]);
            var batch = RandomBatch(b, n, seed: 11);
            var ms = Measure(runs, () => encoder.Forward(batch));
            Console.WriteLine($"| mixlens | {label} | forward b{b} n{n} | {Median(ms):F2} | {Min(ms):F2} | {runs} |");
        }
        foreach (var nText in options.GetValueOrDefault("vz", "128,512").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int n = int.Parse(nText);
            var input = RandomBatch(1, n, seed: 13)[0];
            int vzRuns = device == "cpu" && n >= 512 ? 1 : Math.Min(runs, 3);
            var ms = Measure(vzRuns, () => ValueZeroing.Compute(encoder, input), warmup: device != "cpu" || n < 512);
            Console.WriteLine($"| mixlens | {label} | value zeroing n{n} ({encoder.Config.NumHiddenLayers} layers) | {Median(ms):F2} | {Min(ms):F2} | {vzRuns} |");
        }
        (backend as IDisposable)?.Dispose();
        return 0;
    }

    /// <summary>b texts of n tokens: [CLS] random ids [SEP] (seeded), all token types 0.</summary>
    static EncoderInput[] RandomBatch(int b, int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, b).Select(_ =>
        {
            var ids = new int[n];
            for (int p = 0; p < n; p++) ids[p] = rng.Next(1000, 30000);
            ids[0] = 101;
            ids[n - 1] = 102;
            return new EncoderInput(ids, new int[n]);
        }).ToArray();
    }

    static double[] Measure(int runs, Action action, bool warmup = true)
    {
        if (warmup) action();
        var ms = new double[runs];
        for (int r = 0; r < runs; r++)
        {
            var sw = Stopwatch.StartNew();
            action();
            ms[r] = sw.Elapsed.TotalMilliseconds;
        }
        return ms;
    }

    static double Median(double[] x)
    {
        var s = x.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }

    static double Min(double[] x) => x.Min();
}

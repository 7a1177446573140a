using System.Text.Json.Nodes;
using MixLens.Engine.SafeTensors;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Heads;

/// <summary>
/// A model directory made from a shared checkpoint (its config, tokenizer files and encoder weights, optionally under
/// a base-model prefix such as <c>roberta.</c>) plus task-head tensors with seeded random values: for heads no shared
/// checkpoint has. Deleted on dispose.
/// </summary>
public sealed class SyntheticCheckpoint : IDisposable
{
    /// <summary>A RobertaForSequenceClassification checkpoint on roberta-random's encoder: dense [32, 32] + tanh, then
    /// out_proj [<paramref name="labels"/>, 32], seeded random values.</summary>
    public static SyntheticCheckpoint RobertaClassifier(int labels, int seed)
    {
        var checkpoint = new SyntheticCheckpoint("roberta-random", seed);
        checkpoint.Add("classifier.dense.weight", 0.3f, 32, 32);
        checkpoint.Add("classifier.dense.bias", 0.1f, 32);
        checkpoint.Add("classifier.out_proj.weight", 0.8f, labels, 32);
        checkpoint.Add("classifier.out_proj.bias", 0.3f, labels);
        return checkpoint;
    }

    readonly Random _random;
    readonly List<TensorToWrite> _head = [];
    readonly Dictionary<string, float[]> _values = [];

    /// <summary>The model directory (written by <see cref="Write"/>).</summary>
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("mixlens-synthetic-head-").FullName;

    public string BaseModel { get; }

    public SyntheticCheckpoint(string baseModel, int seed)
    {
        BaseModel = baseModel;
        _random = new Random(seed);
    }

    /// <summary>Adds a head tensor of uniform values in [-scale, scale] (or around 1 for a LayerNorm weight).</summary>
    public float[] Add(string name, float scale, params long[] shape)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        bool gamma = name.EndsWith("LayerNorm.weight", StringComparison.Ordinal) || name.EndsWith("layer_norm.weight", StringComparison.Ordinal);
        var data = new float[count];
        for (long k = 0; k < count; k++) data[k] = (gamma ? 1f : 0f) + scale * (float)(2 * _random.NextDouble() - 1);
        _head.Add(TensorToWrite.Float32(name, data, shape));
        _values[name] = data;
        return data;
    }

    /// <summary>Base-model tensors (by their name in the base checkpoint) to leave out, e.g. its own head.</summary>
    public Func<string, bool> Exclude { get; set; } = _ => false;

    /// <summary>Extra files (e.g. a tokenizer.json) copied into the directory by <see cref="Write"/>, over the base
    /// model's files of the same name.</summary>
    public List<string> ExtraFiles { get; } = [];

    /// <summary>The values written for a head tensor.</summary>
    public float[] this[string name] => _values[name];

    /// <summary>
    /// Writes config.json (the base model's, edited by <paramref name="editConfig"/>), the tokenizer files, and
    /// model.safetensors: the encoder tensors with <paramref name="prefix"/> prepended, then the head tensors.
    /// </summary>
    public string Write(string prefix = "", Action<JsonObject>? editConfig = null)
    {
        string source = SharedData.Models(BaseModel);
        foreach (var file in System.IO.Directory.GetFiles(source))
        {
            string name = Path.GetFileName(file);
            if (name is "model.safetensors" or "config.json") continue;
            File.Copy(file, Path.Combine(Directory, name));
        }
        foreach (var file in ExtraFiles) File.Copy(file, Path.Combine(Directory, Path.GetFileName(file)), overwrite: true);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(source, "config.json")))!.AsObject();
        editConfig?.Invoke(config);
        File.WriteAllText(Path.Combine(Directory, "config.json"), config.ToJsonString());

        using var encoder = SafeTensorsFile.Open(Path.Combine(source, "model.safetensors"));
        var tensors = new List<TensorToWrite>();
        foreach (var info in encoder.Tensors)
        {
            if (info.DType == DType.I64 || Exclude(info.Name)) continue;
            tensors.Add(TensorToWrite.Float32(prefix + info.Name, encoder.GetFloat32(info.Name).ToArray(), info.Shape));
        }
        tensors.AddRange(_head);
        SafeTensorsWriter.Write(Path.Combine(Directory, "model.safetensors"), tensors);
        return Directory;
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Float64 reference math for the head tests, written out plainly (independent of the engine's kernels).</summary>
public static class ReferenceMath
{
    /// <summary>y = W x + b for W [out, in] row-major.</summary>
    public static double[] Linear(ReadOnlySpan<float> w, ReadOnlySpan<float> b, double[] x)
    {
        int outF = b.Length, inF = x.Length;
        var y = new double[outF];
        for (int o = 0; o < outF; o++)
        {
            double sum = b[o];
            for (int i = 0; i < inF; i++) sum += (double)w[o * inF + i] * x[i];
            y[o] = sum;
        }
        return y;
    }

    /// <summary>(x − mean) / sqrt(var + eps) · γ + β, biased variance (torch.nn.LayerNorm).</summary>
    public static double[] LayerNorm(double[] x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, double eps)
    {
        double mean = x.Average();
        double variance = x.Select(v => (v - mean) * (v - mean)).Average();
        double rstd = 1 / Math.Sqrt(variance + eps);
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = (x[i] - mean) * rstd * gamma[i] + beta[i];
        return y;
    }

    /// <summary>Exact GELU, x·½(1 + erf(x/√2)).</summary>
    public static double Gelu(double x) => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)));

    /// <summary>erf by its Maclaurin series (|x| ≤ 3) or continued fraction of erfc (|x| &gt; 3); error below 1e-12.</summary>
    public static double Erf(double x)
    {
        double a = Math.Abs(x);
        double result;
        if (a <= 3)
        {
            // erf(x) = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
            double term = a, sum = a;
            for (int n = 1; n < 200 && Math.Abs(term) > 1e-17; n++)
            {
                term *= -a * a / n;
                sum += term / (2 * n + 1);
            }
            result = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // erfc(x) = exp(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …))))
            double f = a;
            for (int n = 60; n >= 1; n--) f = a + n / 2.0 / f;
            result = 1 - Math.Exp(-a * a) / Math.Sqrt(Math.PI) / f;
        }
        return x < 0 ? -result : result;
    }

    public static double[] ToDouble(ReadOnlySpan<float> x)
    {
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = x[i];
        return y;
    }
}

using System.Numerics.Tensors;
using System.Text.Json;
using MixLens.Engine.Model;

namespace MixLens.Engine.Heads;

/// <summary>How token vectors become one sentence vector (sentence-transformers <c>Pooling</c> module).</summary>
public enum PoolingMode
{
    /// <summary>Mean of the last hidden states over the real (unmasked) tokens.</summary>
    Mean,
    /// <summary>The [CLS] (first) token's last hidden state.</summary>
    Cls,
    /// <summary>Element-wise max over the real tokens.</summary>
    Max,
    /// <summary>Sum over the real tokens divided by √n.</summary>
    MeanSqrtLength,
}

/// <summary>
/// Sentence-embedding pooling as configured by a sentence-transformers model directory (<c>modules.json</c>,
/// <c>&lt;pooling path&gt;/config.json</c>, and an optional <c>Normalize</c> module for L2 normalisation)
/// (Reimers &amp; Gurevych 2019, §3).
/// </summary>
public sealed record SentencePooling(PoolingMode Mode, bool Normalize)
{
    /// <summary>Reads the pooling set-up of <paramref name="modelDir"/>, or null when it has no <c>modules.json</c>.</summary>
    /// <exception cref="ModelFormatException">modules.json or the pooling config is malformed or asks for an unsupported mode.</exception>
    public static SentencePooling? Load(string modelDir)
    {
        string modulesPath = Path.Combine(modelDir, "modules.json");
        if (!File.Exists(modulesPath)) return null;
        try
        {
            using var modules = StrictJson.ParseFile(modulesPath);
            if (modules.RootElement.ValueKind != JsonValueKind.Array)
                throw new ModelFormatException($"{modulesPath}: expected a JSON array of modules");
            string? poolingDir = null;
            bool normalize = false;
            foreach (var module in modules.RootElement.EnumerateArray())
            {
                if (module.ValueKind != JsonValueKind.Object)
                    throw new ModelFormatException($"{modulesPath}: a module is {module.ValueKind}, not an object with \"type\" and \"path\"");
                string type = OptionalString(module, "type", modulesPath) ?? "";
                if (type.EndsWith(".Pooling", StringComparison.Ordinal))
                    poolingDir = InsideModelDir(modelDir, OptionalString(module, "path", modulesPath) ?? "", modulesPath);
                else if (type.EndsWith(".Normalize", StringComparison.Ordinal))
                    normalize = true;
            }
            if (poolingDir is null) return null;
            string configPath = Path.Combine(poolingDir, "config.json");
            if (!File.Exists(configPath))
                throw new ModelFormatException($"{configPath}: pooling config not found (listed in {modulesPath})");
            using var config = StrictJson.ParseFile(configPath);
            var root = config.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new ModelFormatException($"{configPath}: expected a JSON object of pooling flags, found {root.ValueKind}");
            bool Flag(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
            var modes = new List<PoolingMode>();
            if (Flag("pooling_mode_cls_token")) modes.Add(PoolingMode.Cls);
            if (Flag("pooling_mode_mean_tokens")) modes.Add(PoolingMode.Mean);
            if (Flag("pooling_mode_max_tokens")) modes.Add(PoolingMode.Max);
            if (Flag("pooling_mode_mean_sqrt_len_tokens")) modes.Add(PoolingMode.MeanSqrtLength);
            if (modes.Count != 1)
                throw new ModelFormatException(
                    $"{configPath}: expected exactly one pooling mode (cls, mean, max or mean_sqrt_len), found {(modes.Count == 0 ? "none" : string.Join(" + ", modes))}");
            return new SentencePooling(modes[0], normalize);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{modelDir}: invalid JSON in the sentence-transformers files ({e.Message})", e);
        }
    }

    /// <summary>
    /// The folder a module's <c>path</c> names, which must lie inside the model folder: a downloaded model must not make
    /// MixLens read files elsewhere (an absolute path, or one climbing out with "..").
    /// </summary>
    static string InsideModelDir(string modelDir, string relative, string modulesPath)
    {
        string root = Path.GetFullPath(modelDir);
        string full = Path.GetFullPath(Path.Combine(root, relative));
        string rootWithSeparator = Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar;
        if (Path.IsPathRooted(relative) || !(full == root || full.StartsWith(rootWithSeparator, StringComparison.Ordinal)))
            throw new ModelFormatException($"{modulesPath}: the Pooling module's path \"{relative}\" leads outside the model folder");
        return full;
    }

    /// <summary>Pools a last hidden state [n, d] into a sentence embedding [d].</summary>
    /// <param name="attentionMask">[n], 1 = real token (null: all real).</param>
    public float[] Pool(Tensor lastHiddenState, int[]? attentionMask = null)
    {
        int n = lastHiddenState.Shape[0], d = lastHiddenState.Shape[1];
        var e = new float[d];
        int real = 0;
        if (Mode == PoolingMode.Cls)
        {
            lastHiddenState.Row(0).CopyTo(e);
        }
        else
        {
            if (Mode == PoolingMode.Max) Array.Fill(e, float.NegativeInfinity);
            var sum = new double[d];
            for (int i = 0; i < n; i++)
            {
                if (attentionMask != null && attentionMask[i] == 0) continue;
                real++;
                var row = lastHiddenState.Row(i);
                if (Mode == PoolingMode.Max) TensorPrimitives.Max(e, row, e);
                else for (int k = 0; k < d; k++) sum[k] += row[k];
            }
            if (real == 0) throw new EncoderInputException("cannot pool a text with no real tokens");
            double divisor = Mode == PoolingMode.Mean ? real : Math.Sqrt(real);
            if (Mode != PoolingMode.Max)
                for (int k = 0; k < d; k++) e[k] = (float)(sum[k] / divisor);
        }
        if (Normalize)
        {
            // e / max(‖e‖₂, 1e-12), as torch.nn.functional.normalize
            float norm = MathF.Max(TensorPrimitives.Norm(e), 1e-12f);
            TensorPrimitives.Divide(e, norm, e);
        }
        return e;
    }

    /// <summary>A string member of a modules.json entry, or null when absent or null.</summary>
    /// <exception cref="ModelFormatException">the member is not a string.</exception>
    static string? OptionalString(JsonElement module, string name, string path) =>
        !module.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw new ModelFormatException($"{path}: a module's \"{name}\" is {value.ValueKind}, not a string");
}

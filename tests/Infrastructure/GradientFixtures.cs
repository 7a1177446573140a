using System.Collections.Concurrent;
using System.Text.Json;
using MixLens.Engine;
using MixLens.Engine.SafeTensors;

namespace MixLens.Tests.Infrastructure;

/// <summary>One case of a gradient fixture <c>index.json</c> (../shared/README.md, "Gradient fixtures").</summary>
public sealed record GradientCase(string Id, int[] InputIds, int[] TokenTypeIds, string File, int? Target, bool HasHta,
    double? IgSum, double? IgGap);

/// <summary>A model's gradient fixture folder <c>fixtures/gradients/&lt;model&gt;</c>: tolerances, special token ids, cases.</summary>
public sealed class GradientFixtures
{
    public required string Model { get; init; }
    public required bool HasClassifier { get; init; }
    public required int PadTokenId { get; init; }
    public required IReadOnlySet<int> SpecialTokenIds { get; init; }
    public required IReadOnlyDictionary<string, Tolerance> Tolerances { get; init; }
    public required IReadOnlyList<GradientCase> Cases { get; init; }

    /// <summary>Every model with gradient fixtures.</summary>
    public static readonly string[] Models =
        ["minilm-l6-sst2", "all-MiniLM-L6-v2", "roberta-random", "distilbert-random", "electra-random", "random-bert-tiniest"];

    static readonly ConcurrentDictionary<string, GradientFixtures> Cache = new();
    static readonly ConcurrentDictionary<string, Lazy<EncoderModel>> ModelsLoaded = new();
    static readonly ConcurrentDictionary<string, SafeTensorsFile> Files = new();

    public static GradientFixtures Load(string model) => Cache.GetOrAdd(model, m =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(SharedData.Fixtures("gradients", m, "index.json")));
        var root = doc.RootElement;
        var tolerances = new Dictionary<string, Tolerance>();
        foreach (var t in root.GetProperty("tolerances").EnumerateObject())
        {
            double Get(string name) => t.Value.TryGetProperty(name, out var v) ? v.GetDouble() : 0;
            tolerances[t.Name] = new Tolerance(Get("atol"), Get("rtol"), Get("atol_of_max"));
        }
        static double? Number(JsonElement c, string name) =>
            c.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
        var cases = root.GetProperty("cases").EnumerateArray().Select(c => new GradientCase(
            c.GetProperty("id").GetString()!,
            c.GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
            c.GetProperty("token_type_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
            c.GetProperty("file").GetString()!,
            Number(c, "target") is double t ? (int)t : null,
            c.TryGetProperty("has_hta", out var h) && h.GetBoolean(),
            Number(c, "ig_sum"), Number(c, "ig_gap"))).ToArray();
        return new GradientFixtures
        {
            Model = m,
            HasClassifier = root.GetProperty("has_classifier").GetBoolean(),
            PadTokenId = root.GetProperty("pad_token_id").GetInt32(),
            SpecialTokenIds = root.GetProperty("special_token_ids").EnumerateArray().Select(x => x.GetInt32()).ToHashSet(),
            Tolerances = tolerances,
            Cases = cases,
        };
    });

    public GradientCase Case(string id) => Cases.Single(c => c.Id == id);

    /// <summary>The case's expected tensors (memory-mapped, shared per process).</summary>
    public SafeTensorsFile Open(GradientCase c) => Files.GetOrAdd(SharedData.Fixtures("gradients", Model, c.File), SafeTensorsFile.Open);

    /// <summary>Per token, whether it is one of the tokenizer's special tokens.</summary>
    public bool[] SpecialMask(GradientCase c) => c.InputIds.Select(SpecialTokenIds.Contains).ToArray();

    /// <summary>The model with its heads, loaded once per test process.</summary>
    public static EncoderModel EncoderModel(string model) =>
        ModelsLoaded.GetOrAdd(model, m => new Lazy<EncoderModel>(() => Engine.EncoderModel.Load(SharedData.Models(m)))).Value;
}

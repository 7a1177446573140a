using System.Collections.Concurrent;
using System.Text.Json;
using MixLens.Engine.Model;
using MixLens.Engine.SafeTensors;

namespace MixLens.Tests.Infrastructure;

/// <summary>A tolerance of one fixture group: |actual − expected| ≤ atol + rtol·|expected|, or ≤ atolOfMax·max|expected|.</summary>
public sealed record Tolerance(double Atol, double Rtol, double AtolOfMax = 0);

/// <summary>One case of a fixture <c>index.json</c>.</summary>
public sealed record FixtureCase(
    string Model, string Id, string Text, string? TextPair, int? Truncation, string Store, int NTokens,
    int[] InputIds, int[] TokenTypeIds, string[] Tokens, int[][] OffsetsUtf16, string File, bool HasFlow);

/// <summary>A model's fixture folder: tolerances and cases (see ../shared/README.md, "Encoder fixtures").</summary>
public sealed class ModelFixtures
{
    public required string Model { get; init; }
    public required int Layers { get; init; }
    public required int Heads { get; init; }
    public required int Hidden { get; init; }
    public required IReadOnlyDictionary<string, Tolerance> Tolerances { get; init; }
    public required IReadOnlyList<FixtureCase> Cases { get; init; }
    public JsonElement? SentencePooling { get; init; }

    /// <summary>Every model with encoder fixtures, of every family: BERT (the first five), RoBERTa, DistilBERT, ELECTRA.</summary>
    public static readonly string[] EncoderFixtureModels =
    [
        "all-MiniLM-L6-v2", "minilm-l6-sst2", "random-bert-tiniest", "bert-mlm-random", "bert-tokcls-random",
        "roberta-random", "distilbert-random", "electra-random",
    ];

    static readonly ConcurrentDictionary<string, ModelFixtures> Cache = new();
    static readonly ConcurrentDictionary<string, Lazy<BertEncoder>> Encoders = new();

    public static ModelFixtures Load(string model) => Cache.GetOrAdd(model, m =>
    {
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(SharedData.Fixtures(m, "index.json")));
        var root = doc.RootElement;
        var tolerances = new Dictionary<string, Tolerance>();
        foreach (var t in root.GetProperty("tolerances").EnumerateObject())
        {
            double Get(string name) => t.Value.TryGetProperty(name, out var v) ? v.GetDouble() : 0;
            tolerances[t.Name] = new Tolerance(Get("atol"), Get("rtol"), Get("atol_of_max"));
        }
        var cases = root.GetProperty("cases").EnumerateArray().Select(c => new FixtureCase(
            m,
            c.GetProperty("id").GetString()!,
            c.GetProperty("text").GetString()!,
            c.GetProperty("text_pair").ValueKind == JsonValueKind.Null ? null : c.GetProperty("text_pair").GetString(),
            c.GetProperty("truncation").ValueKind == JsonValueKind.Null ? null : c.GetProperty("truncation").GetInt32(),
            c.GetProperty("store").GetString()!,
            c.GetProperty("n_tokens").GetInt32(),
            c.GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
            c.GetProperty("token_type_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
            c.GetProperty("tokens").EnumerateArray().Select(x => x.GetString()!).ToArray(),
            c.GetProperty("offsets_utf16").EnumerateArray().Select(x => x.EnumerateArray().Select(y => y.GetInt32()).ToArray()).ToArray(),
            c.GetProperty("file").GetString()!,
            c.GetProperty("has_flow").GetBoolean())).ToArray();
        return new ModelFixtures
        {
            Model = m,
            Layers = root.GetProperty("layers").GetInt32(),
            Heads = root.GetProperty("heads").GetInt32(),
            Hidden = root.GetProperty("hidden").GetInt32(),
            Tolerances = tolerances,
            Cases = cases,
            SentencePooling = root.GetProperty("sentence_pooling").ValueKind == JsonValueKind.Null ? null : root.GetProperty("sentence_pooling").Clone(),
        };
    });

    /// <summary>Every (model, case id) of the encoder fixtures, for xunit theories.</summary>
    public static IEnumerable<object[]> AllEncoderCases() =>
        EncoderFixtureModels.SelectMany(m => Load(m).Cases.Select(c => new object[] { m, c.Id }));

    public FixtureCase Case(string id) => Cases.Single(c => c.Id == id);

    /// <summary>The fixture tensors of a case (memory-mapped; shared per process).</summary>
    public SafeTensorsFile Open(FixtureCase c) => FixtureFiles.GetOrAdd(SharedData.Fixtures(Model, c.File), SafeTensorsFile.Open);
    static readonly ConcurrentDictionary<string, SafeTensorsFile> FixtureFiles = new();

    /// <summary>The model's encoder, loaded once per test process (no tokenizer needed: fixtures carry the ids).</summary>
    public static BertEncoder Encoder(string model) => Encoders.GetOrAdd(model, m => new Lazy<BertEncoder>(() =>
    {
        string dir = SharedData.Models(m);
        var config = EncoderConfig.Load(Path.Combine(dir, "config.json"));
        var file = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors"));
        return new BertEncoder(config, BertWeights.Load(file, config));
    })).Value;
}

using System.Text.Json;
using MixLens.Analysis;
using MixLens.Analysis.Methods;
using MixLens.Engine.Model;
using MixLens.Engine.SafeTensors;
using MixLens.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MixLens.Tests.Analysis;

/// <summary>
/// N-ResLN (<see cref="AttentionNormResLn"/>, Kobayashi et al. 2021) against <c>analysis.attention_norm_res_ln</c>
/// [L, n, n] of the gradient fixtures (../shared/README.md, "Gradient fixtures"), on every case of every model that
/// holds it, and on the small hand-worked layer of <see cref="VectorNormMethodsTests"/>.
/// </summary>
public class AttentionNormResLnTests(ITestOutputHelper output)
{
    const string Tensor = "analysis.attention_norm_res_ln";

    /// <summary>One case of a gradient fixture <c>index.json</c> (the fields this test reads).</summary>
    public sealed record GradientCase(string Model, string Id, string Text, string? TextPair, int[] InputIds, int[] TokenTypeIds,
        string[] Tokens, string File);

    /// <summary>A gradient fixture folder: its layer count, the <c>norm_matrices</c> tolerance and its cases.</summary>
    public sealed record GradientFixtures(string Model, int Layers, Tolerance NormMatrices, IReadOnlyList<GradientCase> Cases)
    {
        public static GradientFixtures Load(string model)
        {
            using var doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(SharedData.Fixtures("gradients", model, "index.json")));
            var root = doc.RootElement;
            var norm = root.GetProperty("tolerances").GetProperty("norm_matrices");
            double Get(string name) => norm.TryGetProperty(name, out var v) ? v.GetDouble() : 0;
            var cases = root.GetProperty("cases").EnumerateArray().Select(c => new GradientCase(
                model,
                c.GetProperty("id").GetString()!,
                c.GetProperty("text").GetString()!,
                c.GetProperty("text_pair").ValueKind == JsonValueKind.Null ? null : c.GetProperty("text_pair").GetString(),
                c.GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
                c.GetProperty("token_type_ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
                c.GetProperty("tokens").EnumerateArray().Select(x => x.GetString()!).ToArray(),
                c.GetProperty("file").GetString()!)).ToArray();
            return new GradientFixtures(model, root.GetProperty("layers").GetInt32(), new Tolerance(Get("atol"), Get("rtol"), Get("atol_of_max")), cases);
        }

        public SafeTensorsFile Open(GradientCase c) => SafeTensorsFile.Open(SharedData.Fixtures("gradients", Model, c.File));
    }

    /// <summary>Every gradient fixture folder (models/ holds each of them).</summary>
    static string[] GradientModels() =>
        Directory.GetDirectories(SharedData.Fixtures("gradients")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    /// <summary>(model, case id) of every gradient fixture case whose file holds <c>analysis.attention_norm_res_ln</c>.</summary>
    public static IEnumerable<object[]> CasesWithNResLn() => GradientModels().SelectMany(m =>
    {
        var fixtures = GradientFixtures.Load(m);
        return fixtures.Cases.Where(c =>
        {
            using var file = fixtures.Open(c);
            return file.Contains(Tensor);
        }).Select(c => new object[] { m, c.Id });
    });

    [Theory]
    [MemberData(nameof(CasesWithNResLn))]
    public void AttentionNormResLn_GradientFixtureCase_MatchesReference(string model, string caseId)
    {
        var fixtures = GradientFixtures.Load(model);
        var c = fixtures.Cases.Single(x => x.Id == caseId);
        using var expected = fixtures.Open(c);
        Assert.Equal(c.InputIds, expected.GetInt64("input_ids").Select(x => (int)x).ToArray());
        Assert.Equal(c.TokenTypeIds, expected.GetInt64("token_type_ids").Select(x => (int)x).ToArray());

        var encoder = ModelFixtures.Encoder(model);
        var actual = MixingMethods.Compute(MixingMethod.AttentionNormResLn, encoder, new EncoderInput(c.InputIds, c.TokenTypeIds));
        int n = c.InputIds.Length;
        Assert.Equal(new[] { fixtures.Layers, n, n }, actual.Shape);

        var reference = expected.GetFloat32(Tensor).Span;
        double maxExpected = 0;
        foreach (var v in reference) maxExpected = Math.Max(maxExpected, Math.Abs(v));
        double maxDiff = Compare.MaxAbsDiff(reference, actual.Data);
        output.WriteLine($"{model}/{caseId} {Tensor} (n = {n}): max |diff| {maxDiff:G3}, max |expected| {maxExpected:G4}, ratio {maxDiff / maxExpected:G3}");
        Assert.True(fixtures.NormMatrices.AtolOfMax > 0, $"{model}: index.json gives no norm_matrices atol_of_max");
        Compare.AllClose($"{model}/{caseId} {Tensor}", reference, actual.Data, actual.Shape, fixtures.NormMatrices);
    }

    /// <summary>The fixtures hold N-ResLN on all six models that docs/cli.md lists under `analyze` (guards against an empty theory).</summary>
    [Fact]
    public void GradientFixtures_EveryModel_HasNResLnCases()
    {
        var models = CasesWithNResLn().Select(x => (string)x[0]).Distinct().ToArray();
        foreach (var model in (string[])["all-MiniLM-L6-v2", "distilbert-random", "electra-random", "minilm-l6-sst2", "random-bert-tiniest", "roberta-random"])
            Assert.Contains(model, models);
    }

    /// <summary>
    /// The hand-worked layer (x_1 ⊥ x_2, uniform attention, W_V = W_O = I) with γ_1 = 2: residual_1 = 1.5 x_1 + 0.5 x_2,
    /// σ_1 = √2.5; z_{1←1} = 1.5 x_1 → ‖2 · 1.5 x_1‖ / σ = 6/√2.5, z_{1←2} = 0.5 x_2 → ‖2 · 0.5 x_2‖ / σ = 2/√2.5; token 2
    /// by symmetry. (GlobEnc divides these by σ_2 = 2 as well: LayerNorm 2's input is the LayerNorm-1 output.)
    /// </summary>
    [Fact]
    public void AttentionNormResLn_UniformAttentionIdentityMaps_MatchesHandWorkedNorms()
    {
        var (encoder, input) = VectorNormMethodsTests.HandWorkedLayer(gamma1: 2);
        var result = AttentionNormResLn.Compute(encoder, input);
        Assert.Equal(new[] { 1, 2, 2 }, result.Shape);
        double self = 6 / Math.Sqrt(2.5), other = 2 / Math.Sqrt(2.5);
        double[] expected = [self, other, other, self];
        for (int e = 0; e < 4; e++) Assert.Equal(expected[e], result.Data[e], 1e-5);

        var globEnc = GlobEnc.Compute(encoder, input);
        for (int e = 0; e < 4; e++) Assert.Equal(expected[e] / 2, globEnc.Data[e], 1e-5);
    }

    [Fact]
    public void MixingMethods_AttentionNormResLn_NameAndRequirements()
    {
        Assert.True(MixingMethods.TryParse("attention-norm-res-ln", out var method));
        Assert.Equal(MixingMethod.AttentionNormResLn, method);
        Assert.Equal("attention-norm-res-ln", MixingMethods.NameOf(method));
        Assert.Equal("attention-norm-res-ln", MixingMethods.Names[^1]);
        Assert.Same(AttentionNormResLn.Requirements, MixingMethods.Requirements(method));
    }
}

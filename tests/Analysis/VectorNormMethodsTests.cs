using MixLens.Analysis.Methods;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Tests.Encoder;
using MixLens.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MixLens.Tests.Analysis;

/// <summary>
/// The vector-norm context-mixing methods (<see cref="AttentionNorm"/>, <see cref="Alti"/>, <see cref="GlobEnc"/>)
/// against the fixtures' <c>analysis.*</c> tensors [L, n, n], and on small hand-worked layers.
/// </summary>
public class VectorNormMethodsTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> CasesWithAnalyses() => ModelFixtures.EncoderFixtureModels.SelectMany(m =>
        ModelFixtures.Load(m).Cases.Where(c => c.Store != "final").Select(c => new object[] { m, c.Id }));

    [Theory]
    [MemberData(nameof(CasesWithAnalyses))]
    public void AttentionNorm_FixtureCase_MatchesReference(string model, string caseId) =>
        Check(model, caseId, AttentionNorm.Requirements, ("analysis.attention_norm", (e, i, t) => AttentionNorm.Compute(e, i, t)));

    [Theory]
    [MemberData(nameof(CasesWithAnalyses))]
    public void Alti_FixtureCase_MatchesReference(string model, string caseId) =>
        Check(model, caseId, Alti.Requirements,
            ("analysis.alti", (e, i, t) => Alti.Compute(e, i, t)),
            ("analysis.alti_rollout", (e, i, t) => Rollout.Compute(Alti.Compute(e, i, t), addIdentity: false)));

    [Theory]
    [MemberData(nameof(CasesWithAnalyses))]
    public void GlobEnc_FixtureCase_MatchesReference(string model, string caseId) =>
        Check(model, caseId, GlobEnc.Requirements,
            ("analysis.globenc", (e, i, t) => GlobEnc.Compute(e, i, t)),
            ("analysis.globenc_rollout", (e, i, t) => Rollout.Compute(GlobEnc.Compute(e, i, t), addIdentity: false)));

    // ---- a hand-worked layer -----------------------------------------------------------------------------------
    //
    // One layer, d = 4, H = 2 (d_head = 2), two tokens with embeddings (already LayerNorm-ed: mean 0, variance 1)
    //   x_1 = [1, −1, 1, −1],   x_2 = [1, 1, −1, −1]        ‖x_j‖₂ = 2, ‖x_j‖₁ = 4, x_1 ⊥ x_2
    // W_Q = W_K = 0 (uniform attention α^h_{i,j} = ½), W_V = W_O = I, all biases 0, γ = 1, β = 0, FFN weights 0.
    //   attention output = ½(x_1 + x_2);  residual_1 = 1.5 x_1 + 0.5 x_2 = [2, −1, 1, −2], var 2.5, σ_1 = √2.5
    //   y_1 = residual_1 / σ_1;  FFN output 0, so ffn.residual_1 = y_1 (variance 1, σ_2 = 1).   Token 2 by symmetry.

    static readonly float[] X1 = [1, -1, 1, -1], X2 = [1, 1, -1, -1];

    /// <summary>‖Σ_h ½ f^h(x_j)‖ = ‖½ x_j‖ = 1 for every pair.</summary>
    [Fact]
    public void AttentionNorm_UniformAttentionIdentityMaps_IsHalfTheInputNorm()
    {
        var (encoder, input) = HandWorkedLayer();
        var result = AttentionNorm.Compute(encoder, input);
        Assert.Equal(new[] { 1, 2, 2 }, result.Shape);
        foreach (var v in result.Data) Assert.Equal(1.0, v, 1e-6);
    }

    /// <summary>
    /// T_1(x_1) = 1.5 x_1 / σ: d_11 = ‖0.5 x_2‖₁/σ = 2/σ, ‖y_1‖₁ = 6/σ, c_11 = 4/σ;
    /// T_1(x_2) = 0.5 x_2 / σ: d_12 = ‖1.5 x_1‖₁/σ = 6/σ, c_12 = max(0, 0) = 0. Normalised: C = I, rollout = I.
    /// </summary>
    [Fact]
    public void Alti_UniformAttentionIdentityMaps_KeepsOnlyTheResidualToken()
    {
        var (encoder, input) = HandWorkedLayer();
        var result = Alti.Compute(encoder, input);
        Assert.Equal(new[] { 1, 2, 2 }, result.Shape);
        float[] expected = [1, 0, 0, 1];
        for (int e = 0; e < 4; e++) Assert.Equal(expected[e], result.Data[e], 1e-5);
        Assert.Equal(result.Data, Rollout.Compute(result, addIdentity: false).Data);
    }

    /// <summary>N[1,1] = ‖1.5 x_1‖/(σ_1 σ_2) = 3/√2.5, N[1,2] = ‖0.5 x_2‖/(σ_1 σ_2) = 1/√2.5; token 2 likewise.</summary>
    [Fact]
    public void GlobEnc_UniformAttentionIdentityMaps_MatchesHandWorkedNorms()
    {
        var (encoder, input) = HandWorkedLayer();
        var result = GlobEnc.Compute(encoder, input);
        Assert.Equal(new[] { 1, 2, 2 }, result.Shape);
        double self = 3 / Math.Sqrt(2.5), other = 1 / Math.Sqrt(2.5);
        double[] expected = [self, other, other, self];
        for (int e = 0; e < 4; e++) Assert.Equal(expected[e], result.Data[e], 1e-5);
    }

    /// <summary>ALTI rows are distributions: c_ij ≥ 0 and Σ_j C[i, j] = 1 in every layer (all-MiniLM-L6-v2, 87 tokens).</summary>
    [Fact]
    public void Alti_RealModel_RowsAreDistributions()
    {
        const string model = "all-MiniLM-L6-v2";
        var c = ModelFixtures.Load(model).Case("paragraph");
        var result = Alti.Compute(ModelFixtures.Encoder(model), new EncoderInput(c.InputIds, c.TokenTypeIds));
        int n = c.NTokens;
        for (int r = 0; r < result.Length / n; r++)
        {
            var row = result.Data.AsSpan(r * n, n);
            double sum = 0;
            foreach (var v in row) { Assert.True(v >= 0); sum += v; }
            Assert.Equal(1.0, sum, 1e-5);
        }
    }

    /// <summary>The hand-worked layer above; <paramref name="gamma1"/> fills LayerNorm 1's γ (1 above).</summary>
    internal static (BertEncoder Encoder, EncoderInput Input) HandWorkedLayer(float gamma1 = 1)
    {
        const int d = 4, f = 4;
        var config = new EncoderConfig
        {
            VocabSize = 2, HiddenSize = d, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = f,
            MaxPositionEmbeddings = 2, TypeVocabSize = 1,
        };
        float[] identity = new float[d * d];
        for (int k = 0; k < d; k++) identity[k * d + k] = 1;
        float[] ones = [1, 1, 1, 1];
        var zeros = new float[d];
        var layer = new LayerWeights(
            new float[d * d], zeros, new float[d * d], zeros,          // W_Q, b_Q, W_K, b_K = 0
            identity, zeros, identity, zeros,                          // W_V = W_O = I
            Enumerable.Repeat(gamma1, d).ToArray(), zeros,             // LayerNorm 1
            new float[f * d], new float[f], new float[d * f], zeros,   // FFN = 0
            ones, zeros);                                              // LayerNorm 2
        var weights = new BertWeights
        {
            Embeddings = new EmbeddingWeights(X1.Concat(X2).ToArray(), new float[2 * d], new float[d], ones, zeros),
            Layers = [layer],
            Prefix = "",
        };
        return (new BertEncoder(config, weights), new EncoderInput([0, 1], [0, 0]));
    }

    // ---- fixtures -------------------------------------------------------------------------------------------------

    delegate Tensor Method(BertEncoder encoder, EncoderInput input, Trace trace);

    void Check(string model, string caseId, TraceRequest requirements, params (string Name, Method Compute)[] methods)
    {
        var fixtures = ModelFixtures.Load(model);
        var c = fixtures.Case(caseId);
        var expected = fixtures.Open(c);
        var encoder = ModelFixtures.Encoder(model);
        var input = new EncoderInput(c.InputIds, c.TokenTypeIds);
        var trace = encoder.Forward(input, requirements).Trace;
        foreach (var (name, compute) in methods)
        {
            var actual = compute(encoder, input, trace);
            Assert.Equal(new[] { fixtures.Layers, c.NTokens, c.NTokens }, actual.Shape);
            var reference = expected.GetFloat32(name).Span;
            double maxExpected = 0;
            foreach (var v in reference) maxExpected = Math.Max(maxExpected, Math.Abs(v));
            output.WriteLine($"{model}/{caseId} {name}: max |diff| {Compare.MaxAbsDiff(reference, actual.Data):G3}, max |expected| {maxExpected:G3}");
            Compare.AllClose($"{model}/{caseId} {name}", reference, actual.Data, actual.Shape,
                EncoderParityTests.ToleranceFor(fixtures, name));
        }
    }
}

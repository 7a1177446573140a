using MixLens.Engine;
using MixLens.Engine.Gradients;
using MixLens.Engine.Interventions;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MixLens.Tests.Gradients;

/// <summary>
/// The float32 backward of <see cref="EncoderGradients"/> against central finite differences (h = 1e-5) of the float64
/// reference <see cref="Float64Encoder"/>, for ℓ = Σ R ⊙ X^L with a fixed random R [n, d]: ∂ℓ/∂x (word-embedding rows
/// [n, E]), ∂ℓ/∂e⁰ (embeddings.output [n, d]) and ∂ℓ/∂A_h^l of every layer (the probabilities perturbed as independent
/// inputs, the layers above recomputed), on every family. The reference itself is first checked against the encoder
/// fixtures. Tolerance: |backward − FD| ≤ 1e-4 · max|backward| per tensor.
/// </summary>
public class EncoderFiniteDifferenceTests(ITestOutputHelper output)
{
    const double RelativeTolerance = 1e-4;

    static readonly string[] TinyModelNames = ["random-bert-tiniest", "bert-mlm-random", "roberta-random", "distilbert-random", "electra-random"];

    public static IEnumerable<object[]> TinyModels() => TinyModelNames.Select(m => new object[] { m });

    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Float64Encoder> References = new();

    static Float64Encoder Reference(string model) => References.GetOrAdd(model, m =>
    {
        var encoder = ModelFixtures.Encoder(m);
        return new Float64Encoder(encoder.Config, encoder.Weights);
    });

    static EncoderInput Input(string model, string caseId)
    {
        var c = ModelFixtures.Load(model).Case(caseId);
        return new EncoderInput(c.InputIds, c.TokenTypeIds);
    }

    // ---- the reference itself ------------------------------------------------------------------------------------

    public static IEnumerable<object[]> ReferenceCases() =>
        TinyModelNames.SelectMany(m => ModelFixtures.Load(m).Cases.Select(c => new object[] { m, c.Id }))
            .Append(["all-MiniLM-L6-v2", "fox"]);

    [Theory]
    [MemberData(nameof(ReferenceCases))]
    public void Float64Encoder_FixtureCase_MatchesFixtureHiddenStatesAndProbs(string model, string caseId)
    {
        var fixtures = ModelFixtures.Load(model);
        var c = fixtures.Case(caseId);
        var file = fixtures.Open(c);
        var pass = Reference(model).Forward(new EncoderInput(c.InputIds, c.TokenTypeIds));
        int L = fixtures.Layers;
        var compared = new List<(string Name, double[] Actual)> { ($"layers.{L - 1}.output", pass.LastHidden) };
        if (c.Store != "final")
        {
            compared.Add(("embeddings.output", pass.EmbeddingsOutput));
            for (int l = 0; l < L; l++)
            {
                compared.Add(($"layers.{l}.output", pass.LayerOutputs[l]));
                compared.Add(($"layers.{l}.attention.probs", pass.Probs[l]));
            }
        }
        foreach (var (name, actual) in compared)
        {
            var expected = file.GetFloat32(name).Span;
            Assert.Equal(expected.Length, actual.Length);
            double worst = 0;
            for (int k = 0; k < actual.Length; k++)
                worst = Math.Max(worst, Math.Abs(actual[k] - expected[k]) / (1 + Math.Abs(expected[k])));
            output.WriteLine($"{model}/{caseId} {name}: max |diff|/(1 + |expected|) {worst:G3}");
            // the fixtures are float64 values stored as float32: 1e-5, with float32's rounding allowed for
            Assert.True(worst <= 1e-5, $"{model}/{caseId} {name}: the float64 reference is {worst:G3} from the fixture");
        }
    }

    // ---- every family --------------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(TinyModels))]
    public void Backward_TinyModelBatch_MatchesFiniteDifferencesOfFloat64Reference(string model)
    {
        var encoder = ModelFixtures.Encoder(model);
        // two texts of one packed batch (the second at an offset): every coordinate of the second's x and e⁰ (the path
        // through every step) and a sample of its probabilities, a sample of everything of the first
        EncoderInput[] inputs = [Input(model, "pair"), Input(model, "fox")];
        CheckBatch(model, encoder, Reference(model), inputs, wordRows: null, [Sampling.Few(24), new Sampling(null, null, 128, 2)]);
    }

    [Theory]
    [InlineData("bert-mlm-random", Activation.GeluTanh)]
    [InlineData("distilbert-random", Activation.Relu)]
    [InlineData("electra-random", Activation.Relu)]
    public void Backward_FfnActivationVariant_MatchesFiniteDifferences(string model, Activation activation)
    {
        // the same weights under another hidden_act (gelu_new, relu): the backward's act′ against the reference's act
        var source = ModelFixtures.Encoder(model);
        var config = source.Config with { HiddenAct = activation };
        var encoder = new BertEncoder(config, source.Weights);
        var reference = new Float64Encoder(config, source.Weights);
        CheckBatch($"{model} ({activation})", encoder, reference, [Input(model, "fox")], wordRows: null, [new Sampling(null, 64, 64, 2)]);
    }

    [Theory]
    [InlineData("electra-random")]
    [InlineData("roberta-random")]
    public void Backward_WordEmbeddingOverride_DifferentiatesAtTheGivenRows(string model)
    {
        // integrated gradients' inputs: x' + α(x − x') with x' the pad token's row, α = 0.3, for the first text only
        var encoder = ModelFixtures.Encoder(model);
        var reference = Reference(model);
        EncoderInput[] inputs = [Input(model, "fox"), Input(model, "accents")];
        int E = encoder.Config.EmbeddingSize, n = inputs[0].Length;
        var x = reference.WordRows(inputs[0]);
        var pad = reference.WordRows(new EncoderInput([encoder.Config.PadTokenId], [0]));
        var rows = new float[n * E];
        for (int k = 0; k < rows.Length; k++) rows[k] = (float)(pad[k % E] + 0.3 * (x[k] - pad[k % E]));
        CheckBatch($"{model} (word rows overridden)", encoder, reference, inputs, wordRows: [rows, null], [new Sampling(null, 64, 64, 2), Sampling.Few(16)]);
    }

    [Fact]
    public void Backward_AllMiniLm_SampledCoordinatesAndDirectionsMatchFiniteDifferences()
    {
        const string model = "all-MiniLM-L6-v2";
        var encoder = ModelFixtures.Encoder(model);
        // a short text (7 tokens: [CLS] [CLS] hello [SEP] world [MASK] [SEP]); a forward costs n·L·(4d² + 2df)
        var input = Input(model, "special_text");
        int n = input.Length, d = encoder.Config.HiddenSize;
        var r = FiniteDifferences.RandomFloats(n * d, seed: 6);
        var forward = EncoderGradients.Forward(encoder, [new GradientInput(input)]);
        var g = EncoderGradients.Backward(forward, [new Tensor(r, n, d)], attentionProbs: true)[0];
        var text = new TextCheck(Reference(model), input, null, r, null, output, $"{model}/special_text");
        text.CheckAll(g, Sampling.Few(4, directions: 1), seed: 60);
    }

    [Fact]
    public void Backward_LowestLayerAboveZero_GivesTheSameProbsGradientsAndNoEmbeddingGradients()
    {
        var encoder = ModelFixtures.Encoder("bert-mlm-random");
        var input = Input("bert-mlm-random", "fox");
        var r = new Tensor(FiniteDifferences.RandomFloats(input.Length * 32, seed: 7), input.Length, 32);
        var forward = EncoderGradients.Forward(encoder, [new GradientInput(input)]);
        var full = EncoderGradients.Backward(forward, [r], attentionProbs: true)[0];
        var top = EncoderGradients.Backward(forward, [r], attentionProbs: true, lowestLayer: 1)[0];
        Assert.Null(top.WordEmbeddings);
        Assert.Null(top.EmbeddingsOutput);
        Assert.Null(top.AttentionProbs[0]);
        Assert.Equal(full.AttentionProbs[1]!.Data, top.AttentionProbs[1]!.Data);
    }

    // ---- a forward patch on the attention probabilities ------------------------------------------------------------

    /// <summary>A_h^l ← α A_h^l in every head of one layer (attention attribution's scaled probabilities).</summary>
    sealed class ScaleProbs(int layer, float alpha) : IActivationPatch
    {
        public bool Targets(int l, LayerStep step) => l == layer && step == LayerStep.Probs;
        public void Apply(in PatchSite site, Span<float> activation) => System.Numerics.Tensors.TensorPrimitives.Multiply(activation, alpha, activation);
    }

    [Theory]
    [InlineData("bert-mlm-random", 0, 0.35f)]
    [InlineData("bert-mlm-random", 1, 0.6f)]
    [InlineData("electra-random", 0, 0.8f)]
    public void Backward_ProbsScaledByPatch_DifferentiatesThePatchedForward(string model, int layer, float alpha)
    {
        var encoder = ModelFixtures.Encoder(model);
        var input = Input(model, "fox");
        int n = input.Length, d = encoder.Config.HiddenSize;
        var r = FiniteDifferences.RandomFloats(n * d, seed: 8 + layer);
        var forward = EncoderGradients.Forward(encoder, [new GradientInput(input)], new ScaleProbs(layer, alpha));
        var g = EncoderGradients.Backward(forward, [new Tensor(r, n, d)], attentionProbs: true)[0];

        // the reference with A^layer replaced by αA^layer; ∂ℓ/∂A at that layer and every layer above it
        ProbsHook scale = (l, h, probs) => { if (l == layer) foreach (ref double p in probs) p *= alpha; };
        var text = new TextCheck(Reference(model), input, null, r, scale, output, $"{model}/fox, A^{layer} × {alpha}");
        var patched = text.Base.Probs[layer];
        var taped = forward.AttentionProbs(0, layer).Data;
        for (int k = 0; k < patched.Length; k++) Assert.True(Math.Abs(patched[k] - taped[k]) < 1e-5, $"probs [{k}]: {patched[k]} vs taped {taped[k]}");
        for (int l = layer; l < encoder.Config.NumHiddenLayers; l++) text.CheckProbs(l, g.AttentionProbs[l]!.Data, sample: 128, directions: 2, seed: l);

        // below the patched layer: the patched values are inputs of the patched forward (EncoderGradients.Forward), so
        // the reference keeps them fixed at αA^layer of the unperturbed text while x, e⁰ and the lower layers move
        var fixedProbs = text.Base.Probs[layer];
        ProbsHook replace = (l, h, probs) => { if (l == layer) fixedProbs.AsSpan(h * n * n, n * n).CopyTo(probs); };
        var below = new TextCheck(Reference(model), input, null, r, replace, output, $"{model}/fox, A^{layer} fixed at × {alpha}");
        below.CheckWordEmbeddings(g.WordEmbeddings!.Data, sample: 96, directions: 2, seed: 20);
        below.CheckEmbeddingsOutput(g.EmbeddingsOutput!.Data, sample: 96, directions: 2, seed: 21);
        for (int l = 0; l < layer; l++) below.CheckProbs(l, g.AttentionProbs[l]!.Data, sample: 96, directions: 2, seed: 22 + l);

        // the same through the backward that stops at the patched layer (as attention attribution runs it)
        if (layer > 0)
        {
            var top = EncoderGradients.Backward(forward, [new Tensor(r, n, d)], attentionProbs: true, lowestLayer: layer)[0];
            Assert.Equal(g.AttentionProbs[layer]!.Data, top.AttentionProbs[layer]!.Data);
        }
    }

    // ---- attention attribution's forward from a layer -------------------------------------------------------------

    [Theory]
    [InlineData("bert-mlm-random", 1)]
    [InlineData("distilbert-random", 0)]
    public void ForwardFromLayer_ScaledCopies_EachCopysProbsGradientMatchesFiniteDifferences(string model, int layer)
    {
        // three copies of one text from layer `layer`'s input, A^layer scaled by 0, 0.45 and 1 (Hao et al.'s Riemann steps)
        var encoder = ModelFixtures.Encoder(model);
        var reference = Reference(model);
        var input = Input(model, "fox");
        int n = input.Length, d = encoder.Config.HiddenSize;
        float[] alphas = [0f, 0.45f, 1f];
        var layerInput = reference.Forward(input).LayerInput(layer);
        var forward = EncoderGradients.ForwardFromLayer(encoder, input, layer,
            new Tensor(layerInput.Select(v => (float)v).ToArray(), n, d), alphas.Length, new ScaleAttentionProbs(layer, alphas));
        var r = alphas.Select((_, b) => FiniteDifferences.RandomFloats(n * d, seed: 70 + b)).ToArray();
        var g = EncoderGradients.Backward(forward, r.Select(rb => new Tensor(rb, n, d)).ToArray(), attentionProbs: true, lowestLayer: layer);
        for (int b = 0; b < alphas.Length; b++)
        {
            float alpha = alphas[b];
            ProbsHook scale = (l, h, probs) => { if (l == layer) foreach (ref double p in probs) p *= alpha; };
            var text = new TextCheck(reference, input, null, r[b], scale, output, $"{model}/fox from layer {layer}, copy {b} (α = {alpha})");
            var last = forward.LastHiddenState(b).Data;
            Assert.True(last.Select((v, k) => Math.Abs(v - text.Base.LastHidden[k])).Max() < 1e-4, $"copy {b}: X^L differs from the reference");
            if (layer > 0) Assert.Null(g[b].WordEmbeddings); // (from layer 0 the forward re-embeds the ids; see the report)
            for (int l = 0; l < layer; l++) Assert.Null(g[b].AttentionProbs[l]);
            for (int l = layer; l < encoder.Config.NumHiddenLayers; l++)
                text.CheckProbs(l, g[b].AttentionProbs[l]!.Data, sample: 128, directions: 2, seed: 80 + l);
        }
    }

    // ---- forward mode ----------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("random-bert-tiniest", null)]
    [InlineData("bert-mlm-random", null)]
    [InlineData("roberta-random", null)]
    [InlineData("distilbert-random", null)]
    [InlineData("electra-random", null)]
    [InlineData("bert-mlm-random", Activation.GeluTanh)]
    [InlineData("distilbert-random", Activation.Relu)]
    [InlineData("all-MiniLM-L6-v2", null)]
    public void Tangents_EveryLayer_MatchFiniteDifferencesOfLayerOutputs(string model, Activation? activation)
    {
        var source = ModelFixtures.Encoder(model);
        var config = activation is Activation a ? source.Config with { HiddenAct = a } : source.Config;
        var encoder = activation is null ? source : new BertEncoder(config, source.Weights);
        var reference = activation is null ? Reference(model) : new Float64Encoder(config, source.Weights);
        var input = Input(model, model == "all-MiniLM-L6-v2" ? "special_text" : "fox");
        CheckTangents($"{model}{(activation is null ? "" : $" ({activation})")}", encoder, reference, input, patch: null, hook: null);
    }

    [Theory]
    [InlineData("bert-mlm-random", 1, 0.5f)]
    [InlineData("electra-random", 0, 0.7f)]
    public void Tangents_ProbsScaledByPatch_HoldThePatchedProbabilitiesFixed(string model, int layer, float alpha)
    {
        // as the backward: a patched layer's probabilities are inputs of the patched forward, so Ȧ = 0 there
        var reference = Reference(model);
        var input = Input(model, "fox");
        int n = input.Length;
        ProbsHook scale = (l, h, probs) => { if (l == layer) foreach (ref double p in probs) p *= alpha; };
        var fixedProbs = reference.Forward(input, new Float64Hooks { Probs = scale }).Probs[layer];
        ProbsHook replace = (l, h, probs) => { if (l == layer) fixedProbs.AsSpan(h * n * n, n * n).CopyTo(probs); };
        CheckTangents($"{model}, A^{layer} fixed at × {alpha}", ModelFixtures.Encoder(model), reference, input, new ScaleProbs(layer, alpha), replace);
    }

    /// <summary>EncoderTangents.Propagate of three tangents ė⁰ (a unit vector, two random) at a taped forward, against
    /// (X^l(e⁰ + hė) − X^l(e⁰ − hė)) / 2h of the reference for every layer l.</summary>
    void CheckTangents(string label, BertEncoder encoder, Float64Encoder reference, EncoderInput input, IActivationPatch? patch, ProbsHook? hook)
    {
        int n = input.Length, d = encoder.Config.HiddenSize, L = encoder.Config.NumHiddenLayers;
        const int count = 3;
        var tangents = new float[count * n * d];
        tangents[n * d / 2 + 1] = 1;
        FiniteDifferences.RandomFloats(n * d, seed: 90).CopyTo(tangents, n * d);
        FiniteDifferences.RandomFloats(n * d, seed: 91).CopyTo(tangents, 2 * n * d);
        var forward = EncoderGradients.Forward(encoder, [new GradientInput(input)], patch);
        var got = new float[L][];
        EncoderTangents.Propagate(forward, tangents, count, (l, t) => got[l] = t.AsSpan(0, count * n * d).ToArray());

        var e0 = reference.Forward(input, new Float64Hooks { Probs = hook }).EmbeddingsOutput;
        (double[], ulong) LayerOutputs(int b, double step)
        {
            var x = e0.Select((v, k) => v + step * tangents[b * n * d + k]).ToArray();
            var pass = reference.ForwardFrom(0, x, n, hook);
            return (pass.LayerOutputs.SelectMany(y => y).ToArray(), pass.KinkSignature);
        }
        for (int b = 0; b < count; b++)
        {
            int tangent = b;
            var fd = FiniteDifferences.Central(step => LayerOutputs(tangent, step), LayerOutputs(tangent, 0).Item2)
                ?? throw new InvalidOperationException($"{label}: tangent {b} crosses a ReLU kink at every step");
            for (int l = 0; l < L; l++)
            {
                var actual = got[l].AsSpan(b * n * d, n * d);
                double maxDiff = 0, max = 0;
                for (int k = 0; k < n * d; k++)
                {
                    maxDiff = Math.Max(maxDiff, Math.Abs(actual[k] - fd[l * n * d + k]));
                    max = Math.Max(max, Math.Abs(actual[k]));
                }
                output.WriteLine($"{label} tangent {b}, layer {l}: max |diff| {maxDiff:G3}, max |tangent| {max:G3}, ratio {maxDiff / max:G3}");
                Assert.True(maxDiff <= RelativeTolerance * max, $"{label} tangent {b}, layer {l}: max |diff| {maxDiff:G3} > {RelativeTolerance} × {max:G3}");
            }
        }
    }

    // ---- the checks ----------------------------------------------------------------------------------------------

    /// <summary>How many coordinates of each gradient to check (null: every one; else the largest and random others), and
    /// how many random directions.</summary>
    sealed record Sampling(int? Words, int? Embeddings, int? Probs, int Directions)
    {
        public static Sampling Few(int count, int directions = 2) => new(count, count, count, directions);
    }

    /// <summary>Runs the taped forward and backward of a batch, then checks each text against the reference.</summary>
    void CheckBatch(string label, BertEncoder encoder, Float64Encoder reference, EncoderInput[] inputs, float[]?[]? wordRows, Sampling[] sampling)
    {
        int d = encoder.Config.HiddenSize;
        var r = inputs.Select((input, s) => FiniteDifferences.RandomFloats(input.Length * d, seed: 100 + s)).ToArray();
        var forward = EncoderGradients.Forward(encoder, inputs.Select((input, s) => new GradientInput(input, wordRows?[s])).ToArray());
        var gradients = EncoderGradients.Backward(forward, r.Select((rs, s) => new Tensor(rs, inputs[s].Length, d)).ToArray(), attentionProbs: true);
        for (int s = 0; s < inputs.Length; s++)
        {
            var rows = wordRows?[s]?.Select(v => (double)v).ToArray();
            var text = new TextCheck(reference, inputs[s], rows, r[s], null, output, $"{label} text {s} (n = {inputs[s].Length})");
            text.CheckAll(gradients[s], sampling[s], seed: s);
        }
    }

    /// <summary>One text's finite differences: the reference's unperturbed pass and the loss ℓ = Σ R ⊙ X^L.</summary>
    sealed class TextCheck
    {
        readonly Float64Encoder _reference;
        readonly EncoderInput _input;
        readonly double[] _wordRows, _r;
        readonly ProbsHook? _hook;
        readonly ITestOutputHelper _output;
        readonly string _label;

        public Float64Pass Base { get; }

        public TextCheck(Float64Encoder reference, EncoderInput input, double[]? wordRows, float[] r, ProbsHook? hook,
            ITestOutputHelper output, string label)
        {
            (_reference, _input, _hook, _output, _label) = (reference, input, hook, output, label);
            _wordRows = wordRows ?? reference.WordRows(input);
            _r = r.Select(v => (double)v).ToArray();
            Base = reference.Forward(input, new Float64Hooks { WordRows = _wordRows, Probs = hook });
        }

        LossAt Loss(Float64Pass pass)
        {
            double loss = 0;
            var x = pass.LastHidden;
            for (int k = 0; k < x.Length; k++) loss += _r[k] * x[k];
            return new LossAt(loss, pass.KinkSignature);
        }

        public void CheckAll(InputGradients g, Sampling sampling, int seed)
        {
            CheckWordEmbeddings(g.WordEmbeddings!.Data, sampling.Words, sampling.Words is null ? 0 : sampling.Directions, seed);
            CheckEmbeddingsOutput(g.EmbeddingsOutput!.Data, sampling.Embeddings, sampling.Embeddings is null ? 0 : sampling.Directions, seed + 1);
            for (int l = 0; l < g.AttentionProbs.Length; l++)
                CheckProbs(l, g.AttentionProbs[l]!.Data, sampling.Probs, sampling.Probs is null ? 0 : sampling.Directions, seed + 2 + l);
        }

        /// <summary>∂ℓ/∂x, x the word-embedding rows [n, E].</summary>
        public void CheckWordEmbeddings(float[] gradient, int? sample, int directions, int seed) =>
            Check("∂ℓ/∂x (word embeddings)", gradient, sample, directions, seed, delta =>
            {
                var rows = (double[])_wordRows.Clone();
                for (int k = 0; k < rows.Length; k++) rows[k] += delta[k];
                return Loss(_reference.Forward(_input, new Float64Hooks { WordRows = rows, Probs = _hook }));
            });

        /// <summary>∂ℓ/∂e⁰, e⁰ = embeddings.output [n, d].</summary>
        public void CheckEmbeddingsOutput(float[] gradient, int? sample, int directions, int seed) =>
            Check("∂ℓ/∂e⁰ (embeddings.output)", gradient, sample, directions, seed, delta =>
            {
                var e0 = (double[])Base.EmbeddingsOutput.Clone();
                for (int k = 0; k < e0.Length; k++) e0[k] += delta[k];
                return Loss(_reference.ForwardFrom(0, e0, _input.Length, _hook));
            });

        /// <summary>∂ℓ/∂A^l [H, n, n], the probabilities perturbed after the softmax (and after the hook).</summary>
        public void CheckProbs(int layer, float[] gradient, int? sample, int directions, int seed) =>
            Check($"∂ℓ/∂A^{layer} (attention probs)", gradient, sample, directions, seed, delta =>
            {
                int n = _input.Length;
                ProbsHook perturb = (l, h, probs) =>
                {
                    _hook?.Invoke(l, h, probs);
                    if (l != layer) return;
                    for (int k = 0; k < probs.Length; k++) probs[k] += delta[h * n * n + k];
                };
                return Loss(_reference.ForwardFrom(layer, Base.LayerInput(layer), n, perturb));
            });

        /// <summary>FD of every sampled coordinate and of <paramref name="directions"/> random directions, where
        /// <paramref name="lossAt"/> maps a perturbation of the whole tensor to the loss.</summary>
        void Check(string what, float[] gradient, int? sample, int directions, int seed, Func<double[], LossAt> lossAt)
        {
            var check = new GradientCheck($"{_label} {what}", gradient);
            var delta = new double[gradient.Length];
            // the ReLU pattern of the layers this perturbation reruns (0 for GELU)
            ulong kinks = _reference.Config.HiddenAct == Activation.Relu ? lossAt(delta).KinkSignature : 0;
            foreach (int k in FiniteDifferences.Coordinates(gradient, sample, seed))
            {
                check.Coordinate(k, FiniteDifferences.Central(step =>
                {
                    delta[k] = step;
                    var loss = lossAt(delta);
                    delta[k] = 0;
                    return loss;
                }, kinks));
            }
            for (int v = 0; v < directions; v++)
            {
                var direction = FiniteDifferences.RandomVector(gradient.Length, seed * 31 + v);
                check.Direction(direction, FiniteDifferences.Central(step => lossAt(direction.Select(x => x * step).ToArray()), kinks));
            }
            check.Assert(RelativeTolerance, _output);
        }
    }
}

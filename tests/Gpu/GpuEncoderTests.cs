using MixLens.Analysis.Methods;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Tests.Encoder;
using MixLens.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MixLens.Tests.Gpu;

/// <summary>
/// The GPU backend's forward and Value Zeroing on ILGPU's CPU accelerator: against the float64 reference fixtures (at
/// their tolerances) and against the SIMD backend, for the small models of ../shared/models.
/// </summary>
[Collection(SimulatorCollection.Name)]
public class GpuEncoderTests(SimulatorFixture simulator, ITestOutputHelper output)
{
    static readonly string[] SmallModels =
        ["random-bert-tiniest", "bert-mlm-random", "bert-tokcls-random", "roberta-random", "distilbert-random", "electra-random"];

    public static IEnumerable<object[]> SmallModelCases() =>
        SmallModels.SelectMany(m => ModelFixtures.Load(m).Cases.Select(c => new object[] { m, c.Id }));

    [Theory]
    [MemberData(nameof(SmallModelCases))]
    public void Forward_FixtureCase_EverySubStepMatchesReference(string model, string caseId)
    {
        var fixtures = ModelFixtures.Load(model);
        var c = fixtures.Case(caseId);
        var expected = fixtures.Open(c);
        var encoder = simulator.Encoder(model);

        var (lastHidden, trace) = encoder.Forward(new EncoderInput(c.InputIds, c.TokenTypeIds), TraceRequest.All);

        int compared = 0;
        foreach (var info in expected.Tensors)
        {
            if (!TraceNames.TryParse(info.Name, fixtures.Layers, out _, out _)) continue;
            var actual = trace[info.Name];
            Assert.Equal(info.Shape.Select(x => (int)x).ToArray(), actual.Shape);
            Compare.AllClose($"gpu {model}/{caseId} {info.Name}", expected.GetFloat32(info.Name).Span, actual.Data, actual.Shape,
                EncoderParityTests.ToleranceFor(fixtures, info.Name));
            compared++;
        }
        int L = fixtures.Layers;
        Assert.Equal(c.Store switch { "full" => 1 + 13 * L, "hidden" => 1 + 2 * L, _ => 1 }, compared);
        Assert.Equal(trace[L - 1, LayerStep.Output].Data, lastHidden.Data);
    }

    [Theory]
    [InlineData("bert-mlm-random")]
    [InlineData("roberta-random")]
    public void Forward_RaggedMaskedBatch_MatchesSimdBackend(string model)
    {
        var gpu = simulator.Encoder(model);
        var cpu = new BertEncoder(gpu.Config, gpu.Weights);
        var cases = ModelFixtures.Load(model).Cases;
        var batch = cases.Select(c => new EncoderInput(c.InputIds, c.TokenTypeIds)).ToList();
        // a padded copy of the first text: two padding tokens masked out
        var first = cases[0];
        var paddedIds = first.InputIds.Concat(new[] { gpu.Config.PadTokenId, gpu.Config.PadTokenId }).ToArray();
        var mask = paddedIds.Select((_, p) => p < first.InputIds.Length ? 1 : 0).ToArray();
        batch.Add(new EncoderInput(paddedIds, new int[paddedIds.Length], mask));

        var expected = cpu.Forward(batch, TraceRequest.All);
        var actual = gpu.Forward(batch, TraceRequest.All);

        double worst = 0;
        for (int s = 0; s < batch.Count; s++)
        {
            foreach (var name in TraceNames.All(gpu.Config.NumHiddenLayers))
            {
                var e = expected.Traces[s][name];
                var a = actual.Traces[s][name];
                Assert.Equal(e.Shape, a.Shape);
                Compare.AllClose($"{model} text {s} {name}", e.Data, a.Data, a.Shape, new Tolerance(2e-5, 2e-5));
                worst = Math.Max(worst, MaxFiniteDiff(e.Data, a.Data));
            }
            Compare.AllClose($"{model} text {s} last hidden", expected.LastHiddenStates[s].Data, actual.LastHiddenStates[s].Data,
                actual.LastHiddenStates[s].Shape, new Tolerance(2e-5, 2e-5));
        }
        output.WriteLine($"{model}: {batch.Count} texts, max |gpu − simd| over every traced step {worst:G3}");
    }

    static double MaxFiniteDiff(float[] a, float[] b)
    {
        double max = 0;
        for (int k = 0; k < a.Length; k++)
            if (float.IsFinite(a[k]) && float.IsFinite(b[k])) max = Math.Max(max, Math.Abs((double)a[k] - b[k]));
        return max;
    }

    [Theory]
    [InlineData("random-bert-tiniest", "fox", null)]
    [InlineData("bert-mlm-random", "fox", null)]
    [InlineData("bert-mlm-random", "pair", 1)]
    [InlineData("distilbert-random", "pair", null)]
    [InlineData("electra-random", "accents", null)]
    public void ValueZeroing_OnDevice_MatchesCpuFastPathAndReference(string model, string caseId, int? head)
    {
        var fixtures = ModelFixtures.Load(model);
        var c = fixtures.Case(caseId);
        var input = new EncoderInput(c.InputIds, c.TokenTypeIds);
        var gpu = simulator.Encoder(model);
        var cpu = new BertEncoder(gpu.Config, gpu.Weights);

        var expected = ValueZeroing.Compute(cpu, input, head);
        var actual = ValueZeroing.Compute(gpu, input, head);

        double diff = Compare.MaxAbsDiff(expected.Data, actual.Data);
        output.WriteLine($"{model}/{caseId} head {head?.ToString() ?? "all"}: max |gpu − cpu| = {diff:G3}");
        Assert.True(diff <= 1e-5, $"GPU and CPU Value Zeroing differ by {diff:G3}");
        if (head is null)
            Compare.AllClose($"gpu {model}/{caseId} analysis.value_zeroing", fixtures.Open(c).GetFloat32("analysis.value_zeroing").Span,
                actual.Data, actual.Shape, fixtures.Tolerances["value_zeroing_alti"]);
    }

    [Fact]
    public void ValueZeroingByRerun_PatchedValuesOnDevice_MatchesCpu()
    {
        var c = ModelFixtures.Load("bert-mlm-random").Case("fox");
        var input = new EncoderInput(c.InputIds, c.TokenTypeIds);
        var gpu = simulator.Encoder("bert-mlm-random");
        var cpu = new BertEncoder(gpu.Config, gpu.Weights);

        var expected = ValueZeroing.ComputeByRerun(cpu, input);
        var actual = ValueZeroing.ComputeByRerun(gpu, input);

        double diff = Compare.MaxAbsDiff(expected.Data, actual.Data);
        output.WriteLine($"re-run Value Zeroing (patch applied through the device hooks): max |gpu − cpu| = {diff:G3}");
        Assert.True(diff <= 1e-4, $"GPU and CPU re-run Value Zeroing differ by {diff:G3}");
    }

    [Fact]
    public void Backend_Disposed_ForwardThrowsObjectDisposed()
    {
        using var backend = MixLens.Gpu.GpuEncoderBackend.CreateCpuSimulator();
        var encoder = new BertEncoder(simulator.Encoder("random-bert-tiniest").Config, simulator.Encoder("random-bert-tiniest").Weights) { Backend = backend };
        var c = ModelFixtures.Load("random-bert-tiniest").Cases[0];
        encoder.Forward(new EncoderInput(c.InputIds, c.TokenTypeIds));
        backend.Dispose();
        Assert.Throws<ObjectDisposedException>(() => encoder.Forward(new EncoderInput(c.InputIds, c.TokenTypeIds)));
    }
}

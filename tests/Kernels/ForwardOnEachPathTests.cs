using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Kernels;
using MixLens.Tests.Encoder;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Kernels;

/// <summary>
/// The whole encoder forward on each vector path against the float64 fixtures: in-process with the path capped on the
/// calling thread and everything run on it (<see cref="Parallelism.MaxThreads"/> = 1), and again in the child processes
/// of <see cref="VectorPathChildProcessTests"/>, where the runtime itself has the wider instructions switched off.
/// </summary>
public class ForwardOnEachPathTests
{
    public static TheoryData<VectorPath> Paths => KernelTestData.Paths;

    [Theory, MemberData(nameof(Paths))]
    public void Forward_FixtureCase_EverySubStepMatchesReferenceOnThisPath(VectorPath path)
    {
        const string model = "all-MiniLM-L6-v2";
        var fixtures = ModelFixtures.Load(model);
        var c = fixtures.Case("fox");
        var expected = fixtures.Open(c);
        var encoder = ModelFixtures.Encoder(model);
        int before = Parallelism.MaxThreads;
        Trace trace;
        try
        {
            Parallelism.MaxThreads = 1;
            using var _ = VectorPaths.LimitForCurrentThread(path);
            trace = encoder.Forward(new EncoderInput(c.InputIds, c.TokenTypeIds), TraceRequest.All).Trace;
        }
        finally { Parallelism.MaxThreads = before; }

        int compared = 0;
        foreach (var info in expected.Tensors)
        {
            if (!TraceNames.TryParse(info.Name, fixtures.Layers, out _, out _)) continue;
            var actual = trace[info.Name];
            Compare.AllClose($"{model}/fox on {path}: {info.Name}", expected.GetFloat32(info.Name).Span, actual.Data, actual.Shape,
                EncoderParityTests.ToleranceFor(fixtures, info.Name));
            compared++;
        }
        Assert.Equal(1 + 13 * fixtures.Layers, compared);
    }
}

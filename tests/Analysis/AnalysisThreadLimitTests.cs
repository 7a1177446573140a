using MixLens.Analysis;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Kernels;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Analysis;

/// <summary>
/// The analyses' parallel loops follow <see cref="Parallelism.MaxThreads"/>: every method gives the same matrices,
/// bit for bit, on one thread as on all cores (each loop iteration owns its output row, so the split cannot change
/// a result).
/// </summary>
public class AnalysisThreadLimitTests
{
    [Fact]
    public void EveryMethod_OneThreadAndAllThreads_BitIdentical()
    {
        using var model = EncoderModel.Load(SharedData.Models("bert-mlm-random"));
        var input = EncoderInput.From(model.Tokenize("The quick brown fox jumps over the lazy dog.", "A dog sleeps."));
        var (_, trace) = model.Encoder.Forward(input, TraceRequest.All);

        foreach (var method in Enum.GetValues<MixingMethod>())
        {
            var all = MixingMethods.Compute(method, model.Encoder, input, trace);
            int before = Parallelism.MaxThreads;
            Tensor one;
            try
            {
                Parallelism.MaxThreads = 1;
                one = MixingMethods.Compute(method, model.Encoder, input, trace);
            }
            finally { Parallelism.MaxThreads = before; }

            Assert.Equal(all.Shape, one.Shape);
            Assert.True(all.Data.SequenceEqual(one.Data), $"{MixingMethods.NameOf(method)}: one-thread result differs from the all-thread result");
            Assert.Contains(all.Data, v => v != 0f);
        }
    }
}

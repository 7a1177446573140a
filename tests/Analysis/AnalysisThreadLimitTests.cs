using MixLens.Analysis;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Kernels;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Analysis;

/// <summary>
/// The analyses' parallel loops follow <see cref="Parallelism.MaxThreads"/>: every method gives the same matrices
/// (or token scores), bit for bit, on one thread as on all cores (each loop iteration owns its output row, so the split cannot change
/// a result).
/// </summary>
public class AnalysisThreadLimitTests
{
    [Fact]
    public void EveryMethod_OneThreadAndAllThreads_BitIdentical()
    {
        // the forward methods and hta on a headless model; the methods that explain a classifier's class on a small
        // classifier (steps cut to 3: the thread split, not the integral, is under test)
        using var model = EncoderModel.Load(SharedData.Models("bert-mlm-random"));
        using var classifier = EncoderModel.Load(TinyClassifier.Directory);
        foreach (var method in Enum.GetValues<MixingMethod>())
        {
            var m = MixingMethods.NeedsClassifier(method) ? classifier : model;
            var encoding = m.Tokenize("The quick brown fox jumps over the lazy dog.", "A dog sleeps.");
            var input = EncoderInput.From(encoding);
            var (_, trace) = m.Encoder.Forward(input, TraceRequest.All);
            var gradients = GradientOptions.ForText(m, encoding, steps: 3);

            var all = MixingMethods.Compute(method, m.Encoder, input, trace, gradients: gradients);
            int before = Parallelism.MaxThreads;
            Tensor one;
            try
            {
                Parallelism.MaxThreads = 1;
                one = MixingMethods.Compute(method, m.Encoder, input, trace, gradients: gradients);
            }
            finally { Parallelism.MaxThreads = before; }

            Assert.Equal(all.Shape, one.Shape);
            Assert.True(all.Data.SequenceEqual(one.Data), $"{MixingMethods.NameOf(method)}: one-thread result differs from the all-thread result");
            Assert.Contains(all.Data, v => v != 0f);
        }
    }
}

using MixLens.Analysis;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Kernels;
using MixLens.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MixLens.Tests.Concurrency;

/// <summary>
/// One loaded model shared by many threads (BertEncoder says it is thread-safe; services embed it that way): forwards of
/// different lengths, traced forwards, context-mixing and gradient methods, called concurrently from 16 threads, each
/// result bit-identical to the same call made alone. Parallelism.MaxThreads is also changed while calls are in flight.
/// </summary>
public class SharedModelStressTests(ITestOutputHelper output)
{
    static readonly string[] Texts =
    [
        "a gorgeous, witty, seductive movie.",
        "the plot is nothing but boilerplate clichés from start to finish, and the script assumes that not only would subtitles overwhelm its audience, but it would be a heavy burden too",
        "ok",
        "it 's a charming and often affecting journey .",
        "unflinchingly bleak and desperate",
    ];

    /// <summary>One kind of call: its name and a function giving its result as flat floats.</summary>
    sealed record Call(string Name, Func<float[]> Run);

    static IReadOnlyList<Call> Calls(EncoderModel model)
    {
        var calls = new List<Call>();
        var gradients = new GradientOptions(model.Classifier);
        foreach (var text in Texts)
        {
            var encoding = model.Tokenize(text);
            var input = EncoderInput.From(encoding);
            calls.Add(new($"forward '{text[..Math.Min(12, text.Length)]}'", () => model.Encoder.Forward(input).LastHiddenState.Data));
            calls.Add(new($"trace probs '{text[..Math.Min(12, text.Length)]}'", () => model.Encoder.Forward(input, TraceRequest.Steps(true, LayerStep.Probs, LayerStep.Value)).Trace[2, LayerStep.Probs].Data));
            calls.Add(new($"batch of 3 '{text[..Math.Min(12, text.Length)]}'", () => model.Encoder.Forward([input, EncoderInput.From(model.Tokenize("short")), input]).LastHiddenStates[2].Data));
            foreach (var method in new[] { MixingMethod.Rollout, MixingMethod.Alti, MixingMethod.GlobEnc, MixingMethod.Saliency, MixingMethod.Chefer, MixingMethod.GradientXInput })
                calls.Add(new($"{MixingMethods.NameOf(method)} '{text[..Math.Min(12, text.Length)]}'", () => MixingMethods.Compute(method, model.Encoder, input, gradients: gradients).Data));
            if (encoding.Length <= 12)
                calls.Add(new($"value-zeroing '{text[..Math.Min(12, text.Length)]}'", () => MixingMethods.Compute(MixingMethod.ValueZeroing, model.Encoder, input).Data));
        }
        return calls;
    }

    [Fact]
    public void SixteenThreads_ShareOneModel_EveryResultBitIdenticalToTheCallAlone()
    {
        using var model = EncoderModel.Load(SharedData.Models("minilm-l6-sst2"));
        var calls = Calls(model);
        var alone = calls.Select(c => c.Run()).ToArray();

        const int threads = 16, perThread = 40;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        int done = 0;
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var random = new Random(t);
            for (int k = 0; k < perThread; k++)
            {
                int which = random.Next(calls.Count);
                try
                {
                    var result = calls[which].Run();
                    if (!result.AsSpan().SequenceEqual(alone[which])) failures.Enqueue($"{calls[which].Name}: differs from the call alone");
                }
                catch (Exception e)
                {
                    failures.Enqueue($"{calls[which].Name}: {e.GetType().Name}: {e.Message}");
                }
                Interlocked.Increment(ref done);
            }
        })).ToArray();
        foreach (var w in workers) w.Start();
        // change the kernels' thread limit while calls are in flight: results must not depend on it
        for (int flip = 0; workers.Any(w => w.IsAlive); flip++)
        {
            Parallelism.MaxThreads = flip % 2 == 0 ? 1 : 0;
            Thread.Sleep(20);
        }
        Parallelism.MaxThreads = 0;
        foreach (var w in workers) w.Join();

        output.WriteLine($"{done} calls of {calls.Count} kinds on {threads} threads; {failures.Count} failures");
        Assert.Equal(threads * perThread, done);
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(10)));
    }
}

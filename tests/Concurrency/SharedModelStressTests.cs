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
/// result bit-identical to the same call made alone. Parallelism.MaxThreads is also changed while calls are in flight;
/// memory stays flat after warm-up; and a model disposed while calls run ends them with ObjectDisposedException or
/// lets them finish, never with a crash or a wrong result.
/// </summary>
[Collection(nameof(StressCollection))]
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

    [Fact]
    public void EightThreads_AfterWarmUp_MemoryAndPooledWorkspacesStayFlat()
    {
        using var model = EncoderModel.Load(SharedData.Models("minilm-l6-sst2"));
        var calls = Calls(model);
        const int threads = 8;

        // warm-up: every kind of call, on as many threads as the measured rounds use (the pool then holds one
        // workspace per concurrent forward, sized for the longest text)
        RunRound(calls, threads, perThread: calls.Count / threads + 4, seed: 100);
        var pooledBefore = model.Encoder.PooledWorkspaces;
        long before = GC.GetTotalMemory(forceFullCollection: true);

        const int rounds = 3, perThread = 16;
        var pooled = new List<(int Count, long Bytes, long LargestBytes)>();
        var heap = new List<long>();
        for (int round = 0; round < rounds; round++)
        {
            RunRound(calls, threads, perThread, seed: round);
            pooled.Add(model.Encoder.PooledWorkspaces);
            heap.Add(GC.GetTotalMemory(forceFullCollection: true));
        }
        output.WriteLine($"after warm-up: heap {before / 1024} KiB, pool {pooledBefore.Count} workspaces / {pooledBefore.Bytes / 1024} KiB, largest {pooledBefore.LargestBytes / 1024} KiB");
        for (int round = 0; round < rounds; round++)
            output.WriteLine($"after {(round + 1) * threads * perThread} more calls: heap {heap[round] / 1024} KiB, pool {pooled[round].Count} workspaces / {pooled[round].Bytes / 1024} KiB, largest {pooled[round].LargestBytes / 1024} KiB");

        // the pool: at most one workspace per concurrent forward, each at most the size the largest batch of these
        // calls needs, 11·d + f floats per token (workspaces grow to the largest batch they serve, so the total may
        // rise after warm-up as more of them meet it, towards count × that size, never past it)
        var c = model.Config;
        int longest = Texts.Max(t => model.Tokenize(t).Length), maxTokens = 2 * longest + model.Tokenize("short").Length;
        long perWorkspace = 4L * maxTokens * (11L * c.HiddenSize + c.IntermediateSize);
        output.WriteLine($"bound: {threads} workspaces × {perWorkspace / 1024} KiB ({maxTokens} tokens, the largest batch)");
        Assert.All(pooled, p => Assert.InRange(p.Count, 1, threads));
        Assert.All(pooled, p => Assert.True(p.LargestBytes <= perWorkspace, $"a pooled workspace holds {p.LargestBytes} bytes, over the {perWorkspace} the largest batch needs"));
        Assert.All(pooled, p => Assert.True(p.Bytes <= threads * perWorkspace, $"the pool holds {p.Bytes} bytes, over {threads} × {perWorkspace}"));
        // the heap: no growth with the number of calls (a leak of one result per call would add MBs per round)
        const long slack = 8L << 20;
        Assert.All(heap, h => Assert.True(h - before < slack, $"heap grew by {(h - before) / 1024} KiB after warm-up (slack {slack / 1024} KiB)"));
        Assert.True(heap[^1] - heap[0] < slack / 2, $"heap grew by {(heap[^1] - heap[0]) / 1024} KiB between the first and the last round");
    }

    [Fact]
    public void ModelDisposedWhileCallsAreInFlight_CallsFinishOrThrowObjectDisposed_NeverCrash()
    {
        // all-MiniLM-L6-v2 is float32: its embeddings, biases and LayerNorm weights are read in place from the
        // memory-mapped file, which disposal unmaps; unmapping under a running call would crash the process
        var model = EncoderModel.Load(SharedData.Models("all-MiniLM-L6-v2"));
        var inputs = Texts.Select(t => EncoderInput.From(model.Tokenize(t))).ToArray();
        var expected = inputs.Select(i => model.Encoder.Forward(i).LastHiddenState.Data).ToArray();
        var expectedAlti = MixingMethods.Compute(MixingMethod.Alti, model.Encoder, inputs[1]).Data;

        const int threads = 8;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        int completed = 0, refused = 0;
        using var started = new CountdownEvent(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            started.Signal();
            for (int k = 0; ; k++)
            {
                try
                {
                    bool correct = (k + t) % 4 == 0
                        ? MixingMethods.Compute(MixingMethod.Alti, model.Encoder, inputs[1]).Data.AsSpan().SequenceEqual(expectedAlti)
                        : model.Encoder.Forward(inputs[(k + t) % inputs.Length]).LastHiddenState.Data.AsSpan().SequenceEqual(expected[(k + t) % inputs.Length]);
                    if (!correct) failures.Enqueue($"thread {t}, call {k}: a result differs from the call before disposal");
                    Interlocked.Increment(ref completed);
                }
                catch (ObjectDisposedException e)
                {
                    if (!e.Message.Contains("disposed")) failures.Enqueue($"thread {t}: unclear message: {e.Message}");
                    Interlocked.Increment(ref refused);
                    return;
                }
                catch (Exception e)
                {
                    failures.Enqueue($"thread {t}, call {k}: {e.GetType().Name}: {e.Message}");
                    return;
                }
            }
        })).ToArray();
        foreach (var w in workers) w.Start();
        started.Wait();
        Thread.Sleep(300);
        int inFlight = model.Encoder.Calls.InFlight;
        model.Dispose();   // while calls run: the unmapping waits for them
        foreach (var w in workers) Assert.True(w.Join(TimeSpan.FromSeconds(60)), "a worker did not stop after the model was disposed");

        output.WriteLine($"{completed} calls completed, {refused} threads refused with ObjectDisposedException; {inFlight} calls in flight at disposal");
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(10)));
        Assert.Equal(threads, refused);
        Assert.True(completed > 0, "no call completed before disposal");
        Assert.Equal(0, model.Encoder.Calls.InFlight);
        var after = Assert.Throws<ObjectDisposedException>(() => model.Encoder.Forward(inputs[0]));
        Assert.Contains("disposed", after.Message);
        Assert.Throws<ObjectDisposedException>(() => model.Classify([model.Tokenize("ok")]));
        model.Dispose();   // a second disposal does nothing
    }

    /// <summary>Runs <paramref name="perThread"/> random calls on each of <paramref name="threads"/> threads, checking
    /// nothing (the measuring tests check memory, the test above checks the results).</summary>
    static void RunRound(IReadOnlyList<Call> calls, int threads, int perThread, int seed)
    {
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            for (int k = 0; k < perThread; k++)
            {
                try { calls[(t + k * threads) % calls.Count].Run(); }
                catch (Exception e) { errors.Enqueue(e); }
            }
        })).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        Assert.True(errors.IsEmpty, string.Join("\n", errors.Take(5).Select(e => e.ToString())));
    }
}

/// <summary>The stress tests run alone, after the parallel tests: they measure the process's heap, and time many threads.</summary>
[CollectionDefinition(nameof(StressCollection), DisableParallelization = true)]
public class StressCollection;

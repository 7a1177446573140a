using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Kernels;
using MixLens.Tests.Infrastructure;
using Xunit.Abstractions;

namespace MixLens.Tests.Encoder;

/// <summary>Runs alone: it counts every byte the process allocates, which other tests running beside it would add to.</summary>
[CollectionDefinition(nameof(AllocationCollection), DisableParallelization = true)]
public class AllocationCollection;

/// <summary>
/// A forward of a shape seen before allocates only what it returns: the activations live in pooled workspaces and
/// per-thread scratch, the kernels' thread pool allocates nothing per loop.
/// </summary>
[Collection(nameof(AllocationCollection))]
public class ForwardAllocationTests(ITestOutputHelper output)
{
    /// <summary>
    /// Allowance beyond the results: the embedding rows [T, d] (<c>BertEmbeddings.Forward</c> still allocates them),
    /// the returned tensor [n, d], and 8 KiB for bookkeeping objects (the packed batch, trace and hook objects, the
    /// output records: about 1.5 KiB measured).
    /// </summary>
    const long BookkeepingBytes = 8 * 1024;

    [Theory]
    [InlineData(16, 0)]
    [InlineData(128, 0)]
    [InlineData(128, 1)]
    public void Forward_SecondCallOfTheSameShape_AllocatesOnlyItsResults(int tokens, int maxThreads)
    {
        var encoder = ModelFixtures.Encoder("all-MiniLM-L6-v2");
        var input = Input(tokens);
        int before = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = maxThreads;
            encoder.Forward(input);   // first call: workspaces, scratch, worker threads, JIT
            encoder.Forward(input);
            // five measured calls, the smallest count of each kind taken: bytes the forward allocates every time show in
            // every call, while the process-wide count also takes in whatever another thread allocates meanwhile (a
            // timer, a thread an earlier test left running: 58 KB seen once in a clean CI run), and even the calling
            // thread's sometimes has a few KB of the runtime's own (7.5 KB seen in one of three calls)
            long thread = long.MaxValue, total = long.MaxValue;
            for (int call = 0; call < 5; call++)
            {
                long thread0 = GC.GetAllocatedBytesForCurrentThread();
                long total0 = GC.GetTotalAllocatedBytes(precise: true);
                encoder.Forward(input);
                thread = Math.Min(thread, GC.GetAllocatedBytesForCurrentThread() - thread0);
                total = Math.Min(total, GC.GetTotalAllocatedBytes(precise: true) - total0);
            }

            long rows = (long)tokens * encoder.Config.HiddenSize * sizeof(float);
            long allowed = 2 * rows + BookkeepingBytes;
            output.WriteLine($"n = {tokens}, MaxThreads = {Parallelism.MaxThreads}: {total:N0} bytes allocated ({thread:N0} on the calling thread); " +
                $"results {2 * rows:N0} + bookkeeping allowance {BookkeepingBytes:N0}");
            Assert.True(total <= allowed, $"a forward of a shape seen before allocated {total:N0} bytes, more than the {allowed:N0} its results need");
            Assert.True(thread <= allowed, $"a forward of a shape seen before allocated {thread:N0} bytes on its thread");
        }
        finally { Parallelism.MaxThreads = before; }
    }

    static EncoderInput Input(int tokens)
    {
        var ids = new int[tokens];
        ids[0] = 101;
        for (int i = 1; i < tokens - 1; i++) ids[i] = 1000 + 37 * i % 20000;
        ids[^1] = 102;
        return new EncoderInput(ids, new int[tokens]);
    }
}

/// <summary>The fused write-back and the thread count change nothing: same bits with and without a trace, on 1 or all threads.</summary>
public class ForwardFusionTests
{
    [Fact]
    public void Forward_TracedAndUntraced_SameOutputBitForBit()
    {
        // tracing attention.output and ffn.output makes the layer materialise them instead of fusing the residual
        var fixtures = ModelFixtures.Load("all-MiniLM-L6-v2");
        var encoder = ModelFixtures.Encoder("all-MiniLM-L6-v2");
        foreach (var c in fixtures.Cases.Where(c => c.NTokens <= 64))
        {
            var input = new EncoderInput(c.InputIds, c.TokenTypeIds);
            var (plain, _) = encoder.Forward(input);
            var (traced, trace) = encoder.Forward(input, TraceRequest.All);
            Assert.Equal(plain.Data, traced.Data);
            for (int l = 0; l < fixtures.Layers; l++)
            {
                var (_, partial) = encoder.Forward(input, TraceRequest.Steps(false, LayerStep.AttentionResidual, LayerStep.FfnResidual));
                Assert.Equal(trace[l, LayerStep.AttentionResidual].Data, partial[l, LayerStep.AttentionResidual].Data);
                Assert.Equal(trace[l, LayerStep.FfnResidual].Data, partial[l, LayerStep.FfnResidual].Data);
            }
        }
    }

    [Fact]
    public void Forward_ConcurrentCallsOnOneEncoder_EachEqualsItsSequentialResult()
    {
        // each call rents its own workspace; loops started while the pool is busy run on their calling thread
        var fixtures = ModelFixtures.Load("all-MiniLM-L6-v2");
        var encoder = ModelFixtures.Encoder("all-MiniLM-L6-v2");
        var inputs = fixtures.Cases.Where(c => c.NTokens <= 128).Select(c => new EncoderInput(c.InputIds, c.TokenTypeIds)).ToArray();
        var sequential = inputs.Select(i => encoder.Forward(i, TraceRequest.Steps(false, LayerStep.Probs)).Trace).ToArray();
        var concurrent = new Engine.Tracing.Trace[inputs.Length];
        Parallel.For(0, inputs.Length * 4, new ParallelOptions { MaxDegreeOfParallelism = 4 },
            t => concurrent[t % inputs.Length] = encoder.Forward(inputs[t % inputs.Length], TraceRequest.Steps(false, LayerStep.Probs)).Trace);
        for (int s = 0; s < inputs.Length; s++)
            for (int l = 0; l < fixtures.Layers; l++)
                Assert.Equal(sequential[s][l, LayerStep.Probs].Data, concurrent[s][l, LayerStep.Probs].Data);
    }

    [Fact]
    public void Forward_OneThreadAndAllThreads_SameOutputBitForBit()
    {
        var fixtures = ModelFixtures.Load("all-MiniLM-L6-v2");
        var encoder = ModelFixtures.Encoder("all-MiniLM-L6-v2");
        var inputs = fixtures.Cases.Where(c => c.NTokens <= 128).Select(c => new EncoderInput(c.InputIds, c.TokenTypeIds)).ToArray();
        var all = encoder.Forward(inputs);
        int before = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            var one = encoder.Forward(inputs);
            for (int s = 0; s < inputs.Length; s++) Assert.Equal(all.LastHiddenStates[s].Data, one.LastHiddenStates[s].Data);
        }
        finally { Parallelism.MaxThreads = before; }
    }
}

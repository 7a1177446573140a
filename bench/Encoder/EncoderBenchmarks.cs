using BenchmarkDotNet.Attributes;
using MixLens.Analysis;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;

namespace MixLens.Bench;

/// <summary>
/// The main job on the real all-MiniLM-L6-v2: one forward pass (batch 1) at n tokens, with and without the full
/// trace, and the context-mixing analyses of the CLI, on 1 thread and on all cores (the analyses' own Parallel.For loops
/// are not limited by the setting; the encoder and GEMM calls inside them are). Run:
/// <c>dotnet run -c Release --project bench -- --filter '*EncoderBenchmarks*'</c>
/// </summary>
[MemoryDiagnoser]
public class EncoderBenchmarks
{
    EncoderModel _model = null!;
    EncoderInput _input = null!;

    [Params(16, 128)]
    public int Tokens { get; set; }

    /// <summary><see cref="MixLens.Kernels.Parallelism.MaxThreads"/>: 1, or 0 for all cores.</summary>
    [Params(1, 0)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _model = EncoderModel.Load(SharedPaths.Model("all-MiniLM-L6-v2"));
        string text = string.Join(' ', Enumerable.Repeat("the quick brown fox jumps over the lazy dog", 64));
        var encoding = _model.Tokenizer.Encode(text, maxLength: Tokens);
        _input = EncoderInput.From(encoding);
        MixLens.Kernels.Parallelism.MaxThreads = Threads;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        MixLens.Kernels.Parallelism.MaxThreads = 0;
        _model.Dispose();
    }

    [Benchmark(Baseline = true)]
    public Tensor Forward() => _model.Encoder.Forward(_input).LastHiddenState;

    [Benchmark]
    public Trace ForwardFullTrace() => _model.Encoder.Forward(_input, TraceRequest.All).Trace;

    [Benchmark]
    public Tensor Rollout() => MixingMethods.Compute(MixingMethod.Rollout, _model.Encoder, _input);

    [Benchmark]
    public Tensor ValueZeroing() => MixingMethods.Compute(MixingMethod.ValueZeroing, _model.Encoder, _input);

    [Benchmark]
    public Tensor ValueZeroingByRerun() => Analysis.Methods.ValueZeroing.ComputeByRerun(_model.Encoder, _input);
}

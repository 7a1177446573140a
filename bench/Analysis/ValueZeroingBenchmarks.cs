using BenchmarkDotNet.Attributes;
using MixLens.Analysis.Methods;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;

namespace MixLens.Bench;

/// <summary>
/// Value Zeroing on the real all-MiniLM-L6-v2 (6 layers, d = 384, f = 1536, 12 heads), all layers of one text: the
/// fast path (<see cref="ValueZeroing.Compute"/>, ValueZeroing.FastPath.cs) against the literal re-run of every
/// patched layer (<see cref="ValueZeroing.ComputeByRerun"/>). The forward pass that records the trace is done once in
/// the setup, so both measure the analysis alone.
/// Run: <c>dotnet run -c Release --project bench -- --filter '*ValueZeroingBenchmarks*'</c>
/// </summary>
[MemoryDiagnoser]
public class ValueZeroingBenchmarks
{
    EncoderModel _model = null!;
    EncoderInput _input = null!;
    Trace _trace = null!;

    [Params(16, 128)]
    public int Tokens { get; set; }

    [GlobalSetup]
    public void Setup() => (_model, _input, _trace) = ValueZeroingInputs.Load(Tokens);

    [GlobalCleanup]
    public void Cleanup() => _model.Dispose();

    /// <summary>Fast path: exact perturbation propagation, one W_out GEMM of n² rows per layer.</summary>
    [Benchmark]
    public Tensor FastPath() => ValueZeroing.Compute(_model.Encoder, _input, trace: _trace);

    /// <summary>Reference: every patched layer re-run through the encoder (n + 1 copies per layer).</summary>
    [Benchmark(Baseline = true)]
    public Tensor Rerun() => ValueZeroing.ComputeByRerun(_model.Encoder, _input, hiddenStates: _trace);
}

/// <summary>The Value Zeroing fast path alone at n = 512 (the re-run would take minutes per call).</summary>
[MemoryDiagnoser]
public class ValueZeroingLongBenchmarks
{
    EncoderModel _model = null!;
    EncoderInput _input = null!;
    Trace _trace = null!;

    [Params(512)]
    public int Tokens { get; set; }

    [GlobalSetup]
    public void Setup() => (_model, _input, _trace) = ValueZeroingInputs.Load(Tokens);

    [GlobalCleanup]
    public void Cleanup() => _model.Dispose();

    [Benchmark]
    public Tensor FastPath() => ValueZeroing.Compute(_model.Encoder, _input, trace: _trace);
}

static class ValueZeroingInputs
{
    /// <summary>all-MiniLM-L6-v2, an English text cut to <paramref name="tokens"/> tokens, and its full trace.</summary>
    public static (EncoderModel, EncoderInput, Trace) Load(int tokens)
    {
        var model = EncoderModel.Load(SharedPaths.Model("all-MiniLM-L6-v2"));
        string text = string.Join(' ', Enumerable.Repeat("the quick brown fox jumps over the lazy dog while a cat watches", 60));
        var input = EncoderInput.From(model.Tokenizer.Encode(text, maxLength: tokens));
        if (input.Length != tokens) throw new InvalidOperationException($"the benchmark text gave {input.Length} tokens, not {tokens}");
        // ValueZeroing.Requirements holds the embeddings and every layer output, which the re-run reads as well
        var trace = model.Encoder.Forward(input, ValueZeroing.Requirements).Trace;
        return (model, input, trace);
    }
}

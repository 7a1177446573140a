using BenchmarkDotNet.Attributes;
using MixLens.Analysis.Methods;
using MixLens.Engine;
using MixLens.Engine.Model;

namespace MixLens.Bench;

/// <summary>
/// Exact attention flow (<see cref="AttentionFlow"/>) on the real all-MiniLM-L6-v2 (6 layers): L·n² max-flow problems
/// on graphs of up to L·n² edges, so the cost grows as n⁴; the head-mean attention is computed once in the setup.
/// Run: <c>dotnet run -c Release --project bench -- --filter '*AttentionFlowBenchmarks*'</c>
/// </summary>
[MemoryDiagnoser]
public class AttentionFlowBenchmarks
{
    EncoderModel _model = null!;
    Tensor _headMean = null!;

    [Params(24, 64)]
    public int Tokens { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _model = EncoderModel.Load(SharedPaths.Model("all-MiniLM-L6-v2"));
        string text = string.Join(' ', Enumerable.Repeat("the quick brown fox jumps over the lazy dog", 16));
        var input = EncoderInput.From(_model.Tokenizer.Encode(text, maxLength: Tokens));
        var trace = _model.Encoder.Forward(input, AttentionFlow.Requirements).Trace;
        _headMean = RawAttention.HeadMean(trace, _model.Encoder.Config.NumHiddenLayers);
    }

    [GlobalCleanup]
    public void Cleanup() => _model.Dispose();

    /// <summary>Every layer's flow, [L, n, n].</summary>
    [Benchmark(Baseline = true)]
    public Tensor AllLayers() => AttentionFlow.Compute(_headMean);

    /// <summary>The last layer's flow only.</summary>
    [Benchmark]
    public Tensor LastLayer() => AttentionFlow.Compute(_headMean, allLayers: false);
}

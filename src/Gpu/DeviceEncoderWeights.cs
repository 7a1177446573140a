using ILGPU;
using ILGPU.Runtime;
using MixLens.Engine.Model;

namespace MixLens.Gpu;

/// <summary>One layer's parameters on the device, in HF's layout (Linear weights [out, in], used transposed by the GEMM).</summary>
internal sealed record DeviceLayerWeights(
    ArrayView<float> Query, ArrayView<float> QueryBias, ArrayView<float> Key, ArrayView<float> KeyBias,
    ArrayView<float> Value, ArrayView<float> ValueBias, ArrayView<float> AttentionOutput, ArrayView<float> AttentionOutputBias,
    ArrayView<float> AttentionLayerNormWeight, ArrayView<float> AttentionLayerNormBias,
    ArrayView<float> Intermediate, ArrayView<float> IntermediateBias, ArrayView<float> Output, ArrayView<float> OutputBias,
    ArrayView<float> OutputLayerNormWeight, ArrayView<float> OutputLayerNormBias);

/// <summary>An encoder's layer weights uploaded once (the embeddings stay on the host, which computes them).</summary>
internal sealed class DeviceEncoderWeights : IDisposable
{
    readonly List<MemoryBuffer> _owned = [];
    public DeviceLayerWeights[] Layers { get; private init; } = [];

    public static DeviceEncoderWeights Upload(Accelerator accelerator, BertWeights weights)
    {
        var result = new DeviceEncoderWeights();
        ArrayView<float> Put(ReadOnlyMemory<float> data)
        {
            var buffer = accelerator.Allocate1D<float>(Math.Max(1, data.Length));
            ArrayView<float> view = buffer.View;
            view = view.SubView(0, data.Length);
            view.CopyFromCPU(data.Span);
            result._owned.Add(buffer);
            return view;
        }
        var layers = weights.Layers.Select(w => new DeviceLayerWeights(
            Put(w.QueryWeight), Put(w.QueryBias), Put(w.KeyWeight), Put(w.KeyBias),
            Put(w.ValueWeight), Put(w.ValueBias), Put(w.AttentionOutputWeight), Put(w.AttentionOutputBias),
            Put(w.AttentionLayerNormWeight), Put(w.AttentionLayerNormBias),
            Put(w.IntermediateWeight), Put(w.IntermediateBias), Put(w.OutputWeight), Put(w.OutputBias),
            Put(w.OutputLayerNormWeight), Put(w.OutputLayerNormBias))).ToArray();
        return new DeviceEncoderWeights { Layers = layers, _ownedInit = result._owned };
    }

    List<MemoryBuffer> _ownedInit { init => _owned = value; }

    public void Dispose()
    {
        foreach (var b in _owned) b.Dispose();
        _owned.Clear();
    }
}

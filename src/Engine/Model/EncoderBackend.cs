using MixLens.Engine.Tracing;

namespace MixLens.Engine.Model;

/// <summary>
/// Where a <see cref="BertEncoder"/> runs its layers: the seam between the encoder (validation, packing, embeddings,
/// results) and the compute that dominates a forward pass. The default is <see cref="Simd"/>, the managed SIMD kernels
/// of <c>MixLens.Kernels</c>; the ILGPU backend of <c>MixLens.Gpu</c> (a separate assembly, so the engine stays free
/// of run-time code generation and trimmable) runs the same layers on a CUDA device.
/// </summary>
/// <remarks>
/// A backend runs the layer stack of a packed batch and honours the forward's <see cref="TraceRequest"/> and
/// <see cref="Interventions.IActivationPatch"/> through the hooks it is handed: a sub-step that is traced or patched is
/// handed to the hooks as [T, width] rows (or per head), and a patched value is what the rest of the layer reads.
/// The taped forward of the gradient methods always runs on <see cref="Simd"/>.
/// </remarks>
public abstract class EncoderBackend
{
    /// <summary>The managed SIMD backend (the default).</summary>
    public static EncoderBackend Simd { get; } = new SimdEncoderBackend();

    /// <summary>A short description of the device, e.g. "cpu (SIMD, 16 threads)" or "cuda: NVIDIA H100 (sm_90)".</summary>
    public abstract string Device { get; }

    /// <summary>
    /// Runs layers <paramref name="firstLayer"/> .. <paramref name="lastLayer"/> − 1 of <paramref name="encoder"/> on the
    /// packed layer input <paramref name="x"/> [T, d] and returns the buffer holding the output [T, d] (its first T·d
    /// values; one of <paramref name="ws"/>'s buffers or the backend's own).
    /// </summary>
    internal abstract float[] RunLayers(BertEncoder encoder, int firstLayer, int lastLayer, float[] x, PackedBatch batch,
        ForwardWorkspace ws, StepHooks hooks);
}

/// <summary>The managed SIMD backend: <see cref="EncoderLayer.Forward"/> layer after layer in a pooled workspace.</summary>
internal sealed class SimdEncoderBackend : EncoderBackend
{
    public override string Device => "cpu (SIMD)";

    internal override float[] RunLayers(BertEncoder encoder, int firstLayer, int lastLayer, float[] x, PackedBatch batch,
        ForwardWorkspace ws, StepHooks hooks)
    {
        for (int l = firstLayer; l < lastLayer; l++)
        {
            // the output never aliases the input: layer l writes Hidden[l % 2] unless x already is that buffer
            var y = ReferenceEquals(x, ws.Hidden[l % 2]) ? ws.Hidden[(l + 1) % 2] : ws.Hidden[l % 2];
            EncoderLayer.Forward(l, encoder.ForwardWeights(l), encoder.Config, x, y, batch, ws, hooks);
            x = y;
        }
        return x;
    }
}

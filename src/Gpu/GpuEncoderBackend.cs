using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using MixLens.Analysis.Methods;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Gpu.Kernels;

namespace MixLens.Gpu;

/// <summary>
/// The encoder's layers and the Value Zeroing pair loop on an ILGPU accelerator: a CUDA device, or (tests) ILGPU's CPU
/// accelerator, which simulates a GPU and runs the same kernels. Set it as <see cref="BertEncoder.Backend"/>.
/// </summary>
/// <remarks>
/// <para>Per layer, in the order of EncoderLayer.Forward (n tokens of a text, T of the packed batch, d, f, H heads,
/// N the longest text): Q, K, V as three <see cref="GemmKernel"/> launches with the bias fused; the heads split into
/// padded blocks [B, H, N, d_head]; S = Q Kᵀ/√d_head as one batched GEMM over (text, head); padding keys masked;
/// softmax per row (<see cref="RowKernels.Softmax"/>); context = A V as one batched GEMM; heads merged; the output
/// projection with bias and residual fused; LayerNorm 1; W_in with bias and activation fused; W_out with bias and
/// residual fused; LayerNorm 2. Embeddings stay on the CPU (a gather), and so does everything outside the layers.</para>
/// <para>Weights are uploaded once per encoder (on its first forward) and kept; activations live in device buffers
/// that grow and are reused. A sub-step that the forward's trace asks for, or that a patch rewrites, is read back to
/// the host ([T, width] rows, or each (text, head) block), handed to the engine's hooks, and written back when patched;
/// nothing else leaves the device but the last layer's output.</para>
/// <para>Calls are serialised (one lock per backend). Dispose to free the device memory and the accelerator.</para>
/// <para>Not for NativeAOT or trimmed builds: ILGPU generates its kernels at run time.</para>
/// </remarks>
public sealed partial class GpuEncoderBackend : EncoderBackend, IValueZeroingPairs, IDisposable
{
    readonly Context _context;
    readonly Accelerator _accelerator;
    readonly DeviceBuffers _buffers;
    readonly ConditionalWeakTable<BertEncoder, DeviceEncoderWeights> _weights = new();
    readonly List<DeviceEncoderWeights> _allWeights = [];
    readonly Lock _gate = new();
    readonly MemoryBuffer1D<float, Stride1D.Dense> _none;
    readonly long _pairRowBudget;
    bool _disposed;

    readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs, int> _gemm;
    readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float> _layerNorm;
    readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, int, int> _softmax;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, int, int> _splitHeads;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, int, int> _mergeHeads;
    readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, int> _maskKeys;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>> _add;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ValueZeroingKernels.Pairs, int> _headSum;
    readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>, ArrayView<float>, ValueZeroingKernels.Pairs> _layerNorm1Scales;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ValueZeroingKernels.Pairs> _deltaX1;
    readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ValueZeroingKernels.Pairs> _deltaG;
    readonly Action<KernelConfig, ArrayView<float>, ArrayView<double>, ArrayView<double>, int, double> _layerNorm2Base;
    readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ValueZeroingKernels.Pairs> _distance;

    /// <summary>The launch sizes in use (<see cref="KernelGeometry.For"/>).</summary>
    public KernelGeometry Geometry { get; }

    public override string Device { get; }

    GpuEncoderBackend(Context context, Accelerator accelerator, string device)
    {
        _context = context;
        _accelerator = accelerator;
        Device = device;
        Geometry = KernelGeometry.For(accelerator);
        _buffers = new DeviceBuffers(accelerator);
        _none = accelerator.Allocate1D<float>(1);
        bool gpu = accelerator.AcceleratorType != AcceleratorType.CPU;
        // pair rows per Value Zeroing chunk: ΔZ and ΔG are [rows, f] each; a quarter of the device memory at most
        _pairRowBudget = gpu ? Math.Clamp(accelerator.MemorySize / 4 / (8L * 4096), 4096, 65536) : 2048;

        _gemm = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, GemmArgs, int>(GemmKernel.Kernel);
        _layerNorm = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float>(RowKernels.LayerNorm);
        _softmax = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, int, int>(RowKernels.Softmax);
        _splitHeads = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, int, int>(AttentionKernels.SplitHeads);
        _mergeHeads = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, int, int>(AttentionKernels.MergeHeads);
        _maskKeys = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, int>(AttentionKernels.MaskKeys);
        _add = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>(AttentionKernels.Add);
        _headSum = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ValueZeroingKernels.Pairs, int>(ValueZeroingKernels.HeadSum);
        _layerNorm1Scales = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>, ArrayView<float>, ValueZeroingKernels.Pairs>(ValueZeroingKernels.LayerNorm1Scales);
        _deltaX1 = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ValueZeroingKernels.Pairs>(ValueZeroingKernels.DeltaX1);
        _deltaG = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ValueZeroingKernels.Pairs>(ValueZeroingKernels.DeltaG);
        _layerNorm2Base = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<double>, ArrayView<double>, int, double>(ValueZeroingKernels.LayerNorm2Base);
        _distance = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ValueZeroingKernels.Pairs>(ValueZeroingKernels.Distance);
    }

    /// <summary>Opens the first CUDA device, or returns null with the reason.</summary>
    public static GpuEncoderBackend? TryCreateCuda(out string reason)
    {
        if (!RuntimeFeature.IsDynamicCodeSupported)
        {
            reason = "this build of mixlens is compiled ahead of time (NativeAOT), and ILGPU generates its GPU code at run time; use the JIT build (the .NET tool)";
            return null;
        }
        CudaLibrary.InstallResolver();
        Context? context = null;
        try
        {
            context = Context.Create(builder => builder.Cuda().Math(MathMode.Default));
            var devices = context.GetCudaDevices();
            if (devices.Count == 0)
            {
                reason = CudaLibrary.DriverPresent()
                    ? "the CUDA driver (libcuda) is present but reports no usable device"
                    : "no CUDA driver library found (libcuda.so.1 / nvcuda.dll): no NVIDIA GPU or driver on this machine";
                context.Dispose();
                return null;
            }
            var device = devices[0];
            var accelerator = device.CreateAccelerator(context);
            reason = "";
            return new GpuEncoderBackend(context, accelerator,
                $"cuda: {device.Name} (sm_{(int)device.Architecture!.Value.Major}{device.Architecture.Value.Minor}, {device.MemorySize / (1L << 20)} MiB, ILGPU {typeof(Context).Assembly.GetName().Version})");
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException
                                      or NotSupportedException or InvalidOperationException or CudaException)
        {
            context?.Dispose();
            reason = $"CUDA could not be initialised ({e.GetType().Name}: {e.Message})";
            return null;
        }
    }

    /// <summary>
    /// ILGPU's CPU accelerator as a small simulated GPU (tests, and a dry run of the GPU code path without a GPU):
    /// <paramref name="warpSize"/> threads a warp, <paramref name="warpsPerGroup"/> warps a group, one multiprocessor,
    /// always in Parallel mode (Sequential is ~70× slower). Slow: for small shapes only.
    /// </summary>
    public static GpuEncoderBackend CreateCpuSimulator(int warpSize = 4, int warpsPerGroup = 2)
    {
        var cpu = new CPUDevice(warpSize, warpsPerGroup, 1);
        var context = Context.Create(builder => builder.CPU(cpu).Math(MathMode.Default));
        var accelerator = cpu.CreateCPUAccelerator(context, CPUAcceleratorMode.Parallel);
        return new GpuEncoderBackend(context, accelerator, $"ilgpu-cpu (simulated GPU: warp {warpSize}, {warpSize * warpsPerGroup} threads a group)");
    }

    // ---------------------------------------------------------------- forward

    internal override float[] RunLayers(BertEncoder encoder, int firstLayer, int lastLayer, float[] x, PackedBatch batch,
        ForwardWorkspace ws, StepHooks hooks)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var c = encoder.Config;
            int T = batch.TotalTokens, d = c.HiddenSize;
            var weights = WeightsOf(encoder);
            var shape = new ForwardShape(this, batch, c);
            var hidden = new[] { _buffers.Get<float>("hidden0", (long)T * d), _buffers.Get<float>("hidden1", (long)T * d) };
            hidden[0].SubView(0, (long)T * d).CopyFromCPU(new ReadOnlySpan<float>(x, 0, T * d));
            int current = 0;
            for (int l = firstLayer; l < lastLayer; l++)
            {
                Layer(l, weights.Layers[l], c, hidden[current], hidden[1 - current], shape, hooks);
                current = 1 - current;
            }
            var y = ReferenceEquals(x, ws.Hidden[0]) ? ws.Hidden[1] : ws.Hidden[0];
            _accelerator.Synchronize();
            hidden[current].SubView(0, (long)T * d).CopyToCPU(new Span<float>(y, 0, T * d));
            return y;
        }
    }

    /// <summary>The batch's bookkeeping on the device.</summary>
    sealed class ForwardShape
    {
        public readonly int T, B, N, Heads, HeadDim;
        public readonly PackedBatch Batch;
        public readonly ArrayView<int> Starts, Lengths, RowText, KeyMask;
        public readonly bool Masked;

        public ForwardShape(GpuEncoderBackend backend, PackedBatch batch, EncoderConfig c)
        {
            Batch = batch;
            T = batch.TotalTokens; B = batch.Count; N = batch.MaxLength; Heads = c.NumAttentionHeads; HeadDim = c.HeadDim;
            Starts = backend._buffers.Upload<int>("starts", batch.Starts);
            Lengths = backend._buffers.Upload<int>("lengths", batch.Lengths);
            var rowText = new int[T];
            for (int s = 0; s < B; s++) Array.Fill(rowText, s, batch.Starts[s], batch.Lengths[s]);
            RowText = backend._buffers.Upload<int>("rowText", rowText);
            Masked = batch.KeyMasks.Any(m => m is not null);
            var keyMask = new int[Masked ? B * N : 1];
            if (Masked)
                for (int s = 0; s < B; s++)
                    for (int j = 0; j < batch.Lengths[s]; j++) keyMask[s * N + j] = batch.KeyMasks[s] is { } m && !m[j] ? 0 : 1;
            KeyMask = backend._buffers.Upload<int>("keyMask", keyMask);
        }
    }

    /// <summary>Y = Layer(X) on the device (the steps of EncoderLayer.Forward, with the same hooks).</summary>
    void Layer(int i, DeviceLayerWeights w, EncoderConfig c, ArrayView<float> x, ArrayView<float> y, ForwardShape s, StepHooks hooks)
    {
        int T = s.T, d = c.HiddenSize, f = c.IntermediateSize;
        long td = (long)T * d;
        var query = _buffers.Get<float>("query", td);
        var key = _buffers.Get<float>("key", td);
        var value = _buffers.Get<float>("value", td);
        var context = _buffers.Get<float>("context", td);
        var residual1 = _buffers.Get<float>("residual1", td);
        var norm1 = _buffers.Get<float>("norm1", td);
        var intermediate = _buffers.Get<float>("intermediate", (long)T * f);
        var residual2 = _buffers.Get<float>("residual2", td);

        // Q = X W_Qᵀ + b_Q,  K = X W_Kᵀ + b_K,  V = X W_Vᵀ + b_V                      [T, d]
        Linear(x, w.Query, w.QueryBias, query, T, d, d);
        RowsHook(hooks, i, LayerStep.Query, query, T, d);
        Linear(x, w.Key, w.KeyBias, key, T, d, d);
        RowsHook(hooks, i, LayerStep.Key, key, T, d);
        Linear(x, w.Value, w.ValueBias, value, T, d, d);
        RowsHook(hooks, i, LayerStep.Value, value, T, d);

        // context = concat_h softmax(Q_h K_hᵀ / √d_head + mask) V_h                    [T, d]
        Attention(i, query, key, value, context, s, hooks);
        RowsHook(hooks, i, LayerStep.Context, context, T, d);

        // attention output = context W_Oᵀ + b_O;  residual₁ = attention output + X     [T, d]
        LinearPlusResidual(hooks, i, LayerStep.AttentionOutput, "attentionOutput", context, w.AttentionOutput, w.AttentionOutputBias,
            x, residual1, T, d, d);
        RowsHook(hooks, i, LayerStep.AttentionResidual, residual1, T, d);

        // X₁ = LayerNorm₁(residual₁)
        LayerNorm(residual1, w.AttentionLayerNormWeight, w.AttentionLayerNormBias, norm1, T, d, c.LayerNormEps);
        RowsHook(hooks, i, LayerStep.AttentionLayerNorm, norm1, T, d);

        // intermediate = act(X₁ W_inᵀ + b_in)                                          [T, f]
        Linear(norm1, w.Intermediate, w.IntermediateBias, intermediate, T, f, d, activation: (int)EncoderLayer.ToGemm(c.HiddenAct));
        RowsHook(hooks, i, LayerStep.FfnIntermediate, intermediate, T, f);

        // ffn output = intermediate W_outᵀ + b_out;  residual₂ = ffn output + X₁         [T, d]
        LinearPlusResidual(hooks, i, LayerStep.FfnOutput, "ffnOutput", intermediate, w.Output, w.OutputBias, norm1, residual2, T, d, f);
        RowsHook(hooks, i, LayerStep.FfnResidual, residual2, T, d);

        // Y = LayerNorm₂(residual₂)
        LayerNorm(residual2, w.OutputLayerNormWeight, w.OutputLayerNormBias, y, T, d, c.LayerNormEps);
        RowsHook(hooks, i, LayerStep.Output, y, T, d);
    }

    /// <summary>
    /// residual = x W_Tᵀ + b + skip, the sublayer output plus the skip connection [rows, outFeatures]: fused into the
    /// GEMM's epilogue, unless the sublayer output itself (<paramref name="step"/>) is traced or patched, when it is
    /// written to its own buffer (<paramref name="bufferName"/>), hooked, and then added.
    /// </summary>
    void LinearPlusResidual(StepHooks hooks, int layer, LayerStep step, string bufferName, ArrayView<float> x,
        ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> skip, ArrayView<float> residual, int rows,
        int outFeatures, int inFeatures)
    {
        if (!hooks.Wants(layer, step))
        {
            Linear(x, weight, bias, residual, rows, outFeatures, inFeatures, residual: skip);
            return;
        }
        long size = (long)rows * outFeatures;
        var output = _buffers.Get<float>(bufferName, size);
        Linear(x, weight, bias, output, rows, outFeatures, inFeatures);
        RowsHook(hooks, layer, step, output, rows, outFeatures);
        _add((int)size, output, skip, residual);
    }

    /// <summary>Scores, mask, softmax and context of every (text, head) as batched launches over [B·H].</summary>
    void Attention(int layer, ArrayView<float> query, ArrayView<float> key, ArrayView<float> value, ArrayView<float> context,
        ForwardShape s, StepHooks hooks)
    {
        int B = s.B, H = s.Heads, N = s.N, dh = s.HeadDim;
        long blocks = (long)B * H * N * dh;
        var qh = _buffers.Get<float>("qh", blocks);
        var kh = _buffers.Get<float>("kh", blocks);
        var vh = _buffers.Get<float>("vh", blocks);
        var ch = _buffers.Get<float>("ch", blocks);
        var scores = _buffers.Get<float>("scores", (long)B * H * N * N);
        _splitHeads((int)blocks, query, qh, s.Starts, s.Lengths, H, dh, N);
        _splitHeads((int)blocks, key, kh, s.Starts, s.Lengths, H, dh, N);
        _splitHeads((int)blocks, value, vh, s.Starts, s.Lengths, H, dh, N);

        // S_h = Q_h K_hᵀ / √d_head                       [N, d_head] x [d_head, N] -> [query_pos, key_pos]
        Gemm(qh, kh, scores, null, null, new GemmArgs
        {
            M = N, N = N, K = dh, Lda = dh, Ldb = dh, Ldc = N, TransposeB = 1, Alpha = 1f / MathF.Sqrt(dh),
            BatchStrideA = (long)N * dh, BatchStrideB = (long)N * dh, BatchStrideC = (long)N * N,
        }, B * H);
        if (s.Masked) _maskKeys((int)((long)B * H * N * N), scores, s.KeyMask, s.Lengths, H, N);
        HeadsHook(hooks, layer, LayerStep.Scores, scores, s);

        // A_h = softmax(S_h) over keys
        _softmax(new KernelConfig(B * H * N, Geometry.RowGroup), scores, s.Lengths, H, N);
        HeadsHook(hooks, layer, LayerStep.Probs, scores, s);

        // context_h = A_h V_h                             [N, N] x [N, d_head] -> [N, d_head]
        Gemm(scores, vh, ch, null, null, new GemmArgs
        {
            M = N, N = dh, K = N, Lda = N, Ldb = dh, Ldc = dh, TransposeB = 0, Alpha = 1f,
            BatchStrideA = (long)N * N, BatchStrideB = (long)N * dh, BatchStrideC = (long)N * dh,
        }, B * H);
        _mergeHeads((int)((long)s.T * H * dh), ch, context, s.Starts, s.RowText, H, dh, N);
    }

    /// <summary>y = act(x Wᵀ + b) + residual for x [rows, in], W [out, in] as HF stores it.</summary>
    void Linear(ArrayView<float> x, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> y, int rows, int outFeatures,
        int inFeatures, ArrayView<float>? residual = null, int activation = 0)
        => Gemm(x, weight, y, bias, residual, new GemmArgs
        {
            M = rows, N = outFeatures, K = inFeatures, Lda = inFeatures, Ldb = inFeatures, Ldc = outFeatures, Ldr = outFeatures,
            TransposeB = 1, Alpha = 1f, Activation = activation,
        });

    /// <summary>Launches <see cref="GemmKernel"/> over (N tiles, M tiles, batch).</summary>
    internal void Gemm(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float>? bias, ArrayView<float>? residual,
        GemmArgs p, int batch = 1)
    {
        p.HasBias = bias is null ? 0 : 1;
        p.HasResidual = residual is null ? 0 : 1;
        int tile = Geometry.GemmTile;
        var config = new KernelConfig(
            new Index3D((p.N + tile - 1) / tile, (p.M + tile - 1) / tile, batch),
            new Index3D(Geometry.GemmSide, Geometry.GemmSide, 1),
            SharedMemoryConfig.RequestDynamic<float>(2 * tile * Geometry.GemmKTile));
        _gemm(config, a, b, c, bias ?? _none.View, residual ?? _none.View, p, Geometry.GemmKTile);
    }

    void LayerNorm(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y, int rows, int d, float eps)
        => _layerNorm(new KernelConfig(rows, Geometry.RowGroup), x, gamma, beta, y, d, eps);

    /// <summary>Reads a traced or patched [T, width] step back, runs the hooks, writes a patched one back.</summary>
    void RowsHook(StepHooks hooks, int layer, LayerStep step, ArrayView<float> activation, int rows, int width)
    {
        if (!hooks.Wants(layer, step)) return;
        int length = rows * width;
        var host = new float[length];
        _accelerator.Synchronize();
        activation.SubView(0, length).CopyToCPU(host.AsSpan());
        hooks.AfterRows(layer, step, host, width);
        if (hooks.Patches(layer, step)) activation.SubView(0, length).CopyFromCPU(new ReadOnlySpan<float>(host));
    }

    /// <summary>Reads a traced or patched [B, H, N, N] step back and hands each text's n×n block per head to the hooks.</summary>
    void HeadsHook(StepHooks hooks, int layer, LayerStep step, ArrayView<float> scores, ForwardShape s)
    {
        if (!hooks.Wants(layer, step)) return;
        int B = s.B, H = s.Heads, N = s.N;
        long length = (long)B * H * N * N;
        var host = new float[length];
        _accelerator.Synchronize();
        scores.SubView(0, length).CopyToCPU(host.AsSpan());
        var captures = hooks.PrepareHeadCaptures(layer, step);
        bool patched = hooks.Patches(layer, step);
        for (int b = 0; b < B; b++)
        {
            int n = s.Batch.Lengths[b];
            var block = new float[n * n];
            for (int h = 0; h < H; h++)
            {
                long origin = (long)(b * H + h) * N * N;
                for (int i = 0; i < n; i++) Array.Copy(host, origin + (long)i * N, block, i * n, n);
                hooks.AfterHead(layer, step, b, h, block, captures);
                if (patched)
                    for (int i = 0; i < n; i++) Array.Copy(block, i * n, host, origin + (long)i * N, n);
            }
        }
        if (patched) scores.SubView(0, length).CopyFromCPU(new ReadOnlySpan<float>(host));
    }

    DeviceEncoderWeights WeightsOf(BertEncoder encoder)
    {
        if (_weights.TryGetValue(encoder, out var existing)) return existing;
        var uploaded = DeviceEncoderWeights.Upload(_accelerator, encoder.Weights);
        _weights.Add(encoder, uploaded);
        _allWeights.Add(uploaded);
        return uploaded;
    }

    // ---------------------------------------------------------------- Value Zeroing pairs

    /// <inheritdoc/>
    public void Distances(ValueZeroingPairInputs x, Span<double> distances)
    {
        int n = x.Tokens, d = x.Hidden, f = x.Intermediate;
        if (distances.Length != n * n) throw new ArgumentException($"distances has {distances.Length} entries, expected n² = {n * n}", nameof(distances));
        int activation = x.Activation switch
        {
            Activation.Gelu => 1,
            Activation.GeluTanh => 2,
            Activation.Relu => 3,
            _ => throw new NotSupportedException($"activation {x.Activation} on the GPU"),
        };
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var probs = _buffers.Upload<float>("vz.probs", x.Probs);
            var uCentred = _buffers.Upload<float>("vz.u", x.UCentred);
            var wIn = _buffers.Upload<float>("vz.w", x.WIn);
            var centred = _buffers.Upload<float>("vz.centred", x.Centred);
            var variancePlusEps = _buffers.Upload<double>("vz.var", x.VariancePlusEps);
            var gamma1 = _buffers.Upload<float>("vz.gamma1", x.Gamma1);
            var q = _buffers.Upload<float>("vz.q", x.Q);
            var z = _buffers.Upload<float>("vz.z", x.Z);
            ArrayView<float> phiZ = x.PhiZ is null ? _none.View : _buffers.Upload<float>("vz.phi", x.PhiZ);
            var ffnResidual = _buffers.Upload<float>("vz.residual2", x.FfnResidual);
            var gamma2 = _buffers.Upload<double>("vz.gamma2", x.Gamma2);
            var output = _buffers.Upload<double>("vz.y", x.Output);
            var outputSquared = _buffers.Upload<double>("vz.yy", x.OutputSquared);
            var outputWeight = _buffers.Upload<float>("vz.wout", x.OutputWeight.Span);
            var centred2 = _buffers.Get<double>("vz.centred2", (long)n * d);
            var a2 = _buffers.Get<double>("vz.a2", n);
            var result = _buffers.Get<double>("vz.distances", (long)n * n);
            _layerNorm2Base(new KernelConfig(n, Geometry.RowGroup), ffnResidual, centred2, a2, d, x.Eps);

            // chunks of whole columns j: rows = J·n pairs, J ≥ 1
            long maxRows = Math.Min(_pairRowBudget, int.MaxValue / Math.Max(f, d));
            int perChunk = (int)Math.Max(1, Math.Min(n, maxRows / n));
            long capacity = (long)perChunk * n;
            var deltaX1 = _buffers.Get<float>("vz.dx1", capacity * d);
            var deltaZ = _buffers.Get<float>("vz.dz", capacity * f);
            var deltaG = _buffers.Get<float>("vz.dg", capacity * f);
            var deltaF = _buffers.Get<float>("vz.df", capacity * d);
            var invSigma2 = _buffers.Get<float>("vz.invsigma", capacity);
            var deltaS = _buffers.Get<float>("vz.deltas", capacity);
            for (int j0 = 0; j0 < n; j0 += perChunk)
            {
                int rows = Math.Min(perChunk, n - j0) * n;
                var p = new ValueZeroingKernels.Pairs
                {
                    N = n, D = d, F = f, Heads = x.Heads, H0 = x.FirstHead, H1 = x.EndHead, J0 = j0, Activation = activation,
                };
                // Σ_h A_h[i,j] ũ_h,j [rows, d] and Σ_h A_h[i,j] w_h,j [rows, f]
                _headSum(rows * d, probs, uCentred, deltaX1, p, d);
                _headSum(rows * f, probs, wIn, deltaZ, p, f);
                // σ′, Δs; ΔX₁; ΔZ and ΔG
                _layerNorm1Scales(new KernelConfig(rows, Geometry.RowGroup), deltaX1, centred, variancePlusEps, invSigma2, deltaS, p);
                _deltaX1(rows * d, deltaX1, centred, gamma1, invSigma2, deltaS, p);
                _deltaG(rows * f, deltaZ, q, z, phiZ, invSigma2, deltaS, deltaG, p);
                // ΔF = ΔG W_outᵀ (the output bias cancels)                                   [rows, d]
                Gemm(deltaG, outputWeight, deltaF, null, null, new GemmArgs
                {
                    M = rows, N = d, K = f, Lda = f, Ldb = f, Ldc = d, TransposeB = 1, Alpha = 1f,
                });
                // ΔY through LayerNorm 2, and C[i, j]
                _distance(new KernelConfig(rows, Geometry.RowGroup), deltaF, deltaX1, centred2, a2, gamma2, output, outputSquared, result, p);
            }
            _accelerator.Synchronize();
            result.SubView(0, (long)n * n).CopyToCPU(distances);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var w in _allWeights) w.Dispose();
            _allWeights.Clear();
            _buffers.Dispose();
            _none.Dispose();
            _accelerator.Dispose();
            _context.Dispose();
        }
    }
}

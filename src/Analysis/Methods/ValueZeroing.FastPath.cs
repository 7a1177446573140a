using System.Numerics.Tensors;
using MixLens.Analysis.Numerics;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Kernels;

namespace MixLens.Analysis.Methods;

/// <summary>
/// The Value Zeroing fast path: all n² perturbations (i, j) of one layer from per-token precomputations, so that only
/// the second FFN matrix is multiplied per pair. With u_h,j = v_h,j W_O,hᵀ (token j's value in head h through that
/// head's block of the attention output projection), ũ its centred copy, c_i the centred attention residual of token i,
/// σ_i its LayerNorm-1 scale and z_i the FFN pre-activation:
/// <code>
/// Δ_ij      = −Σ_h A_h[i,j] ũ_h,j                        centred change of attention residual i     (H·d per pair)
/// Δvar_ij   = (2 c_i·Δ_ij + Δ_ij·Δ_ij) / d,   σ′ = √(σ² + Δvar),  Δs = 1/σ′ − 1/σ (exact form, no cancellation)
/// ΔX₁_ij    = γ₁ ⊙ (Δ_ij/σ′ + c_i Δs)                    LayerNorm-1 output change                  (d per pair)
/// ΔZ_ij     = Δs · q_i − (1/σ′) Σ_h A_h[i,j] w_h,j       q_i = (γ₁⊙c_i) W_inᵀ, w_h,j = (γ₁⊙ũ_h,j) W_inᵀ  (H·f per pair)
/// ΔG_ij     = gelu(z_i + ΔZ_ij) − gelu(z_i)              <see cref="ActivationDelta.GeluErfRow(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>   (f per pair)
/// ΔF_ij     = ΔG_ij W_outᵀ                               the one GEMM with n² rows                  (f·d per pair)
/// ΔY_ij     = LayerNorm₂ change for ΔF_ij + ΔX₁_ij;  C[i, j] = ½‖û′ − û‖²  (float64, <see cref="LayerNormDelta"/>)
/// </code>
/// q_i (n rows) and w_h,j (n·H rows) are two GEMMs against W_in instead of n² rows, and W_O is applied to n·H head
/// slices instead of n² rows. The pairs go in tasks of one input token j × a block of output tokens i, each task on
/// one thread from start to end so that its buffers stay in that core's cache; the sums over heads,
/// Σ_h A_h[i,j] ũ_h,j and Σ_h A_h[i,j] w_h,j, are two small GEMMs per task ([rows, H] × [H, d] and
/// [rows, H] × [H, f]), which read ũ_·,j and w_·,j once per task instead of once per pair.
/// Cost per (i, j) pair: the literal re-run ≈ 4·d² + 2·d·f multiply-adds (Q, K, V, O and both FFN matrices), this
/// path ≈ d·f (W_out) + (H + 1)·f + H·d and a GELU increment per f. W_out is the floor of any exact method: GELU
/// separates W_in from W_out, so ΔG_ij differs for every pair, and LayerNorm 2 and the cosine need all of ΔF_ij
/// (bench/RESULTS.md times it alone). The perturbation is propagated as a difference at every step (never as the
/// difference of two float32 outputs), so distances of 1e-9 keep their digits.
/// </summary>
public static partial class ValueZeroing
{
    /// <summary>Output tokens i per task of the pair loop: a task's ΔZ and ΔG buffers ([rows, f] each, 384 KiB at
    /// f = 1536) and the rest of its working set fit one core's L2 cache.</summary>
    const int RowsPerTask = 64;

    /// <summary>One thread's buffers for the pairs (i, j) of one task: up to <see cref="RowsPerTask"/> output tokens i
    /// and one input token j.</summary>
    sealed class PairBuffers(int rows, int d, int f, int heads)
    {
        /// <summary>A_h[i, j] of the task's rows, as [rows, H].</summary>
        public readonly float[] Attention = new float[rows * heads];
        /// <summary>Σ_h A_h[i,j] ũ_h,j, then ΔX₁ [rows, d].</summary>
        public readonly float[] DeltaX1 = new float[rows * d];
        /// <summary>Σ_h A_h[i,j] w_h,j, then ΔZ [rows, f].</summary>
        public readonly float[] DeltaZ = new float[rows * f];
        /// <summary>ΔG [rows, f].</summary>
        public readonly float[] DeltaG = new float[rows * f];
        /// <summary>ΔF [rows, d].</summary>
        public readonly float[] DeltaF = new float[rows * d];
        /// <summary>ΔY of one row [d], float64.</summary>
        public readonly double[] DeltaY = new double[d];
        /// <summary>Scratch of <see cref="ActivationDelta.Apply"/> for the activations other than erf-GELU.</summary>
        public readonly float[] ActivationScratch = new float[f];
    }

    /// <summary>C_l [n, n] of one layer from its trace, written to <paramref name="destination"/>.</summary>
    /// <param name="config">the encoder configuration.</param>
    /// <param name="w">the layer's weights.</param>
    /// <param name="trace">a trace holding <see cref="Requirements"/> for this layer.</param>
    /// <param name="layer">the layer index.</param>
    /// <param name="head">null: zero v_j in all heads; h: only in head h.</param>
    /// <param name="destination">[n, n], row i = output token, column j = zeroed token; rows sum to 1 (or are all 0).</param>
    /// <param name="progress">receives the fraction of this layer's pair tasks done (null: none).</param>
    /// <param name="pairs">null: the pair loop on the CPU; else the device that runs it (<see cref="IValueZeroingPairs"/>).</param>
    public static void LayerMatrix(EncoderConfig config, LayerWeights w, Trace trace, int layer, int? head, Span<float> destination,
        IProgress<double>? progress = null, IValueZeroingPairs? pairs = null)
    {
        var value = trace[layer, LayerStep.Value];                     // V  [n, d] (value bias included)
        var probs = trace[layer, LayerStep.Probs].Data;                // A  [H, n, n]
        var attentionResidual = trace[layer, LayerStep.AttentionResidual];
        var x1 = trace[layer, LayerStep.AttentionLayerNorm];           // X₁ [n, d]
        var ffnResidual = trace[layer, LayerStep.FfnResidual];
        var output = trace[layer, LayerStep.Output];                   // Y  [n, d]
        int n = x1.Shape[0], d = config.HiddenSize, f = config.IntermediateSize;
        int heads = config.NumAttentionHeads, headDim = config.HeadDim;
        double eps = config.LayerNormEps;
        var gamma1 = w.AttentionLayerNormWeight.ToArray();
        int h0 = head ?? 0, h1 = head is int only ? only + 1 : heads;   // the zeroed heads

        // Per input token j and head h: ũ_h,j = centred(v_h,j W_O,hᵀ)   row j·H + h            [n·H, d]
        var uCentred = new float[n * heads * d];
        for (int h = h0; h < h1; h++)
            Gemm.MatMulNT(value.Data.AsSpan(h * headDim), d, w.AttentionOutputWeight.Span[(h * headDim)..], d,
                uCentred.AsSpan(h * d), heads * d, n, d, headDim);
        var uScaled = new float[n * heads * d];                        // γ₁ ⊙ ũ_h,j
        Parallel.For(0, n * heads, AnalysisThreads.Options, r =>
        {
            if (r % heads < h0 || r % heads >= h1) return;
            var u = uCentred.AsSpan(r * d, d);
            TensorPrimitives.Subtract(u, TensorPrimitives.Sum(u) / d, u);
            TensorPrimitives.Multiply(u, gamma1, uScaled.AsSpan(r * d, d));
        });
        // w_h,j = (γ₁ ⊙ ũ_h,j) W_inᵀ                                                           [n·H, f]
        var intermediateWeight = PackedMatrix.FromTransposed(w.IntermediateWeight.Span, f, d);
        var wIn = new float[n * heads * f];
        Gemm.MatMul(uScaled, d, intermediateWeight, wIn, f, n * heads);

        // Per output token i: c_i, 1/σ_i, q_i = (γ₁⊙c_i) W_inᵀ, z_i = X₁ W_inᵀ + b_in, Φ(z_i)
        var centred = new float[n * d];
        var scaledCentred = new float[n * d];
        var variancePlusEps = new double[n];
        Parallel.For(0, n, AnalysisThreads.Options, i =>
        {
            var r = attentionResidual.Row(i);
            double mean = 0;
            foreach (var v in r) mean += v;
            mean /= d;
            var c = centred.AsSpan(i * d, d);
            double sq = 0;
            for (int k = 0; k < d; k++)
            {
                double ck = r[k] - mean;
                c[k] = (float)ck;
                sq += ck * ck;
            }
            variancePlusEps[i] = sq / d + eps;
            TensorPrimitives.Multiply(c, gamma1, scaledCentred.AsSpan(i * d, d));
        });
        var q = new float[n * f];
        Gemm.MatMul(scaledCentred, d, intermediateWeight, q, f, n);
        var z = new float[n * f];
        Gemm.MatMul(x1.Data, d, intermediateWeight, z, f, n, new GemmEpilogue { Bias = w.IntermediateBias.Span });
        var phiZ = new float[n * f];
        bool gelu = config.HiddenAct == Activation.Gelu;
        if (gelu) Parallel.For(0, n, AnalysisThreads.Options, i => ActivationDelta.NormalCdf(z.AsSpan(i * f, f), phiZ.AsSpan(i * f, f)));
        var norm2 = new LayerNormDelta[n];
        var outputWide = new double[n * d];                            // Y in float64, and ‖y_i‖²
        var outputSquared = new double[n];
        for (int i = 0; i < n; i++)
        {
            norm2[i] = new LayerNormDelta(ffnResidual.Row(i), eps);
            var y = output.Row(i);
            for (int k = 0; k < d; k++) outputWide[i * d + k] = y[k];
            outputSquared[i] = WideDot.SumOfSquares(y);
        }
        var gamma2 = Array.ConvertAll(w.OutputLayerNormWeight.ToArray(), g => (double)g);

        var distances = new double[n * n];
        if (pairs is not null)
        {
            pairs.Distances(new ValueZeroingPairInputs
            {
                Tokens = n, Hidden = d, Intermediate = f, Heads = heads, FirstHead = h0, EndHead = h1,
                Activation = config.HiddenAct, Probs = probs, UCentred = uCentred, WIn = wIn, Centred = centred,
                VariancePlusEps = variancePlusEps, Gamma1 = gamma1, Q = q, Z = z, PhiZ = gelu ? phiZ : null,
                FfnResidual = ffnResidual.Data, Eps = eps, Gamma2 = gamma2, Output = outputWide, OutputSquared = outputSquared,
                OutputWeight = w.OutputWeight,
            }, distances);
            progress?.Report(1.0);
            NormaliseRows(distances, n, destination);
            return;
        }

        // The pairs as tasks of one input token j × a block of output tokens i, each task on one thread from the head
        // sums to the distance, so that its ΔZ and ΔG rows stay in that core's cache between the steps.
        var outputWeight = PackedMatrix.FromTransposed(w.OutputWeight.Span, d, f);   // W_out packed once for every task
        int rowsPerTask = Math.Min(n, RowsPerTask), blocks = (n + rowsPerTask - 1) / rowsPerTask, tasksDone = 0;
        Parallel.For(0, n * blocks, AnalysisThreads.Options, () => new PairBuffers(rowsPerTask, d, f, heads), (task, _, b) =>
        {
            int j = task / blocks, i0 = task % blocks * rowsPerTask, rows = Math.Min(rowsPerTask, n - i0);

            // Σ_h A_h[i,j] ũ_h,j and Σ_h A_h[i,j] w_h,j for the task's i, as [rows, H] × [H, d] and [rows, H] × [H, f]
            var a = b.Attention.AsSpan(0, rows * heads);
            a.Clear();
            for (int h = h0; h < h1; h++)
                for (int r = 0; r < rows; r++) a[r * heads + h] = probs[(h * n + i0 + r) * n + j];
            Gemm.MatMulNN(a, heads, uCentred.AsSpan(j * heads * d, heads * d), d, b.DeltaX1, d, rows, d, heads, parallel: false);
            Gemm.MatMulNN(a, heads, wIn.AsSpan(j * heads * f, heads * f), f, b.DeltaZ, f, rows, f, heads, parallel: false);

            // ΔX₁, ΔZ and ΔG of each pair
            for (int r = 0; r < rows; r++)
            {
                int i = i0 + r;
                var dx = b.DeltaX1.AsSpan(r * d, d);                   // holds Σ_h A ũ = −Δ_ij on entry
                var c = centred.AsSpan(i * d, d);
                double deltaVar = (-2 * WideDot.Dot(c, dx) + WideDot.SumOfSquares(dx)) / d;
                double va = variancePlusEps[i], sa = Math.Sqrt(va), sa2 = Math.Sqrt(va + deltaVar);
                float invSigma2 = (float)(1 / sa2);
                float deltaS = (float)(-deltaVar / (sa * sa2 * (sa + sa2)));

                TensorPrimitives.Multiply(dx, -invSigma2, dx);           // Δ/σ′
                TensorPrimitives.MultiplyAdd(c, deltaS, dx, dx);
                TensorPrimitives.Multiply(dx, gamma1, dx);

                var dz = b.DeltaZ.AsSpan(r * f, f);                    // holds Σ_h A w on entry
                TensorPrimitives.Multiply(dz, -invSigma2, dz);
                TensorPrimitives.MultiplyAdd(q.AsSpan(i * f, f), deltaS, dz, dz);

                if (gelu)
                    ActivationDelta.GeluErfRow(z.AsSpan(i * f, f), phiZ.AsSpan(i * f, f), dz, b.DeltaG.AsSpan(r * f, f));
                else
                    ActivationDelta.Apply(config.HiddenAct, z.AsSpan(i * f, f), dz, b.DeltaG.AsSpan(r * f, f), b.ActivationScratch);
            }

            // ΔF = ΔG W_outᵀ (the output bias cancels)                                            [rows, d]
            Gemm.MatMul(b.DeltaG.AsSpan(0, rows * f), f, outputWeight, b.DeltaF, d, rows, parallel: false);

            // ΔY = LayerNorm₂(residual₂ + ΔF + ΔX₁) − LayerNorm₂(residual₂);  C[i, j] = ½‖û′ − û‖²
            for (int r = 0; r < rows; r++)
            {
                int i = i0 + r;
                norm2[i].Apply(b.DeltaF.AsSpan(r * d, d), b.DeltaX1.AsSpan(r * d, d), gamma2, b.DeltaY);
                distances[i * n + j] = CosineDistanceOfIncrement(outputWide.AsSpan(i * d, d), outputSquared[i], b.DeltaY);
            }
            progress?.Report((double)Interlocked.Increment(ref tasksDone) / (n * blocks));
            return b;
        }, _ => { });
        NormaliseRows(distances, n, destination);
    }
}

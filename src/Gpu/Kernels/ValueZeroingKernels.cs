using ILGPU;

namespace MixLens.Gpu.Kernels;

/// <summary>
/// The pair loop of the Value Zeroing fast path (src/Analysis/Methods/ValueZeroing.FastPath.cs, whose equations and
/// names these follow) for a chunk of pairs: pair row r = (j − j0)·n + i for output token i and zeroed token j. Each
/// kernel is one step of the CPU loop; ΔF = ΔG W_outᵀ between them is a <see cref="GemmKernel"/> launch.
/// </summary>
public static class ValueZeroingKernels
{
    /// <summary>Scalars of one chunk launch.</summary>
    public struct Pairs
    {
        /// <summary>n tokens, d hidden, f FFN width, H heads; zeroed heads [H0, H1); first zeroed token j0 of the chunk.</summary>
        public int N, D, F, Heads, H0, H1, J0;
        /// <summary>A <see cref="MixLens.Kernels.GemmActivation"/> code of the FFN activation.</summary>
        public int Activation;
    }

    /// <summary>Σ_h A_h[i,j] src[(j·H + h)·width + k] → dst[r, k] for width = d (ũ → −Δ_ij) or f (w → Σ A w).</summary>
    public static void HeadSum(Index1D index, ArrayView<float> probs, ArrayView<float> src, ArrayView<float> dst, Pairs p, int width)
    {
        long k = index;
        int col = (int)(k % width);
        long r = k / width;
        int i = (int)(r % p.N), j = p.J0 + (int)(r / p.N);
        float sum = 0f;
        for (int h = p.H0; h < p.H1; h++)
            sum += probs[((long)h * p.N + i) * p.N + j] * src[((long)j * p.Heads + h) * width + col];
        dst[k] = sum;
    }

    /// <summary>
    /// Per pair row: Δvar = (−2 c_i·Σ + Σ·Σ)/d with Σ = Σ_h A ũ (float64), σ′ = √(σ² + ε + Δvar),
    /// 1/σ′ and Δs = −Δvar/(σ σ′ (σ + σ′)) (no cancellation), stored as float32 like the CPU loop.
    /// </summary>
    public static void LayerNorm1Scales(ArrayView<float> deltaX1, ArrayView<float> centred, ArrayView<double> variancePlusEps,
        ArrayView<float> invSigma2, ArrayView<float> deltaS, Pairs p)
    {
        var scratch = SharedMemory.Allocate<double>(RowKernels.MaxGroup);
        long r = Grid.IdxX;
        int i = (int)(r % p.N), t = Group.IdxX, g = Group.DimX;
        long dx = r * p.D, c = (long)i * p.D;
        double cdx = 0, dxdx = 0;
        for (int k = t; k < p.D; k += g)
        {
            double v = deltaX1[dx + k];
            cdx += centred[c + k] * v;
            dxdx += v * v;
        }
        cdx = RowKernels.GroupSum(scratch, cdx);
        dxdx = RowKernels.GroupSum(scratch, dxdx);
        if (t != 0) return;
        double deltaVar = (-2 * cdx + dxdx) / p.D;
        double va = variancePlusEps[i], sa = Math.Sqrt(va), sa2 = Math.Sqrt(va + deltaVar);
        invSigma2[r] = (float)(1 / sa2);
        deltaS[r] = (float)(-deltaVar / (sa * sa2 * (sa + sa2)));
    }

    /// <summary>ΔX₁ = γ₁ ⊙ (Δ/σ′ + c_i Δs), in place over Σ_h A ũ = −Δ.</summary>
    public static void DeltaX1(Index1D index, ArrayView<float> deltaX1, ArrayView<float> centred, ArrayView<float> gamma1,
        ArrayView<float> invSigma2, ArrayView<float> deltaS, Pairs p)
    {
        long k = index;
        int col = (int)(k % p.D);
        long r = k / p.D;
        int i = (int)(r % p.N);
        float v = deltaX1[k] * -invSigma2[r];
        v = centred[(long)i * p.D + col] * deltaS[r] + v;
        deltaX1[k] = v * gamma1[col];
    }

    /// <summary>ΔZ = Δs·q_i − (1/σ′)·Σ_h A w, then ΔG = act(z_i + ΔZ) − act(z_i) (<see cref="Increment"/>).</summary>
    public static void DeltaG(Index1D index, ArrayView<float> deltaZ, ArrayView<float> q, ArrayView<float> z, ArrayView<float> phiZ,
        ArrayView<float> invSigma2, ArrayView<float> deltaS, ArrayView<float> deltaG, Pairs p)
    {
        long k = index;
        int col = (int)(k % p.F);
        long r = k / p.F;
        int i = (int)(r % p.N);
        long base_ = (long)i * p.F + col;
        float dz = deltaZ[k] * -invSigma2[r];
        dz = q[base_] * deltaS[r] + dz;
        deltaG[k] = Increment(p.Activation, z[base_], p.Activation == 1 ? phiZ[base_] : 0f, dz);
    }

    /// <summary>
    /// act(z + Δ) − act(z) without cancellation (src/Analysis/Numerics/ActivationDelta.cs): erf-GELU as
    /// Δ·Φ(z) + (z + Δ)·∫Φ′ by 3-point Gauss–Legendre in float64 for |Δ| ≤ ½ (the CPU's scalar path), else
    /// (z + Δ)Φ(z + Δ) − zΦ(z); tanh-GELU through sinh/cosh of the difference; ReLU directly.
    /// </summary>
    public static float Increment(int activation, float z, float phiZ, float delta)
    {
        if (activation == 1)
        {
            double dd = delta, zz = z;
            if (dd <= 0.5 && dd >= -0.5)
            {
                const double HalfNode = 0.38729833462074170f, W0 = 8f / 9f, W1 = 5f / 9f;
                const double Scale = (float)(0.5 * 0.39894228040143267794);
                double m = zz + 0.5 * dd, h = HalfNode * dd;
                double integral = (W0 * DeviceMath.Exp(-0.5 * m * m)
                    + W1 * (DeviceMath.Exp(-0.5 * (m - h) * (m - h)) + DeviceMath.Exp(-0.5 * (m + h) * (m + h)))) * dd * Scale;
                return (float)(dd * phiZ + (zz + dd) * integral);
            }
            return (float)((zz + dd) * DeviceMath.Phi(zz + dd) - zz * DeviceMath.Phi(zz));
        }
        if (activation == 2)
        {
            double zz = z, dd = delta;
            if (dd == 0) return 0f;
            const double Sqrt2OverPi = 0.7978845608028654;
            double z2 = zz + dd;
            double u = Sqrt2OverPi * (zz + 0.044715 * zz * zz * zz);
            double u2 = Sqrt2OverPi * (z2 + 0.044715 * z2 * z2 * z2);
            double du = Sqrt2OverPi * dd * (1 + 0.044715 * (3 * zz * zz + 3 * zz * dd + dd * dd));
            double dtanh;
            if (u > 20 || u < -20 || u2 > 20 || u2 < -20) dtanh = DeviceMath.Tanh(u2) - DeviceMath.Tanh(u);
            else
            {
                double sinh = 0.5 * (DeviceMath.Exp(du) - DeviceMath.Exp(-du));
                double cosh = 0.5 * (DeviceMath.Exp(u) + DeviceMath.Exp(-u)), cosh2 = 0.5 * (DeviceMath.Exp(u2) + DeviceMath.Exp(-u2));
                dtanh = sinh / (cosh * cosh2);
            }
            return (float)(0.5 * dd * (1 + DeviceMath.Tanh(u2)) + 0.5 * zz * dtanh);
        }
        double a = (double)z + delta, b0 = z;
        return (float)((a > 0 ? a : 0.0) - (b0 > 0 ? b0 : 0.0));
    }

    /// <summary>LayerNorm 2's base rows: c2_i = residual₂_i − mean (float64) and a_i = var + ε; group per token i.</summary>
    public static void LayerNorm2Base(ArrayView<float> ffnResidual, ArrayView<double> centred2, ArrayView<double> a2, int d, double eps)
    {
        var scratch = SharedMemory.Allocate<double>(RowKernels.MaxGroup);
        long row = (long)Grid.IdxX * d;
        int t = Group.IdxX, g = Group.DimX;
        double partial = 0;
        for (int k = t; k < d; k += g) partial += ffnResidual[row + k];
        double mean = RowKernels.GroupSum(scratch, partial) / d;
        partial = 0;
        for (int k = t; k < d; k += g)
        {
            double ck = ffnResidual[row + k] - mean;
            centred2[row + k] = ck;
            partial += ck * ck;
        }
        double variance = RowKernels.GroupSum(scratch, partial);
        if (t == 0) a2[Grid.IdxX] = variance / d + eps;
    }

    /// <summary>
    /// Per pair row, all in float64 (<see cref="MixLens.Analysis.Numerics.LayerNormDelta"/> and
    /// ValueZeroing.CosineDistanceOfIncrement): e = ΔF + ΔX₁ − mean, Δvar = (2 c·e + e·e)/d, Δy = γ₂ ⊙ (e s′ + c Δs),
    /// then C[i, j] = ½‖Δy/‖y′‖ + y (1/‖y′‖ − 1/‖y‖)‖², written to distances[i·n + j].
    /// </summary>
    public static void Distance(ArrayView<float> deltaF, ArrayView<float> deltaX1, ArrayView<double> centred2, ArrayView<double> a2,
        ArrayView<double> gamma2, ArrayView<double> output, ArrayView<double> outputSquared, ArrayView<double> distances, Pairs p)
    {
        var scratch = SharedMemory.Allocate<double>(RowKernels.MaxGroup);
        long r = Grid.IdxX;
        int i = (int)(r % p.N), j = p.J0 + (int)(r / p.N), t = Group.IdxX, g = Group.DimX, d = p.D;
        long pr = r * d, ir = (long)i * d;

        double partial = 0;
        for (int k = t; k < d; k += g) partial += (double)deltaF[pr + k] + deltaX1[pr + k];
        double meanDelta = RowKernels.GroupSum(scratch, partial) / d;
        double ce = 0, ee = 0;
        for (int k = t; k < d; k += g)
        {
            double e = (double)deltaF[pr + k] + deltaX1[pr + k] - meanDelta;
            ce += centred2[ir + k] * e;
            ee += e * e;
        }
        ce = RowKernels.GroupSum(scratch, ce);
        ee = RowKernels.GroupSum(scratch, ee);
        double deltaVar = (2 * ce + ee) / d, a = a2[i];
        double rr = Math.Sqrt(a), r2 = Math.Sqrt(a + deltaVar);
        double s2 = 1 / r2, deltaS = -deltaVar / (rr * r2 * (rr + r2));

        // ΔY·y and ΔY·ΔY
        double ydy = 0, dydy = 0;
        for (int k = t; k < d; k += g)
        {
            double dy = DeltaY(deltaF, deltaX1, centred2, gamma2, pr, ir, k, meanDelta, s2, deltaS);
            ydy += output[ir + k] * dy;
            dydy += dy * dy;
        }
        ydy = RowKernels.GroupSum(scratch, ydy);
        dydy = RowKernels.GroupSum(scratch, dydy);
        double yy = outputSquared[i];
        double norm = Math.Sqrt(yy), norm2 = Math.Sqrt(yy + 2 * ydy + dydy);
        if (norm == 0 || norm2 == 0)
        {
            if (t == 0) distances[(long)i * p.N + j] = norm == norm2 ? 0 : 1;
            return;
        }
        double scale = -(2 * ydy + dydy) / (norm * norm2 * (norm + norm2)), inverseNorm2 = 1 / norm2;
        double sum = 0;
        for (int k = t; k < d; k += g)
        {
            double du = DeltaY(deltaF, deltaX1, centred2, gamma2, pr, ir, k, meanDelta, s2, deltaS) * inverseNorm2 + output[ir + k] * scale;
            sum += du * du;
        }
        sum = RowKernels.GroupSum(scratch, sum);
        if (t == 0) distances[(long)i * p.N + j] = 0.5 * sum;
    }

    static double DeltaY(ArrayView<float> deltaF, ArrayView<float> deltaX1, ArrayView<double> centred2, ArrayView<double> gamma2,
        long pr, long ir, int k, double meanDelta, double s2, double deltaS)
    {
        double e = (double)deltaF[pr + k] + deltaX1[pr + k] - meanDelta;
        return gamma2[k] * (e * s2 + centred2[ir + k] * deltaS);
    }
}

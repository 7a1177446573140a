using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using MixLens.Kernels.Internal;

namespace MixLens.Kernels;

/// <summary>The derivatives of the FFN activations, applied as the chain rule's element-wise factor: g ← g ⊙ act′(u)
/// at the pre-activations u. Serves both the backward (g a gradient) and forward-mode tangents (g a tangent).</summary>
/// <remarks>
/// <code>
///   GELU (erf):   act′(u) = Φ(u) + u φ(u),    Φ(u) = ½(1 + erf(u/√2)),  φ(u) = e^(−u²/2)/√(2π)
///   GELU (tanh):  act(u) = u σ(2t), t = √(2/π)(u + 0.044715u³):  act′(u) = σ(2t) + 2u σ(2t)(1 − σ(2t)) t′(u),
///                 t′(u) = √(2/π)(1 + 3·0.044715u²)
///   ReLU:         act′(u) = [u > 0]
/// </code>
/// GELU (erf): vectorised on the <see cref="VectorPaths.Active"/> path, Φ(u) in float64 lanes by the same erf as the
/// forward, φ(u) by the float32 Cephes exp of <see cref="Internal.VectorMath"/> (one ulp), the scalar tail in float64.
/// The others: float64 per element.
/// </remarks>
public static unsafe partial class Activations
{
    const double InvSqrt2Pi = 0.39894228040143267794;
    const double SqrtTwoOverPi = 0.7978845608028654;

    /// <summary>g[i] ← g[i] · act′(u[i]) for the activation <paramref name="activation"/>.</summary>
    /// <exception cref="ArgumentException">u and g differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="GemmActivation.None"/> or an unknown activation.</exception>
    public static void MultiplyByDerivative(GemmActivation activation, ReadOnlySpan<float> u, Span<float> g)
    {
        if (u.Length != g.Length) throw new ArgumentException($"Activations.MultiplyByDerivative: u has {u.Length} elements and g {g.Length}", nameof(g));
        switch (activation)
        {
            case GemmActivation.Gelu:
                fixed (float* pu = u, pg = g)
                {
                    int done = VectorPaths.Active switch
                    {
                        VectorPath.Vector512 => MultiplyByGeluDerivative<Vector512<float>, Vector512<double>, Simd512>(pu, pg, u.Length),
                        VectorPath.Vector256 => MultiplyByGeluDerivative<Vector256<float>, Vector256<double>, Simd256>(pu, pg, u.Length),
                        VectorPath.Vector128 => MultiplyByGeluDerivative<Vector128<float>, Vector128<double>, Simd128>(pu, pg, u.Length),
                        _ => 0,
                    };
                    for (int i = done; i < u.Length; i++) g[i] = (float)(g[i] * GeluDerivative(u[i]));
                }
                break;
            case GemmActivation.GeluTanh:
                for (int i = 0; i < u.Length; i++) g[i] = (float)(g[i] * GeluTanhDerivative(u[i]));
                break;
            case GemmActivation.Relu:
                for (int i = 0; i < u.Length; i++) if (!(u[i] > 0)) g[i] = 0;
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(activation), activation, "an activation with a derivative: Gelu, GeluTanh or Relu");
        }
    }

    /// <summary>derivative[i] = act′(u[i]) (e.g. once per layer, when many tangents share the pre-activations u).</summary>
    /// <exception cref="ArgumentException">u and derivative differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="GemmActivation.None"/> or an unknown activation.</exception>
    public static void Derivative(GemmActivation activation, ReadOnlySpan<float> u, Span<float> derivative)
    {
        derivative.Slice(0, Math.Min(u.Length, derivative.Length)).Fill(1f);
        MultiplyByDerivative(activation, u, derivative);
    }

    /// <summary>g ← g · (Φ(u) + u φ(u)) over the whole vectors of [0, n); returns how many elements it did.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static int MultiplyByGeluDerivative<TV, TVd, TOps>(float* u, float* g, int n)
        where TV : struct where TVd : struct where TOps : struct, ISimdOps<TV>, IWideningOps<TV, TVd>
    {
        int w = TOps.Count, i = 0;
        for (; i <= n - w; i += w)
        {
            TV v = TOps.Load(u + i);
            var (lo, hi) = TOps.Widen(v);
            // Φ(u) = ½ + ½ erf(u/√2), in float64 lanes
            TVd phiLo = TOps.MultiplyAddDouble(Erf<TV, TVd, TOps>(TOps.MultiplyDouble(lo, TOps.CreateDouble(InvSqrt2))), TOps.CreateDouble(0.5), TOps.CreateDouble(0.5));
            TVd phiHi = TOps.MultiplyAddDouble(Erf<TV, TVd, TOps>(TOps.MultiplyDouble(hi, TOps.CreateDouble(InvSqrt2))), TOps.CreateDouble(0.5), TOps.CreateDouble(0.5));
            // u φ(u) = u e^(−u²/2) / √(2π)
            TV density = VectorMath.Exp<TV, TOps>(TOps.Multiply(TOps.Multiply(v, v), TOps.Create(-0.5f)));
            TV slope = TOps.MultiplyAdd(TOps.Multiply(v, TOps.Create((float)InvSqrt2Pi)), density, TOps.Narrow(phiLo, phiHi));
            TOps.Store(g + i, TOps.Multiply(TOps.Load(g + i), slope));
        }
        return i;
    }

    /// <summary>d/du of GELU's erf form: Φ(u) + u φ(u).</summary>
    public static double GeluDerivative(double u) => 0.5 * (1 + Erf(u * InvSqrt2)) + u * InvSqrt2Pi * Math.Exp(-0.5 * u * u);

    /// <summary>d/du of GELU's tanh form ½u(1 + tanh t) = u σ(2t).</summary>
    public static double GeluTanhDerivative(double u)
    {
        double t = SqrtTwoOverPi * (u + 0.044715 * u * u * u);
        double sigma = 1 / (1 + Math.Exp(-2 * t));
        return sigma + 2 * u * sigma * (1 - sigma) * SqrtTwoOverPi * (1 + 3 * 0.044715 * u * u);
    }
}

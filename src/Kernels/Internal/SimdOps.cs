using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace MixLens.Kernels.Internal;

/// <summary>
/// The float vector operations the kernels are written against, one implementation per register width. Kernels are
/// generic methods over a struct ops type <c>TOps</c> (<see cref="Simd512"/>, …), so the JIT compiles one specialised copy
/// per width with every call inlined (the pattern of TensorPrimitives' <c>IUnaryOperator</c>). The vector type itself
/// is a second type parameter because <c>ISimdVector</c> is not public.
/// </summary>
internal unsafe interface ISimdOps<TV> where TV : struct
{
    /// <summary>Floats per vector.</summary>
    static abstract int Count { get; }
    /// <summary>
    /// Rows of A in the MatMulNT micro-kernel (each against 4 rows of B): 4×4 = 16 accumulators need the 32 registers of
    /// AVX-512; the 16-register AVX2/SSE files get 2×4.
    /// </summary>
    static abstract int NtRows { get; }
    static abstract TV Zero { get; }
    static abstract TV Create(float value);
    static abstract TV Load(float* p);
    static abstract void Store(float* p, TV v);
    static abstract TV Add(TV x, TV y);
    static abstract TV Subtract(TV x, TV y);
    static abstract TV Multiply(TV x, TV y);
    static abstract TV Divide(TV x, TV y);
    /// <summary>Lane-wise maximum, NaN-propagating like <see cref="Math.Max(float, float)"/>.</summary>
    static abstract TV Max(TV x, TV y);
    /// <summary>Round to nearest integer (ties to even).</summary>
    static abstract TV Round(TV x);
    /// <summary>p·2ⁿ for integral n with 2ⁿ·p a normal float, by adding n to the exponent bits of p.</summary>
    static abstract TV ScaleByPowerOfTwo(TV p, TV n);
    /// <summary>Lanewise <c>x &lt; y ? ifTrue : ifFalse</c> (false when either is NaN).</summary>
    static abstract TV SelectLessThan(TV x, TV y, TV ifTrue, TV ifFalse);
    /// <summary>x·y + addend, fused where the hardware has FMA (<c>MultiplyAddEstimate</c>: never a slow software FMA).</summary>
    static abstract TV MultiplyAdd(TV x, TV y, TV addend);
    /// <summary>[Σv0, Σv1, Σv2, Σv3]: the horizontal sums of four accumulators, reduced together.</summary>
    static abstract Vector128<float> Sum4(TV v0, TV v1, TV v2, TV v3);
    static abstract float Sum(TV v);
}

/// <summary>Float vectors widened to double, for work that needs float64 (LayerNorm statistics, the erf of GELU).</summary>
internal unsafe interface IWideningOps<TV, TVd> where TV : struct where TVd : struct
{
    static abstract TVd ZeroDouble { get; }
    static abstract TVd CreateDouble(double value);
    static abstract (TVd Lower, TVd Upper) Widen(TV v);
    static abstract TVd AddDouble(TVd x, TVd y);
    static abstract TVd SubtractDouble(TVd x, TVd y);
    static abstract TVd MultiplyDouble(TVd x, TVd y);
    static abstract TVd DivideDouble(TVd x, TVd y);
    static abstract TVd AbsDouble(TVd x);
    /// <summary>|value| with the sign bit of <paramref name="sign"/>.</summary>
    static abstract TVd CopySignDouble(TVd value, TVd sign);
    /// <summary>Lanewise <c>x ≥ y ? ifTrue : ifFalse</c>.</summary>
    static abstract TVd SelectGreaterOrEqualDouble(TVd x, TVd y, TVd ifTrue, TVd ifFalse);
    static abstract TVd MultiplyAddDouble(TVd x, TVd y, TVd addend);
    static abstract double SumDouble(TVd v);
    /// <summary>Rounds two double vectors back to one float vector (lower half from <paramref name="lower"/>).</summary>
    static abstract TV Narrow(TVd lower, TVd upper);
}

internal unsafe struct Simd512 : ISimdOps<Vector512<float>>, IWideningOps<Vector512<float>, Vector512<double>>
{
    public static int Count => Vector512<float>.Count;
    public static int NtRows => 4;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Create(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(float* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector512<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> x, Vector512<float> y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Subtract(Vector512<float> x, Vector512<float> y) => x - y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> x, Vector512<float> y) => x * y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Divide(Vector512<float> x, Vector512<float> y) => x / y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Max(Vector512<float> x, Vector512<float> y) => Vector512.Max(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Round(Vector512<float> x) => Vector512.Round(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> ScaleByPowerOfTwo(Vector512<float> p, Vector512<float> n)
        => (p.AsInt32() + Vector512.ShiftLeft(Vector512.ConvertToInt32(n), 23)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> SelectLessThan(Vector512<float> x, Vector512<float> y, Vector512<float> ifTrue, Vector512<float> ifFalse)
        => Vector512.ConditionalSelect(Vector512.LessThan(x, y), ifTrue, ifFalse);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MultiplyAdd(Vector512<float> x, Vector512<float> y, Vector512<float> addend) => Vector512.MultiplyAddEstimate(x, y, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sum4(Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3)
        => Simd256.Sum4(v0.GetLower() + v0.GetUpper(), v1.GetLower() + v1.GetUpper(), v2.GetLower() + v2.GetUpper(), v3.GetLower() + v3.GetUpper());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector512<float> v) => Vector512.Sum(v);

    public static Vector512<double> ZeroDouble => Vector512<double>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> CreateDouble(double value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static (Vector512<double> Lower, Vector512<double> Upper) Widen(Vector512<float> v) => Vector512.Widen(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> AddDouble(Vector512<double> x, Vector512<double> y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> SubtractDouble(Vector512<double> x, Vector512<double> y) => x - y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> MultiplyAddDouble(Vector512<double> x, Vector512<double> y, Vector512<double> addend) => Vector512.MultiplyAddEstimate(x, y, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> MultiplyDouble(Vector512<double> x, Vector512<double> y) => x * y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> DivideDouble(Vector512<double> x, Vector512<double> y) => x / y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> AbsDouble(Vector512<double> x) => Vector512.Abs(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> CopySignDouble(Vector512<double> value, Vector512<double> sign) => Vector512.CopySign(value, sign);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> SelectGreaterOrEqualDouble(Vector512<double> x, Vector512<double> y, Vector512<double> ifTrue, Vector512<double> ifFalse)
        => Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, y), ifTrue, ifFalse);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double SumDouble(Vector512<double> v) => Vector512.Sum(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Narrow(Vector512<double> lower, Vector512<double> upper) => Vector512.Narrow(lower, upper);
}

internal unsafe struct Simd256 : ISimdOps<Vector256<float>>, IWideningOps<Vector256<float>, Vector256<double>>
{
    public static int Count => Vector256<float>.Count;
    public static int NtRows => 2;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Create(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(float* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector256<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> x, Vector256<float> y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Subtract(Vector256<float> x, Vector256<float> y) => x - y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> x, Vector256<float> y) => x * y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Divide(Vector256<float> x, Vector256<float> y) => x / y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Max(Vector256<float> x, Vector256<float> y) => Vector256.Max(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Round(Vector256<float> x) => Vector256.Round(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> ScaleByPowerOfTwo(Vector256<float> p, Vector256<float> n)
        => (p.AsInt32() + Vector256.ShiftLeft(Vector256.ConvertToInt32(n), 23)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> SelectLessThan(Vector256<float> x, Vector256<float> y, Vector256<float> ifTrue, Vector256<float> ifFalse)
        => Vector256.ConditionalSelect(Vector256.LessThan(x, y), ifTrue, ifFalse);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MultiplyAdd(Vector256<float> x, Vector256<float> y, Vector256<float> addend) => Vector256.MultiplyAddEstimate(x, y, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sum4(Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3)
        => Simd128.Sum4(v0.GetLower() + v0.GetUpper(), v1.GetLower() + v1.GetUpper(), v2.GetLower() + v2.GetUpper(), v3.GetLower() + v3.GetUpper());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector256<float> v) => Vector256.Sum(v);

    public static Vector256<double> ZeroDouble => Vector256<double>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> CreateDouble(double value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static (Vector256<double> Lower, Vector256<double> Upper) Widen(Vector256<float> v) => Vector256.Widen(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> AddDouble(Vector256<double> x, Vector256<double> y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> SubtractDouble(Vector256<double> x, Vector256<double> y) => x - y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> MultiplyAddDouble(Vector256<double> x, Vector256<double> y, Vector256<double> addend) => Vector256.MultiplyAddEstimate(x, y, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> MultiplyDouble(Vector256<double> x, Vector256<double> y) => x * y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> DivideDouble(Vector256<double> x, Vector256<double> y) => x / y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> AbsDouble(Vector256<double> x) => Vector256.Abs(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> CopySignDouble(Vector256<double> value, Vector256<double> sign) => Vector256.CopySign(value, sign);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> SelectGreaterOrEqualDouble(Vector256<double> x, Vector256<double> y, Vector256<double> ifTrue, Vector256<double> ifFalse)
        => Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, y), ifTrue, ifFalse);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double SumDouble(Vector256<double> v) => Vector256.Sum(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Narrow(Vector256<double> lower, Vector256<double> upper) => Vector256.Narrow(lower, upper);
}

internal unsafe struct Simd128 : ISimdOps<Vector128<float>>, IWideningOps<Vector128<float>, Vector128<double>>
{
    public static int Count => Vector128<float>.Count;
    public static int NtRows => 2;
    public static Vector128<float> Zero => Vector128<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Create(float value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(float* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float* p, Vector128<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> x, Vector128<float> y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Subtract(Vector128<float> x, Vector128<float> y) => x - y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Multiply(Vector128<float> x, Vector128<float> y) => x * y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Divide(Vector128<float> x, Vector128<float> y) => x / y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Max(Vector128<float> x, Vector128<float> y) => Vector128.Max(x, y);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Round(Vector128<float> x) => Vector128.Round(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> ScaleByPowerOfTwo(Vector128<float> p, Vector128<float> n)
        => (p.AsInt32() + Vector128.ShiftLeft(Vector128.ConvertToInt32(n), 23)).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> SelectLessThan(Vector128<float> x, Vector128<float> y, Vector128<float> ifTrue, Vector128<float> ifFalse)
        => Vector128.ConditionalSelect(Vector128.LessThan(x, y), ifTrue, ifFalse);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MultiplyAdd(Vector128<float> x, Vector128<float> y, Vector128<float> addend) => Vector128.MultiplyAddEstimate(x, y, addend);

    /// <summary>Transposing reduction: two rounds of pairwise adds (SSE3 <c>haddps</c>, NEON <c>faddp</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sum4(Vector128<float> v0, Vector128<float> v1, Vector128<float> v2, Vector128<float> v3)
    {
        if (Sse3.IsSupported)
            return Sse3.HorizontalAdd(Sse3.HorizontalAdd(v0, v1), Sse3.HorizontalAdd(v2, v3));
        if (AdvSimd.Arm64.IsSupported)
            return AdvSimd.Arm64.AddPairwise(AdvSimd.Arm64.AddPairwise(v0, v1), AdvSimd.Arm64.AddPairwise(v2, v3));
        return Vector128.Create(Vector128.Sum(v0), Vector128.Sum(v1), Vector128.Sum(v2), Vector128.Sum(v3));
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector128<float> v) => Vector128.Sum(v);

    public static Vector128<double> ZeroDouble => Vector128<double>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> CreateDouble(double value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static (Vector128<double> Lower, Vector128<double> Upper) Widen(Vector128<float> v) => Vector128.Widen(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> AddDouble(Vector128<double> x, Vector128<double> y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> SubtractDouble(Vector128<double> x, Vector128<double> y) => x - y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> MultiplyAddDouble(Vector128<double> x, Vector128<double> y, Vector128<double> addend) => Vector128.MultiplyAddEstimate(x, y, addend);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> MultiplyDouble(Vector128<double> x, Vector128<double> y) => x * y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> DivideDouble(Vector128<double> x, Vector128<double> y) => x / y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> AbsDouble(Vector128<double> x) => Vector128.Abs(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> CopySignDouble(Vector128<double> value, Vector128<double> sign) => Vector128.CopySign(value, sign);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> SelectGreaterOrEqualDouble(Vector128<double> x, Vector128<double> y, Vector128<double> ifTrue, Vector128<double> ifFalse)
        => Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(x, y), ifTrue, ifFalse);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double SumDouble(Vector128<double> v) => Vector128.Sum(v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Narrow(Vector128<double> lower, Vector128<double> upper) => Vector128.Narrow(lower, upper);
}

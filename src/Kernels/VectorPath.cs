using System.Runtime.Intrinsics;

namespace MixLens.Kernels;

/// <summary>Widest SIMD register a kernel uses. The numeric value is the width in bits (0 for scalar code).</summary>
public enum VectorPath
{
    /// <summary>Plain scalar loops (no hardware SIMD, e.g. <c>DOTNET_EnableHWIntrinsic=0</c>).</summary>
    Scalar = 0,
    /// <summary><see cref="Vector128{T}"/>: SSE on x64 (e.g. <c>DOTNET_EnableAVX2=0</c>), NEON on Arm64.</summary>
    Vector128 = 128,
    /// <summary><see cref="Vector256{T}"/>: AVX2 + FMA (e.g. <c>DOTNET_EnableAVX512=0</c>).</summary>
    Vector256 = 256,
    /// <summary><see cref="Vector512{T}"/>: AVX-512F.</summary>
    Vector512 = 512,
}

/// <summary>
/// Which vector path the kernels take. MLAS-style: default to the baseline, then upgrade as the hardware allows
/// (<c>Vector512.IsHardwareAccelerated</c> → <c>Vector256</c> → <c>Vector128</c> → scalar). The choice is made once per
/// kernel call on the calling thread and then passed down to the workers, so a call never mixes paths.
/// </summary>
/// <remarks>
/// <c>Vector512.IsHardwareAccelerated</c> can be false on AVX-512 hardware (dotnet/runtime#86457, or
/// <c>DOTNET_PreferredVectorBitWidth=256</c>); benchmarks should log <see cref="Active"/>. In .NET 10 the switch that turns
/// AVX-512 off is <c>DOTNET_EnableAVX512=0</c> (the older <c>DOTNET_EnableAVX512F=0</c> no longer does).
/// </remarks>
public static class VectorPaths
{
    /// <summary>The widest path the hardware accelerates in this process.</summary>
    public static VectorPath Detected { get; } =
        Vector512.IsHardwareAccelerated ? VectorPath.Vector512 :
        Vector256.IsHardwareAccelerated ? VectorPath.Vector256 :
        Vector128.IsHardwareAccelerated ? VectorPath.Vector128 : VectorPath.Scalar;

    [ThreadStatic] static VectorPath? t_limit;

    /// <summary>The path kernels called from this thread take: <see cref="Detected"/>, lowered by any limit set on this thread.</summary>
    public static VectorPath Active => t_limit is { } limit && limit < Detected ? limit : Detected;

    /// <summary>
    /// Caps the path for kernel calls made from the current thread until the returned scope is disposed (tests use it to
    /// exercise the Vector256/Vector128/scalar code on an AVX-512 machine). Work that a kernel hands to other threads
    /// follows the caller's choice. Ops that delegate to <c>TensorPrimitives</c> keep its own (JIT-time) choice.
    /// </summary>
    internal static LimitScope LimitForCurrentThread(VectorPath max)
    {
        var previous = t_limit;
        t_limit = max;
        return new LimitScope(previous);
    }

    internal readonly struct LimitScope(VectorPath? previous) : IDisposable
    {
        public void Dispose() => t_limit = previous;
    }
}

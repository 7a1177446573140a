using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace MixLens.Engine.SafeTensors;

/// <summary>
/// Conversions between the reduced-precision float formats of safetensors and <see cref="float"/>.
/// Sources are raw little-endian bytes straight from the file (possibly unaligned: all supported targets, x64 and
/// Arm64, allow unaligned loads, and the vector paths use unaligned loads).
/// </summary>
/// <remarks>
/// F16 is IEEE binary16 (<see cref="Half"/>); BF16 is the upper 16 bits of an IEEE binary32, so widening is a 16-bit
/// left shift; F8_E4M3 (bias 7, no infinities, S.1111.111 = NaN, max 448) and F8_E5M2 (bias 15, IEEE-like
/// infinities and NaNs) follow the OCP 8-bit floating point specification and are widened through 256-entry tables.
/// </remarks>
internal static class HalfConversions
{
    static readonly float[] E4M3Table = BuildTable(exponentBits: 4, mantissaBits: 3, ieeeSpecials: false);
    static readonly float[] E5M2Table = BuildTable(exponentBits: 5, mantissaBits: 2, ieeeSpecials: true);

    /// <summary>Widens <c>src.Length / 2</c> IEEE half values to <paramref name="dst"/> (vectorised by TensorPrimitives).</summary>
    public static void Float16ToSingle(ReadOnlySpan<byte> src, Span<float> dst) =>
        TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(src), dst);

    /// <summary>Widens <c>src.Length / 2</c> bfloat16 values to <paramref name="dst"/>: each becomes <c>bits &lt;&lt; 16</c>.</summary>
    public static void BFloat16ToSingle(ReadOnlySpan<byte> src, Span<float> dst)
    {
        ReadOnlySpan<ushort> bits = MemoryMarshal.Cast<byte, ushort>(src);
        Span<uint> outBits = MemoryMarshal.Cast<float, uint>(dst);
        if (outBits.Length < bits.Length) throw new ArgumentException("destination too short", nameof(dst));
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int step = Vector<ushort>.Count, half = Vector<uint>.Count;
            for (; i <= bits.Length - step; i += step)
            {
                Vector.Widen(new Vector<ushort>(bits[i..]), out Vector<uint> low, out Vector<uint> high);
                Vector.ShiftLeft(low, 16).CopyTo(outBits[i..]);
                Vector.ShiftLeft(high, 16).CopyTo(outBits[(i + half)..]);
            }
        }
        for (; i < bits.Length; i++) outBits[i] = (uint)bits[i] << 16;
    }

    /// <summary>Narrows <c>src.Length / 8</c> doubles to <paramref name="dst"/> (round to nearest, overflow to ±∞).</summary>
    public static void Float64ToSingle(ReadOnlySpan<byte> src, Span<float> dst)
    {
        ReadOnlySpan<double> values = MemoryMarshal.Cast<byte, double>(src);
        for (int i = 0; i < values.Length; i++) dst[i] = (float)values[i];
    }

    /// <summary>Widens 8-bit floats (<see cref="DType.F8_E4M3"/> or <see cref="DType.F8_E5M2"/>), one byte each.</summary>
    public static void Float8ToSingle(ReadOnlySpan<byte> src, Span<float> dst, DType dtype)
    {
        float[] table = dtype switch
        {
            DType.F8_E4M3 => E4M3Table,
            DType.F8_E5M2 => E5M2Table,
            _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not an 8-bit float type"),
        };
        for (int i = 0; i < src.Length; i++) dst[i] = table[src[i]];
    }

    /// <summary>Rounds a float to bfloat16 bits (round to nearest, ties to even; NaN stays a quiet NaN of the same sign).</summary>
    public static ushort SingleToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x0040);
        uint roundingBias = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + roundingBias) >> 16);
    }

    /// <summary>Rounds floats to bfloat16 bits, written little-endian into <paramref name="dst"/> (2 bytes per value).</summary>
    public static void SingleToBFloat16(ReadOnlySpan<float> src, Span<byte> dst)
    {
        Span<ushort> bits = MemoryMarshal.Cast<byte, ushort>(dst);
        for (int i = 0; i < src.Length; i++) bits[i] = SingleToBFloat16(src[i]);
    }

    /// <summary>Rounds floats to IEEE half, written little-endian into <paramref name="dst"/> (2 bytes per value).</summary>
    public static void SingleToFloat16(ReadOnlySpan<float> src, Span<byte> dst) =>
        TensorPrimitives.ConvertToHalf(src, MemoryMarshal.Cast<byte, Half>(dst));

    /// <summary>
    /// All 256 values of a sign / exponent / mantissa 8-bit float. With <paramref name="ieeeSpecials"/> the all-ones
    /// exponent encodes ±∞ (mantissa 0) and NaN (otherwise); without it (E4M3 "fn") only the all-ones pattern is NaN.
    /// </summary>
    static float[] BuildTable(int exponentBits, int mantissaBits, bool ieeeSpecials)
    {
        var table = new float[256];
        int bias = (1 << (exponentBits - 1)) - 1;
        int maxExponent = (1 << exponentBits) - 1, mantissaMask = (1 << mantissaBits) - 1;
        for (int b = 0; b < 256; b++)
        {
            int sign = b >> 7, exponent = (b >> mantissaBits) & maxExponent, mantissa = b & mantissaMask;
            double magnitude;
            if (ieeeSpecials && exponent == maxExponent)
                magnitude = mantissa == 0 ? double.PositiveInfinity : double.NaN;
            else if (!ieeeSpecials && exponent == maxExponent && mantissa == mantissaMask)
                magnitude = double.NaN;
            else if (exponent == 0)
                magnitude = Math.ScaleB(mantissa, 1 - bias - mantissaBits);                         // subnormal
            else
                magnitude = Math.ScaleB((1 << mantissaBits) + mantissa, exponent - bias - mantissaBits); // normal
            table[b] = (float)(sign == 1 ? -magnitude : magnitude);
        }
        return table;
    }
}

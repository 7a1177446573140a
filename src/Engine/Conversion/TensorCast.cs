using System.Runtime.InteropServices;
using MixLens.Engine.SafeTensors;

namespace MixLens.Engine.Conversion;

/// <summary>
/// Builds the <see cref="TensorToWrite"/> of a converted tensor, casting floating-point data to the requested
/// <see cref="OutputDType"/>. Casts go through float32, as PyTorch's do: F16 and BF16 widen exactly; narrowing rounds to
/// nearest even (via <see cref="TensorToWrite.Float16"/> / <see cref="TensorToWrite.BFloat16"/>).
/// </summary>
public static class TensorCast
{
    /// <summary>The tensor to write for <paramref name="bytes"/> (contiguous little-endian elements of <paramref name="dtype"/>).</summary>
    public static TensorToWrite ToWrite(string name, DType dtype, long[] shape, byte[] bytes, OutputDType target)
    {
        DType? goal = target switch
        {
            OutputDType.F32 => DType.F32,
            OutputDType.F16 => DType.F16,
            OutputDType.BF16 => DType.BF16,
            _ => null,
        };
        bool castable = dtype is DType.F32 or DType.F16 or DType.BF16 or DType.F64;
        if (goal is null || !castable || goal == dtype) return new TensorToWrite(name, dtype, shape, bytes);

        float[] values = ToSingle(dtype, bytes);
        return goal switch
        {
            DType.F32 => TensorToWrite.Float32(name, values, shape),
            DType.F16 => TensorToWrite.Float16(name, values, shape),
            _ => TensorToWrite.BFloat16(name, values, shape),
        };
    }

    /// <summary>Widens (or for F64 rounds) raw elements to float32.</summary>
    public static float[] ToSingle(DType dtype, ReadOnlySpan<byte> bytes)
    {
        switch (dtype)
        {
            case DType.F32:
                return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
            case DType.F16:
                {
                    var halves = MemoryMarshal.Cast<byte, Half>(bytes);
                    var result = new float[halves.Length];
                    for (int i = 0; i < halves.Length; i++) result[i] = (float)halves[i];
                    return result;
                }
            case DType.BF16:
                {
                    var bits = MemoryMarshal.Cast<byte, ushort>(bytes);
                    var result = new float[bits.Length];
                    for (int i = 0; i < bits.Length; i++) result[i] = BitConverter.UInt32BitsToSingle((uint)bits[i] << 16);
                    return result;
                }
            case DType.F64:
                {
                    var doubles = MemoryMarshal.Cast<byte, double>(bytes);
                    var result = new float[doubles.Length];
                    for (int i = 0; i < doubles.Length; i++) result[i] = (float)doubles[i];
                    return result;
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a floating-point type");
        }
    }
}

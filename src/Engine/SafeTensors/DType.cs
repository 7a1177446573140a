namespace MixLens.Engine.SafeTensors;

/// <summary>
/// Element types of the safetensors format. Each member's name is the exact <c>dtype</c> string of the header
/// (e.g. <c>"F32"</c>, <c>"BF16"</c>, <c>"F8_E4M3"</c>); all multi-byte types are little-endian.
/// </summary>
/// <remarks>
/// Source: https://github.com/huggingface/safetensors (format spec, <c>Dtype</c> in <c>safetensors/src/tensor.rs</c>).
/// The 8-bit float types were appended after the original members so existing numeric values stay stable.
/// The packed 4-bit types of the reference implementation are not supported.
/// </remarks>
public enum DType
{
    /// <summary>Boolean, one byte per element (0 or 1).</summary>
    BOOL,
    /// <summary>Unsigned 8-bit integer.</summary>
    U8,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>Signed 16-bit integer.</summary>
    I16,
    /// <summary>Unsigned 16-bit integer.</summary>
    U16,
    /// <summary>IEEE 754 half precision (binary16).</summary>
    F16,
    /// <summary>bfloat16: the upper 16 bits of an IEEE float32.</summary>
    BF16,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Unsigned 32-bit integer.</summary>
    U32,
    /// <summary>IEEE 754 single precision (binary32).</summary>
    F32,
    /// <summary>IEEE 754 double precision (binary64).</summary>
    F64,
    /// <summary>Signed 64-bit integer.</summary>
    I64,
    /// <summary>Unsigned 64-bit integer.</summary>
    U64,
    /// <summary>8-bit float, 5 exponent bits and 2 mantissa bits, with infinities and NaNs (OCP FP8 E5M2).</summary>
    F8_E5M2,
    /// <summary>8-bit float, 4 exponent bits and 3 mantissa bits, no infinities (OCP FP8 E4M3, PyTorch <c>float8_e4m3fn</c>).</summary>
    F8_E4M3,
}

/// <summary>Sizes and header names of <see cref="DType"/> values.</summary>
public static class DTypeExtensions
{
    static readonly Dictionary<string, DType> ByName =
        Enum.GetValues<DType>().ToDictionary(d => d.ToString(), d => d, StringComparer.Ordinal);

    /// <summary>Bytes per element of <paramref name="dtype"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">not a defined <see cref="DType"/>.</exception>
    public static int SizeInBytes(this DType dtype) => dtype switch
    {
        DType.BOOL or DType.U8 or DType.I8 or DType.F8_E5M2 or DType.F8_E4M3 => 1,
        DType.I16 or DType.U16 or DType.F16 or DType.BF16 => 2,
        DType.I32 or DType.U32 or DType.F32 => 4,
        DType.I64 or DType.U64 or DType.F64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a safetensors dtype"),
    };

    /// <summary>True for the floating-point types (<see cref="SafeTensorsFile.GetFloat32"/> accepts exactly these).</summary>
    public static bool IsFloatingPoint(this DType dtype) =>
        dtype is DType.F32 or DType.F16 or DType.BF16 or DType.F64 or DType.F8_E5M2 or DType.F8_E4M3;

    /// <summary>True for the integer and boolean types (<see cref="SafeTensorsFile.GetInt64"/> accepts exactly these).</summary>
    public static bool IsInteger(this DType dtype) =>
        dtype is DType.BOOL or DType.U8 or DType.I8 or DType.I16 or DType.U16 or DType.I32 or DType.U32 or DType.I64 or DType.U64;

    /// <summary>The header string of <paramref name="dtype"/> (its member name, e.g. <c>"BF16"</c>).</summary>
    public static string ToHeaderName(this DType dtype) =>
        Enum.IsDefined(dtype) ? dtype.ToString() : throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a safetensors dtype");

    /// <summary>Parses a header <c>dtype</c> string; exact, case-sensitive match (numeric strings are rejected).</summary>
    public static bool TryParse(string name, out DType dtype) => ByName.TryGetValue(name, out dtype);
}

using MixLens.Engine.SafeTensors;

namespace MixLens.Engine.Conversion;

/// <summary>
/// The tensor order of the reference safetensors writer (<c>safetensors.torch.save_file</c>): by dtype, from the last
/// member of its <c>Dtype</c> enum to the first (so 8-byte types before 4-, 2- and 1-byte ones, which keeps every
/// tensor aligned to its element size), then by name (byte-wise). Writing in this order reproduces the reference
/// files byte for byte.
/// </summary>
/// <remarks>Source: https://github.com/huggingface/safetensors, <c>safetensors/src/tensor.rs</c>: <c>prepare</c>
/// sorts with <c>right.dtype().cmp(&amp;left.dtype()).then(lname.cmp(rname))</c>; the enum order there is BOOL, U8, I8,
/// F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64.</remarks>
public static class SafeTensorsOrder
{
    static readonly DType[] EnumOrder =
    [
        DType.BOOL, DType.U8, DType.I8, DType.F8_E5M2, DType.F8_E4M3, DType.I16, DType.U16, DType.F16, DType.BF16,
        DType.I32, DType.U32, DType.F32, DType.F64, DType.I64, DType.U64,
    ];

    /// <summary><paramref name="tensors"/> in the reference writer's order.</summary>
    public static List<TensorToWrite> Sort(IEnumerable<TensorToWrite> tensors) =>
        tensors.OrderByDescending(t => Array.IndexOf(EnumOrder, t.DType))
               .ThenBy(t => t.Name, Utf8Order)
               .ToList();

    /// <summary>Byte-wise comparison of the UTF-8 encodings (Rust's <c>str</c> order), which UTF-16 ordinal order
    /// differs from for characters beyond U+FFFF.</summary>
    static readonly Comparer<string> Utf8Order = Comparer<string>.Create((a, b) =>
        System.Text.Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(System.Text.Encoding.UTF8.GetBytes(b)));
}

using MixLens.Engine.SafeTensors;

namespace MixLens.Engine.Conversion;

/// <summary>
/// The typed storage classes PyTorch names in a checkpoint (<c>torch.FloatStorage</c>, <c>torch.HalfStorage</c>, …)
/// and the safetensors element type of each.
/// </summary>
/// <remarks>Source: PyTorch <c>torch/storage.py</c>, <c>_dtype_to_storage_type_map</c> (the names written by
/// <c>torch.save</c>; complex and quantized storages have no safetensors dtype and are not accepted).</remarks>
public static class TorchStorageTypes
{
    static readonly Dictionary<string, DType> ByName = new(StringComparer.Ordinal)
    {
        ["FloatStorage"] = DType.F32,
        ["DoubleStorage"] = DType.F64,
        ["HalfStorage"] = DType.F16,
        ["BFloat16Storage"] = DType.BF16,
        ["LongStorage"] = DType.I64,
        ["IntStorage"] = DType.I32,
        ["ShortStorage"] = DType.I16,
        ["CharStorage"] = DType.I8,
        ["ByteStorage"] = DType.U8,
        ["BoolStorage"] = DType.BOOL,
    };

    /// <summary>The element type of storage class <c>torch.NAME</c>, if it is one of the accepted ones.</summary>
    public static bool TryGetDType(string name, out DType dtype) => ByName.TryGetValue(name, out dtype);
}

namespace MixLens.Engine.SafeTensors;

/// <summary>Header entry of one tensor. Offsets are relative to the start of the data region (after the header).</summary>
public sealed record TensorInfo(string Name, DType DType, long[] Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// A memory-mapped, fully validated safetensors file (STUB: to be implemented).
/// </summary>
public sealed class SafeTensorsFile : IDisposable
{
    public static SafeTensorsFile Open(string path) => throw new NotImplementedException();
    public string Path => throw new NotImplementedException();
    public IReadOnlyDictionary<string, string> Metadata => throw new NotImplementedException();
    public IReadOnlyList<TensorInfo> Tensors => throw new NotImplementedException();
    public bool Contains(string name) => throw new NotImplementedException();
    public TensorInfo GetInfo(string name) => throw new NotImplementedException();
    public ReadOnlyMemory<float> GetFloat32(string name) => throw new NotImplementedException();
    public long[] GetInt64(string name) => throw new NotImplementedException();
    public void Dispose() { }
}

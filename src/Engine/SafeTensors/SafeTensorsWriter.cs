namespace MixLens.Engine.SafeTensors;

/// <summary>One tensor to write: its raw little-endian bytes must match dtype and shape.</summary>
public sealed record TensorToWrite(string Name, DType DType, long[] Shape, ReadOnlyMemory<byte> Data)
{
    public static TensorToWrite Float32(string name, float[] data, params long[] shape) => throw new NotImplementedException();
    public static TensorToWrite Int64(string name, long[] data, params long[] shape) => throw new NotImplementedException();
}

/// <summary>Writes safetensors files (STUB: to be implemented).</summary>
public static class SafeTensorsWriter
{
    public static void Write(string path, IEnumerable<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata = null)
        => throw new NotImplementedException();
}

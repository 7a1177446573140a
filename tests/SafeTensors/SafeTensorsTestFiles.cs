using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace MixLens.Tests.SafeTensors;

/// <summary>A fresh temporary directory, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateDirectory(
        System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mixlens-safetensors-" + Guid.NewGuid().ToString("N"))).FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>
/// Builds safetensors files byte by byte (independently of the writer under test), and decodes real files with a
/// plain BinaryReader + JsonDocument so the reader can be checked against an independent implementation.
/// </summary>
public static class SafeTensorsTestFiles
{
    /// <summary>Writes [8-byte LE length][header JSON][data]; <paramref name="headerLength"/> overrides the length prefix.</summary>
    public static string Craft(string path, string headerJson, byte[]? data = null, ulong? headerLength = null)
    {
        byte[] header = Encoding.UTF8.GetBytes(headerJson);
        return CraftBytes(path, header, data, headerLength);
    }

    public static string CraftBytes(string path, byte[] header, byte[]? data = null, ulong? headerLength = null)
    {
        using var stream = System.IO.File.Create(path);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, headerLength ?? (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(header);
        if (data != null) stream.Write(data);
        return path;
    }

    /// <summary>Header entry JSON for one tensor.</summary>
    public static string Entry(string name, string dtype, long[] shape, long begin, long end) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":[{string.Join(",", shape)}],\"data_offsets\":[{begin},{end}]}}";

    /// <summary>Reads one tensor's dtype, shape and raw bytes with BinaryReader and JsonDocument (no engine code).</summary>
    public static (string DType, long[] Shape, byte[] Bytes) ReadRaw(string path, string name)
    {
        using var reader = new BinaryReader(System.IO.File.OpenRead(path));
        long n = (long)reader.ReadUInt64();
        using var doc = JsonDocument.Parse(reader.ReadBytes((int)n));
        var entry = doc.RootElement.GetProperty(name);
        var offsets = entry.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        reader.BaseStream.Position = 8 + n + offsets[0];
        return (entry.GetProperty("dtype").GetString()!,
                entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(),
                reader.ReadBytes((int)(offsets[1] - offsets[0])));
    }

    /// <summary>Decodes F32 / F16 / BF16 raw bytes to float with scalar BitConverter code.</summary>
    public static float[] DecodeFloats(string dtype, byte[] bytes) => dtype switch
    {
        "F32" => Enumerable.Range(0, bytes.Length / 4).Select(i => BitConverter.ToSingle(bytes, 4 * i)).ToArray(),
        "F16" => Enumerable.Range(0, bytes.Length / 2).Select(i => (float)BitConverter.Int16BitsToHalf(BitConverter.ToInt16(bytes, 2 * i))).ToArray(),
        "BF16" => Enumerable.Range(0, bytes.Length / 2).Select(i => BitConverter.Int32BitsToSingle(BitConverter.ToUInt16(bytes, 2 * i) << 16)).ToArray(),
        _ => throw new ArgumentException(dtype),
    };

    public static byte[] Bytes<T>(params T[] values) where T : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}

using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace MixLens.Engine.SafeTensors;

/// <summary>One tensor to write: its raw little-endian bytes must match dtype and shape.</summary>
/// <remarks>The helpers copy the given array, so later changes to it do not affect what is written.</remarks>
public sealed record TensorToWrite(string Name, DType DType, long[] Shape, ReadOnlyMemory<byte> Data)
{
    /// <summary>An F32 tensor.</summary>
    /// <exception cref="ArgumentException">negative dimension, or <c>data.Length</c> ≠ shape product.</exception>
    public static TensorToWrite Float32(string name, float[] data, params long[] shape)
    {
        CheckLength(name, data, shape);
        return new(name, DType.F32, shape, MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
    }

    /// <summary>An I64 tensor.</summary>
    /// <exception cref="ArgumentException">negative dimension, or <c>data.Length</c> ≠ shape product.</exception>
    public static TensorToWrite Int64(string name, long[] data, params long[] shape)
    {
        CheckLength(name, data, shape);
        return new(name, DType.I64, shape, MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
    }

    /// <summary>An F16 tensor from float32 values, rounded to the nearest half (overflow becomes ±∞).</summary>
    /// <exception cref="ArgumentException">negative dimension, or <c>data.Length</c> ≠ shape product.</exception>
    public static TensorToWrite Float16(string name, float[] data, params long[] shape)
    {
        CheckLength(name, data, shape);
        var bytes = new byte[data.Length * 2];
        HalfConversions.SingleToFloat16(data, bytes);
        return new(name, DType.F16, shape, bytes);
    }

    /// <summary>A BF16 tensor from float32 values, rounded to nearest (ties to even).</summary>
    /// <exception cref="ArgumentException">negative dimension, or <c>data.Length</c> ≠ shape product.</exception>
    public static TensorToWrite BFloat16(string name, float[] data, params long[] shape)
    {
        CheckLength(name, data, shape);
        var bytes = new byte[data.Length * 2];
        HalfConversions.SingleToBFloat16(data, bytes);
        return new(name, DType.BF16, shape, bytes);
    }

    static void CheckLength<T>(string name, T[] data, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        long count = SafeTensorsWriter.ElementCount(name, shape);
        if (count != data.Length)
            throw new ArgumentException(
                $"tensor '{name}': {data.Length} values do not match shape [{string.Join(", ", shape)}] ({count} elements)", nameof(data));
    }
}

/// <summary>
/// Writes safetensors files (format: https://github.com/huggingface/safetensors).
/// </summary>
/// <remarks>
/// <para>Layout: 8-byte little-endian header length N; N bytes of compact UTF-8 JSON, <c>"__metadata__"</c> first
/// (when given), then the tensors in the given order with contiguous <c>data_offsets</c>, padded with spaces so that N
/// is a multiple of 8 (so the data region starts 8-byte aligned, as the reference writer does); then the tensors'
/// bytes back to back. Individual tensors are aligned to their element size when the caller orders them by
/// decreasing element size (the reference writer sorts that way; this one keeps the caller's order). Files written
/// here are read by <see cref="SafeTensorsFile"/> and by the reference implementations.</para>
/// <para>Atomicity: everything is validated first; the file is then written to a temporary file in the destination
/// directory, flushed to disk, and renamed over <c>path</c>. On any failure the temporary file is deleted and an
/// existing file at <c>path</c> is left untouched. (On Windows the final rename fails while the destination is
/// memory-mapped, e.g. by an open <see cref="SafeTensorsFile"/>; on Linux the old mapping keeps the old contents.)</para>
/// </remarks>
public static class SafeTensorsWriter
{
    /// <summary>Writes <paramref name="tensors"/> (in order) and optional string <paramref name="metadata"/> to <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException">a null tensor, name, shape or metadata entry; a duplicate name or the reserved
    /// name <c>__metadata__</c>; an undefined dtype; a negative dimension or overflowing shape; data whose byte length
    /// is not shape product × dtype size. Nothing is written then.</exception>
    /// <exception cref="IOException">the file system failed (e.g. missing directory); <paramref name="path"/> is unchanged.</exception>
    public static void Write(string path, IEnumerable<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        Validate(list, metadata);
        byte[] header = BuildHeader(list, metadata);

        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath)!;
        string temp = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Span<byte> prefix = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
                stream.Write(prefix);
                stream.Write(header);
                foreach (var t in list) stream.Write(t.Data.Span);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>Product of <paramref name="shape"/>, checking for negative dimensions and overflow.</summary>
    /// <exception cref="ArgumentException">negative dimension or overflow.</exception>
    internal static long ElementCount(string name, long[] shape)
    {
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new ArgumentException($"tensor '{name}': negative dimension {d} in shape [{string.Join(", ", shape)}]", nameof(shape));
            try { count = checked(count * d); }
            catch (OverflowException) { throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] overflows", nameof(shape)); }
        }
        return count;
    }

    static void Validate(List<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i] ?? throw new ArgumentException($"tensor #{i} is null", nameof(tensors));
            if (t.Name == null) throw new ArgumentException($"tensor #{i} has a null name", nameof(tensors));
            if (t.Name == SafeTensorsHeader.MetadataKey)
                throw new ArgumentException($"tensor #{i}: the name '{SafeTensorsHeader.MetadataKey}' is reserved for metadata", nameof(tensors));
            if (!names.Add(t.Name)) throw new ArgumentException($"duplicate tensor name '{t.Name}'", nameof(tensors));
            if (!Enum.IsDefined(t.DType)) throw new ArgumentException($"tensor '{t.Name}': undefined dtype {(int)t.DType}", nameof(tensors));
            if (t.Shape == null) throw new ArgumentException($"tensor '{t.Name}' has a null shape", nameof(tensors));
            long count = ElementCount(t.Name, t.Shape);
            long expected;
            try { expected = checked(count * t.DType.SizeInBytes()); }
            catch (OverflowException) { throw new ArgumentException($"tensor '{t.Name}': shape [{string.Join(", ", t.Shape)}] overflows", nameof(tensors)); }
            if (expected != t.Data.Length)
                throw new ArgumentException(
                    $"tensor '{t.Name}': {t.Data.Length} data bytes, but shape [{string.Join(", ", t.Shape)}] with dtype {t.DType} needs {expected} bytes",
                    nameof(tensors));
        }
        if (metadata != null)
            foreach (var (key, value) in metadata)
                if (key == null || value == null)
                    throw new ArgumentException($"metadata entry '{key}' has a null key or value", nameof(metadata));
    }

    /// <summary>The header JSON, space-padded to a multiple of 8 bytes.</summary>
    static byte[] BuildHeader(List<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        // Relaxed escaping keeps non-ASCII names readable; the header is UTF-8 JSON, never embedded in HTML.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(SafeTensorsHeader.MetadataKey);
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in tensors)
            {
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", t.DType.ToHeaderName());
                json.WriteStartArray("shape");
                foreach (long d in t.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + t.Data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += t.Data.Length;
            }
            json.WriteEndObject();
        }
        int padded = (buffer.WrittenCount + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }
}

using System.Buffers.Binary;
using System.Numerics;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace MixLens.Engine.SafeTensors;

/// <summary>Header entry of one tensor. Offsets are relative to the start of the data region (after the header).</summary>
public sealed record TensorInfo(string Name, DType DType, long[] Shape, long Begin, long End)
{
    /// <summary>Product of the dimensions (1 for a scalar, shape <c>[]</c>).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Size of the tensor's data in bytes (<c>End - Begin</c>).</summary>
    public long ByteLength => End - Begin;
}

/// <summary>
/// A memory-mapped, fully validated safetensors file.
/// </summary>
/// <remarks>
/// <para><b>Format</b> (https://github.com/huggingface/safetensors): 8 bytes little-endian unsigned header length N;
/// N bytes of UTF-8 JSON mapping tensor names to <c>{"dtype", "shape", "data_offsets": [begin, end]}</c> plus an
/// optional <c>"__metadata__"</c> string map (the JSON may be padded with trailing spaces); then the data region,
/// little-endian, row-major, with offsets relative to its start.</para>
/// <para><b>Validation</b> happens entirely in <see cref="Open"/>, which throws <see cref="SafeTensorsException"/> (the
/// message names the file and, where relevant, the tensor) for: a missing or unreadable file; a file shorter than 8
/// bytes; a header length over 100,000,000 bytes or past the end of the file; a header that is not UTF-8, not JSON or
/// not an object; an entry that is not an object, lacks dtype/shape/data_offsets or has wrongly typed values; an
/// unknown dtype; negative or overflowing dimensions; reversed or out-of-range offsets; a byte length that is not
/// shape product × dtype size; overlapping tensors; tensors not tiling the data region exactly (gaps or trailing
/// bytes, as the reference reader rejects); duplicate tensor names or keys; non-string metadata values.</para>
/// <para><b>Memory</b>: the file stays mapped read-only until <see cref="Dispose"/>. F32 tensors are returned in place
/// (zero copy); other float types are widened once and cached. Memory obtained from this file must not be used after
/// it is disposed (for mapped tensors, <c>.Span</c> then throws <see cref="ObjectDisposedException"/>).</para>
/// <para><b>Threading</b>: after <see cref="Open"/> returns, all members are safe to call concurrently (the caches are
/// concurrent and each conversion runs once). <see cref="Dispose"/> must not race with readers.</para>
/// </remarks>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    const int LengthPrefixBytes = 8;

    readonly MappedFile _map;
    readonly long _dataStart;
    readonly IReadOnlyList<TensorInfo> _tensors;
    readonly Dictionary<string, TensorInfo> _byName;
    readonly IReadOnlyDictionary<string, string> _metadata;
    readonly ConcurrentDictionary<string, Lazy<ReadOnlyMemory<float>>> _floats = new(StringComparer.Ordinal);

    SafeTensorsFile(MappedFile map, long dataStart, SafeTensorsHeader header)
    {
        _map = map;
        _dataStart = dataStart;
        _tensors = header.Tensors;
        _metadata = header.Metadata;
        _byName = header.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Maps and validates the safetensors file at <paramref name="path"/>.</summary>
    /// <exception cref="SafeTensorsException">the file is missing, unreadable, or violates the format (see the class remarks).</exception>
    /// <exception cref="PlatformNotSupportedException">a big-endian machine.</exception>
    public static SafeTensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("the safetensors reader maps little-endian data in place and needs a little-endian machine");
        string fullPath = System.IO.Path.GetFullPath(path);
        var map = MappedFile.Open(fullPath, LengthPrefixBytes);
        try
        {
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(map.Span(0, LengthPrefixBytes));
            if (headerLength > SafeTensorsHeader.MaxHeaderLength)
                throw new SafeTensorsException(
                    $"{fullPath}: header length {headerLength} exceeds the {SafeTensorsHeader.MaxHeaderLength}-byte limit (corrupt length prefix or not a safetensors file)");
            long dataStart = LengthPrefixBytes + (long)headerLength;
            if (dataStart > map.Length)
                throw new SafeTensorsException(
                    $"{fullPath}: header length {headerLength} runs past the end of the file ({map.Length} bytes; truncated?)");
            var header = SafeTensorsHeader.Parse(map.Span(LengthPrefixBytes, (int)headerLength), map.Length - dataStart, fullPath);
            return new SafeTensorsFile(map, dataStart, header);
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    /// <summary>Full path of the file.</summary>
    public string Path => _map.Path;

    /// <summary>The <c>__metadata__</c> map of the header (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata => _metadata;

    /// <summary>All tensors, in the order they appear in the header (not necessarily offset order).</summary>
    public IReadOnlyList<TensorInfo> Tensors => _tensors;

    /// <summary>True when the file holds a tensor named <paramref name="name"/> (ordinal comparison).</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The header entry of <paramref name="name"/>.</summary>
    /// <exception cref="SafeTensorsException">no such tensor (the message lists close names, if any).</exception>
    public TensorInfo GetInfo(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_byName.TryGetValue(name, out var info)) return info;
        var close = CloseNames(name);
        throw new SafeTensorsException(
            $"tensor '{name}' not found in {Path} ({_tensors.Count} tensors" +
            (close.Count > 0 ? $"; did you mean {string.Join(", ", close.Select(n => $"'{n}'"))}?)" : ")"));
    }

    /// <summary>
    /// The tensor as float32, row-major. F32 is the mapped file itself (zero copy; the returned memory is backed by a
    /// <see cref="System.Buffers.MemoryManager{T}"/> over the mapping). F16, BF16, F8_E4M3 and F8_E5M2 are widened
    /// exactly and F64 is rounded to float32, once; later calls return the same cached memory.
    /// </summary>
    /// <exception cref="SafeTensorsException">no such tensor; not a floating-point dtype; more than <see cref="int.MaxValue"/> elements.</exception>
    /// <exception cref="ObjectDisposedException">the file has been disposed.</exception>
    public ReadOnlyMemory<float> GetFloat32(string name)
    {
        var info = GetInfo(name);
        if (!info.DType.IsFloatingPoint())
            throw new SafeTensorsException(
                $"{Path}: tensor '{name}' has dtype {info.DType}, which cannot be read as float32 (expected F32, F16, BF16, F64 or F8); use GetInt64 for integer tensors");
        _map.ThrowIfDisposed();
        return _floats.GetOrAdd(name, static (_, state) =>
            new Lazy<ReadOnlyMemory<float>>(() => state.file.LoadFloat32(state.info)), (file: this, info)).Value;
    }

    /// <summary>
    /// The tensor as a new <c>long[]</c>, row-major: I64 is copied; I32, I16, I8, U8, U16, U32 and BOOL (0/1) are
    /// widened; U64 is accepted when every value fits in a <see cref="long"/>.
    /// </summary>
    /// <exception cref="SafeTensorsException">no such tensor; not an integer dtype; a U64 value above <see cref="long.MaxValue"/>.</exception>
    /// <exception cref="ObjectDisposedException">the file has been disposed.</exception>
    public long[] GetInt64(string name)
    {
        var info = GetInfo(name);
        if (!info.DType.IsInteger())
            throw new SafeTensorsException(
                $"{Path}: tensor '{name}' has dtype {info.DType}, which cannot be read as int64 (expected an integer or BOOL dtype); use GetFloat32 for floating-point tensors");
        var bytes = Bytes(info);
        var result = new long[CheckedCount(info)];
        switch (info.DType)
        {
            case DType.I64: bytes.CopyTo(MemoryMarshal.AsBytes(result.AsSpan())); break;
            case DType.I32: Widen(MemoryMarshal.Cast<byte, int>(bytes), result); break;
            case DType.U32: Widen(MemoryMarshal.Cast<byte, uint>(bytes), result); break;
            case DType.I16: Widen(MemoryMarshal.Cast<byte, short>(bytes), result); break;
            case DType.U16: Widen(MemoryMarshal.Cast<byte, ushort>(bytes), result); break;
            case DType.I8: Widen(MemoryMarshal.Cast<byte, sbyte>(bytes), result); break;
            case DType.U8: Widen(bytes, result); break;
            case DType.BOOL:
                for (int i = 0; i < bytes.Length; i++) result[i] = bytes[i] != 0 ? 1 : 0;
                break;
            case DType.U64:
                var values = MemoryMarshal.Cast<byte, ulong>(bytes);
                for (int i = 0; i < values.Length; i++)
                    result[i] = values[i] <= long.MaxValue
                        ? (long)values[i]
                        : throw new SafeTensorsException($"{Path}: tensor '{name}' (U64) value {values[i]} at index {i} does not fit in int64");
                break;
        }
        return result;
    }

    /// <summary>The raw little-endian bytes of the tensor, straight from the mapping (zero copy, any dtype).</summary>
    /// <exception cref="SafeTensorsException">no such tensor, or more than <see cref="int.MaxValue"/> bytes.</exception>
    /// <exception cref="ObjectDisposedException">the file has been disposed.</exception>
    public ReadOnlyMemory<byte> GetBytes(string name)
    {
        var info = GetInfo(name);
        _map.ThrowIfDisposed();
        int length = CheckedByteLength(info);
        return new MappedMemoryManager<byte>(_map, _map.Pointer + _dataStart + info.Begin, length).Memory;
    }

    /// <summary>Unmaps the file. Memory handed out for mapped tensors becomes invalid; widened (cached) arrays stay usable.</summary>
    public void Dispose() => _map.Dispose();

    ReadOnlyMemory<float> LoadFloat32(TensorInfo info)
    {
        int count = CheckedCount(info);
        byte* start = _map.Pointer + _dataStart + info.Begin;
        if (info.DType == DType.F32)
        {
            if ((nint)start % sizeof(float) == 0)
                return new MappedMemoryManager<float>(_map, (float*)start, count).Memory;
            // The data region starts at 8 + N (a multiple of 8 when the writer padded the header, as the reference does),
            // but a tensor after an odd-sized BOOL/U8/F16 tensor can start at an address that is not 4-byte aligned.
            // A float view there would be misaligned, so copy once instead (cached like the widened types).
            var copy = new float[count];
            new ReadOnlySpan<byte>(start, count * sizeof(float)).CopyTo(MemoryMarshal.AsBytes(copy.AsSpan()));
            return copy;
        }

        var bytes = Bytes(info);
        var result = GC.AllocateUninitializedArray<float>(count);   // every element is written below
        switch (info.DType)
        {
            case DType.F16: HalfConversions.Float16ToSingle(bytes, result); break;
            case DType.BF16: HalfConversions.BFloat16ToSingle(bytes, result); break;
            case DType.F64: HalfConversions.Float64ToSingle(bytes, result); break;
            case DType.F8_E4M3 or DType.F8_E5M2: HalfConversions.Float8ToSingle(bytes, result, info.DType); break;
            default: throw new InvalidOperationException($"unexpected dtype {info.DType}");
        }
        return result;
    }

    ReadOnlySpan<byte> Bytes(TensorInfo info) => _map.Span(_dataStart + info.Begin, CheckedByteLength(info));

    int CheckedCount(TensorInfo info) =>
        info.ElementCount <= Array.MaxLength
            ? (int)info.ElementCount
            : throw new SafeTensorsException($"{Path}: tensor '{info.Name}' has {info.ElementCount} elements, more than a single .NET array or Memory can hold");

    int CheckedByteLength(TensorInfo info) =>
        info.ByteLength <= int.MaxValue
            ? (int)info.ByteLength
            : throw new SafeTensorsException($"{Path}: tensor '{info.Name}' is {info.ByteLength} bytes, more than a single span can hold");

    /// <summary>Sign- or zero-extends integers narrower than 64 bits (exact for every source type used).</summary>
    static void Widen<T>(ReadOnlySpan<T> source, Span<long> destination) where T : unmanaged, IBinaryInteger<T>
    {
        for (int i = 0; i < source.Length; i++) destination[i] = long.CreateTruncating(source[i]);
    }

    /// <summary>Up to three tensor names close to <paramref name="name"/>: same name modulo a prefix, or small edit distance.</summary>
    List<string> CloseNames(string name)
    {
        int budget = Math.Max(2, name.Length / 4);
        return _tensors
            .Select(t => (t.Name, Distance: t.Name.EndsWith("." + name, StringComparison.Ordinal) || name.EndsWith("." + t.Name, StringComparison.Ordinal)
                ? 0
                : EditDistance(name, t.Name, budget)))
            .Where(x => x.Distance <= budget)
            .OrderBy(x => x.Distance).ThenBy(x => x.Name, StringComparer.Ordinal)
            .Take(3).Select(x => x.Name).ToList();
    }

    /// <summary>Levenshtein distance, or <paramref name="budget"/> + 1 as soon as it must exceed the budget.</summary>
    static int EditDistance(string a, string b, int budget)
    {
        if (Math.Abs(a.Length - b.Length) > budget) return budget + 1;
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            int rowMin = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
                rowMin = Math.Min(rowMin, current[j]);
            }
            if (rowMin > budget) return budget + 1;
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}

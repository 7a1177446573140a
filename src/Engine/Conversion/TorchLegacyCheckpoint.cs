using System.Buffers.Binary;
using System.Numerics;
using MixLens.Engine.Conversion.Pickle;
using MixLens.Engine.SafeTensors;

namespace MixLens.Engine.Conversion;

/// <summary>
/// The checkpoint format of PyTorch before 1.6 (still written with <c>_use_new_zipfile_serialization=False</c>): five
/// pickles back to back — the magic number <c>0x1950a86a20f9469cfc6c</c>, the protocol version 1001, the system info
/// (<c>little_endian</c>, type sizes), the state dict (storages as persistent ids
/// <c>('storage', storage_type, root_key, location, numel, view_metadata)</c>), the list of storage keys — then, for
/// each key in that list, the storage: its element count as an 8-byte integer followed by the raw elements.
/// </summary>
/// <remarks>Source: PyTorch <c>torch/serialization.py</c> (<c>_legacy_save</c>, <c>_legacy_load</c>) and
/// <c>StorageBase._write_file</c>. Every pickle, the magic number included, goes through the restricted
/// unpickler.</remarks>
public sealed class TorchLegacyCheckpoint : TorchCheckpoint
{
    /// <summary>The magic number of the legacy format (first pickle).</summary>
    public static readonly BigInteger MagicNumber = BigInteger.Parse("119547037146038801333356");

    /// <summary>The only protocol version PyTorch ever wrote (second pickle).</summary>
    public const long ProtocolVersion = 1001;

    readonly byte[] data;
    readonly Dictionary<string, (DType DType, long Count)> roots = new(StringComparer.Ordinal);
    readonly Dictionary<string, (int Offset, long Count)> located = new(StringComparer.Ordinal);

    /// <summary>Reads and unpickles the legacy checkpoint at <paramref name="path"/> and locates its storages.</summary>
    /// <exception cref="CheckpointException">wrong magic number or protocol, malformed pickle, missing or short storage.</exception>
    /// <exception cref="UnsafeCheckpointException">one of the pickles names a global that is not allowed.</exception>
    public TorchLegacyCheckpoint(string path) : base(path)
    {
        var info = new FileInfo(path);
        if (info.Length > Array.MaxLength)
            throw new CheckpointException($"{FileName}: a legacy-format checkpoint of {info.Length} bytes is too large (at most {Array.MaxLength}); re-save it in the zip format");
        data = File.ReadAllBytes(path);
        var globals = new TorchGlobals(FileName, LoadStorage);
        int position = 0;

        object? magic = ReadPickle(ref position, "magic number", globals);
        if (!(magic is BigInteger big && big == MagicNumber))
            throw new CheckpointException($"{FileName}: a pickle, but not a PyTorch checkpoint (the legacy magic number is missing)");
        object? protocol = ReadPickle(ref position, "protocol version", globals);
        if (protocol is not long p || p != ProtocolVersion)
            throw new CheckpointException($"{FileName}: unsupported legacy protocol version {(protocol is long v ? v.ToString() : TorchGlobals.Describe(protocol))} (expected {ProtocolVersion})");
        object? sysInfo = ReadPickle(ref position, "system info", globals);
        BigEndian = sysInfo is PickleDict sys && sys.Entries.Any(e => Equals(e.Key, "little_endian") && Equals(e.Value, false));

        Tensors = StateDict(ReadPickle(ref position, "state dict", globals));

        object? keys = ReadPickle(ref position, "storage key list", globals);
        if (keys is not List<object?> keyList)
            throw new CheckpointException($"{FileName}: the storage key list is {TorchGlobals.Describe(keys)}, not a list");
        foreach (var item in keyList)
        {
            if (item is not string key) throw new CheckpointException($"{FileName}: a storage key is {TorchGlobals.Describe(item)}, not a string");
            if (!roots.TryGetValue(key, out var root))
                throw new CheckpointException($"{FileName}: storage '{key}' is listed but no tensor refers to it, so its element size is unknown");
            if (data.Length - position < 8)
                throw new CheckpointException($"{FileName}: the file ends before storage '{key}' (byte {position} of {data.Length})");
            long count = BigEndian ? BinaryPrimitives.ReadInt64BigEndian(data.AsSpan(position)) : BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(position));
            position += 8;
            int size = root.DType.SizeInBytes();
            // Compared in elements, so that a huge count cannot overflow count × size into a small positive number.
            if (count < 0 || count > (data.Length - position) / size)
                throw new CheckpointException($"{FileName}: storage '{key}' declares {count} {root.DType} elements but only {data.Length - position} bytes remain (truncated file?)");
            long bytes = count * size;
            located[key] = (position, count);
            position += (int)bytes;
        }
        foreach (var (key, root) in roots)
            if (!located.ContainsKey(key))
                throw new CheckpointException($"{FileName}: storage '{key}' is used by a tensor but missing from the storage list");
    }

    /// <inheritdoc/>
    public override string Format => "legacy";

    /// <inheritdoc/>
    public override ReadOnlyMemory<byte> StorageBytes(string key)
    {
        var (offset, count) = located[key];
        return data.AsMemory(offset, checked((int)(count * roots[key].DType.SizeInBytes())));
    }

    object? ReadPickle(ref int position, string what, TorchGlobals globals)
    {
        if (position >= data.Length)
            throw new CheckpointException($"{FileName}: the file ends before the {what} pickle (byte {position})");
        var reader = new PickleReader(data, position, $"{FileName} ({what} pickle)", globals);
        object? value = reader.Load();
        position = reader.Position;
        return value;
    }

    /// <summary>The persistent-id handler: <c>('storage', storage_type, root_key, location, numel, view_metadata)</c>.</summary>
    StorageReference LoadStorage(PickleTuple pid)
    {
        if (pid.Count != 6) throw new CheckpointException($"{FileName}: a legacy storage persistent id has {pid.Count} items, expected 6");
        DType dtype = StorageDType(pid[1]);
        string key = PidString(pid[2], "root key");
        string location = PidString(pid[3], "location");
        long count = PidInteger(pid[4], "element count");
        if (roots.TryGetValue(key, out var known))
        {
            if (known.DType != dtype) throw new CheckpointException($"{FileName}: storage '{key}' is referenced both as {known.DType} and as {dtype}");
        }
        else roots[key] = (dtype, count);
        if (pid[5] is null) return new StorageReference(key, dtype, count, location);
        // A view of the root storage (PyTorch < 0.4): (view_key, offset, size), offset and size in elements.
        if (pid[5] is not PickleTuple { Count: 3 } view)
            throw new CheckpointException($"{FileName}: storage '{key}' has malformed view metadata ({TorchGlobals.Describe(pid[5])})");
        long viewOffset = PidInteger(view[1], "view offset"), viewSize = PidInteger(view[2], "view size");
        if (viewOffset > count || viewSize > count - viewOffset)
            throw new CheckpointException($"{FileName}: a view of {viewSize} elements at offset {viewOffset} exceeds storage '{key}' of {count} elements");
        return new StorageReference(key, dtype, viewSize, location, viewOffset);
    }
}

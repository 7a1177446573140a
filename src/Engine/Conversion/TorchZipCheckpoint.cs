using System.IO.Compression;
using MixLens.Engine.Conversion.Pickle;
using MixLens.Engine.SafeTensors;

namespace MixLens.Engine.Conversion;

/// <summary>
/// The zip checkpoint format of PyTorch ≥ 1.6: a zip archive (entries usually stored, not compressed) whose single
/// top folder (<c>archive/</c>, or the file's stem) holds <c>data.pkl</c> (the state-dict pickle, protocol 2),
/// <c>data/KEY</c> (the raw bytes of each storage), <c>byteorder</c> (<c>little</c> or <c>big</c>; absent in early
/// versions, meaning little), <c>version</c> and <c>.format_version</c>.
/// </summary>
/// <remarks>Source: PyTorch <c>torch/serialization.py</c> (<c>_save</c> and <c>_load</c>: persistent id
/// <c>('storage', storage_type, key, location, numel)</c>, record names <c>data/{key}</c>).</remarks>
public sealed class TorchZipCheckpoint : TorchCheckpoint
{
    readonly FileStream stream;
    readonly ZipArchive archive;
    readonly string prefix;
    readonly Dictionary<string, StorageReference> storages = new(StringComparer.Ordinal);
    readonly Dictionary<string, byte[]> cache = new(StringComparer.Ordinal);

    /// <summary>Opens and unpickles the archive at <paramref name="path"/>.</summary>
    /// <exception cref="CheckpointException">not a valid zip, no data.pkl, a malformed pickle or persistent id.</exception>
    /// <exception cref="UnsafeCheckpointException">data.pkl names a global that is not allowed.</exception>
    public TorchZipCheckpoint(string path) : base(path)
    {
        stream = File.OpenRead(path);
        try
        {
            ZipArchiveEntry pickleEntry;
            try
            {
                archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
                pickleEntry = FindDataPickle();   // the first look at Entries reads (and checks) the central directory
            }
            catch (InvalidDataException e)
            {
                throw new CheckpointException($"{FileName}: not a valid zip archive, perhaps truncated ({e.Message})", e);
            }
            prefix = pickleEntry.FullName[..^"data.pkl".Length];
            BigEndian = ReadByteOrder();
            byte[] pickle = ReadEntry(pickleEntry, $"{prefix}data.pkl");
            var reader = new PickleReader(pickle, 0, $"{FileName} ({prefix}data.pkl)", new TorchGlobals(FileName, LoadStorage));
            Tensors = StateDict(reader.Load());
        }
        catch
        {
            archive?.Dispose();
            stream.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public override string Format => "zip";

    /// <inheritdoc/>
    public override ReadOnlyMemory<byte> StorageBytes(string key)
    {
        if (cache.TryGetValue(key, out var cached)) return cached;
        var storage = storages[key];
        string name = $"{prefix}data/{key}";
        var entry = archive.GetEntry(name)
            ?? throw new CheckpointException($"{FileName}: storage '{key}' ({name}) is missing from the archive");
        int size = storage.DType.SizeInBytes();
        if (storage.ElementCount > entry.Length / size)   // compared in elements: ElementCount × size can overflow
        {
            string need = storage.ElementCount <= long.MaxValue / size ? $"{storage.ElementCount * size}" : "more than 2^63 bytes";
            throw new CheckpointException($"{FileName}: storage '{key}' ({name}) has {entry.Length} bytes, but {storage.ElementCount} {storage.DType} elements need {need}");
        }
        byte[] bytes = ReadEntry(entry, name);
        cache[key] = bytes;
        return bytes;
    }

    /// <summary>The persistent-id handler: <c>('storage', storage_type, key, location, numel)</c>.</summary>
    StorageReference LoadStorage(PickleTuple pid)
    {
        if (pid.Count != 5) throw new CheckpointException($"{FileName}: a storage persistent id has {pid.Count} items, expected 5 ('storage', type, key, location, numel)");
        DType dtype = StorageDType(pid[1]);
        string key = PidString(pid[2], "key");
        string location = PidString(pid[3], "location");
        long count = PidInteger(pid[4], "element count");
        if (storages.TryGetValue(key, out var known))
        {
            if (known.DType != dtype)
                throw new CheckpointException($"{FileName}: storage '{key}' is referenced both as {known.DType} and as {dtype}");
            return known;
        }
        var storage = new StorageReference(key, dtype, count, location);
        storages[key] = storage;
        return storage;
    }

    ZipArchiveEntry FindDataPickle()
    {
        var candidates = archive.Entries
            .Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.IndexOf('/') == e.FullName.Length - "/data.pkl".Length)
            .ToList();
        if (candidates.Count == 1) return candidates[0];
        if (candidates.Count > 1) throw new CheckpointException($"{FileName}: the archive holds {candidates.Count} data.pkl files; expected one");
        bool torchScript = archive.Entries.Any(e => e.FullName.EndsWith("/constants.pkl", StringComparison.Ordinal) || e.FullName.Contains("/code/", StringComparison.Ordinal));
        throw new CheckpointException(torchScript
            ? $"{FileName}: a TorchScript archive (torch.jit.save), not a torch.save state dict"
            : $"{FileName}: a zip archive without FOLDER/data.pkl, so not a PyTorch checkpoint");
    }

    bool ReadByteOrder()
    {
        var entry = archive.GetEntry($"{prefix}byteorder");
        if (entry == null) return false;
        string order = System.Text.Encoding.ASCII.GetString(ReadEntry(entry, entry.FullName)).Trim();
        return order switch
        {
            "little" => false,
            "big" => true,
            _ => throw new CheckpointException($"{FileName}: unknown byte order '{order}' in {entry.FullName}"),
        };
    }

    byte[] ReadEntry(ZipArchiveEntry entry, string name)
    {
        if (entry.Length > Array.MaxLength)
            throw new CheckpointException($"{FileName}: {name} is {entry.Length} bytes, more than one array can hold");
        byte[] bytes;
        try
        {
            using var s = entry.Open();
            if (entry.Length <= stream.Length)
            {
                bytes = new byte[entry.Length];
                s.ReadExactly(bytes);
            }
            else
            {
                // A compressed entry claiming more bytes than the whole file: read what it really holds, so that the
                // claim (an untrusted number) never sizes an allocation, then hold it to the claim.
                using var buffer = new MemoryStream();
                var chunk = new byte[1 << 16];
                for (int n; buffer.Length <= entry.Length && (n = s.Read(chunk)) > 0;) buffer.Write(chunk, 0, n);
                if (buffer.Length != entry.Length)
                    throw new CheckpointException($"{FileName}: {name} declares {entry.Length} bytes but decompresses to {buffer.Length}");
                bytes = buffer.ToArray();
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
        {
            throw new CheckpointException($"{FileName}: cannot read {name} from the archive, perhaps truncated ({e.Message})", e);
        }
        return bytes;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            archive.Dispose();
            stream.Dispose();
        }
    }
}

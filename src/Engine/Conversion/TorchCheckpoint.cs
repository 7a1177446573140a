using MixLens.Engine.Conversion.Pickle;
using MixLens.Engine.SafeTensors;

namespace MixLens.Engine.Conversion;

/// <summary>
/// A PyTorch <c>torch.save(state_dict)</c> file opened for conversion: its tensors (as strided views of storages,
/// in the pickle's order) and access to the raw storage bytes. Opening reads and checks the whole pickle with the
/// restricted unpickler (<see cref="PickleReader"/> + <see cref="TorchGlobals"/>); storages are read on demand.
/// </summary>
/// <remarks>Two formats exist: the zip archive of PyTorch ≥ 1.6 (<see cref="TorchZipCheckpoint"/>) and the older
/// sequence of pickles followed by raw storages (<see cref="TorchLegacyCheckpoint"/>).</remarks>
public abstract class TorchCheckpoint : IDisposable
{
    protected TorchCheckpoint(string path)
    {
        Path = path;
        FileName = System.IO.Path.GetFileName(path);
    }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }

    /// <summary>The file name, used in messages.</summary>
    public string FileName { get; }

    /// <summary>"zip" or "legacy".</summary>
    public abstract string Format { get; }

    /// <summary>True when the storages were written big-endian (they are byte-swapped on conversion).</summary>
    public bool BigEndian { get; protected set; }

    /// <summary>The state dict: tensor names and their views, in the order the pickle lists them.</summary>
    public IReadOnlyList<KeyValuePair<string, TensorReference>> Tensors { get; protected set; } = [];

    /// <summary>The bytes of root storage <paramref name="key"/> (all of it, file byte order).</summary>
    /// <exception cref="CheckpointException">the storage is missing or shorter than its declared size.</exception>
    public abstract ReadOnlyMemory<byte> StorageBytes(string key);

    /// <summary>Opens <paramref name="path"/>, detecting the format from its first bytes.</summary>
    /// <exception cref="FileNotFoundException">no such file.</exception>
    /// <exception cref="CheckpointException">not a PyTorch checkpoint, or malformed (the message says why and where).</exception>
    /// <exception cref="UnsafeCheckpointException">the pickle names a global that is not allowed.</exception>
    public static TorchCheckpoint Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException(Directory.Exists(path) ? $"'{path}' is a directory, not a checkpoint file" : $"checkpoint '{path}' not found", path);
        string name = System.IO.Path.GetFileName(path);
        var head = new byte[512];
        int read;
        using (var stream = File.OpenRead(path)) read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (read == 0) throw new CheckpointException($"{name}: the file is empty");
        if (read >= 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4)
            return new TorchZipCheckpoint(path);
        if (head[0] == (byte)PickleOpcode.Proto) return new TorchLegacyCheckpoint(path);
        if (read >= 262 && head.AsSpan(257, 5).SequenceEqual("ustar"u8))
            throw new CheckpointException($"{name}: a tar-format checkpoint (PyTorch < 0.4) is not supported; load and re-save it with a newer PyTorch");
        throw new CheckpointException($"{name}: not a PyTorch checkpoint (neither a zip archive nor a pickle; first byte 0x{head[0]:x2})");
    }

    /// <summary>Checks that the unpickled root is a dict of name → tensor and returns its entries.</summary>
    protected IReadOnlyList<KeyValuePair<string, TensorReference>> StateDict(object? root)
    {
        if (root is not PickleDict dict)
            throw new CheckpointException($"{FileName}: the pickle holds {TorchGlobals.Describe(root)}, not a state dict (a dict of tensors)");
        var result = new List<KeyValuePair<string, TensorReference>>(dict.Count);
        foreach (var (key, value) in dict.Entries)
        {
            if (key is not string name) throw new CheckpointException($"{FileName}: a state-dict key is {TorchGlobals.Describe(key)}, not a string");
            if (name == SafeTensorsHeader.MetadataKey)
                throw new CheckpointException($"{FileName}: a tensor is named '{name}', which safetensors reserves for its metadata; rename it before converting");
            if (value is not TensorReference tensor)
            {
                string hint = value is PickleDict ? " (a nested dict: is this a training checkpoint? save model.state_dict() alone)" : "";
                throw new CheckpointException($"{FileName}: entry '{name}' is {TorchGlobals.Describe(value)}, not a tensor{hint}");
            }
            result.Add(new(name, tensor));
        }
        return result;
    }

    /// <summary>Reads a storage's element type from a persistent id's storage-class item.</summary>
    protected DType StorageDType(object? storageType) =>
        storageType is TorchGlobal { Kind: TorchGlobalKind.StorageType } g
            ? g.StorageDType
            : throw new CheckpointException($"{FileName}: a persistent id names {TorchGlobals.Describe(storageType)} where a storage class (e.g. torch.FloatStorage) belongs");

    /// <summary>An integer item of a persistent id.</summary>
    protected long PidInteger(object? value, string what) =>
        value is long l && l >= 0 ? l : throw new CheckpointException($"{FileName}: a persistent id's {what} is {TorchGlobals.Describe(value)}, not a non-negative integer");

    /// <summary>A string item of a persistent id.</summary>
    protected string PidString(object? value, string what) =>
        value as string ?? throw new CheckpointException($"{FileName}: a persistent id's {what} is {TorchGlobals.Describe(value)}, not a string");

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing) { }
}

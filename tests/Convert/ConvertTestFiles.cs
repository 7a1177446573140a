using System.IO.Compression;
using System.Text;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Convert;

/// <summary>Fixture paths, temporary folders and hand-built checkpoints for the conversion tests.</summary>
internal static class ConvertTestFiles
{
    public static string Fixture(string name) => SharedData.Fixtures("convert", name);

    /// <summary>A new empty temporary folder (deleted by <see cref="TempFolder.Dispose"/>).</summary>
    public static TempFolder Temp() => new();

    /// <summary>
    /// Copies the zip checkpoint <paramref name="source"/> to <paramref name="destination"/>, replacing entries whose
    /// name ends with a key of <paramref name="replace"/> (null value: drop the entry). Entries are stored uncompressed,
    /// as torch.save writes them.
    /// </summary>
    public static void RewriteZip(string source, string destination, Dictionary<string, byte[]?> replace)
    {
        using var input = ZipFile.OpenRead(source);
        using var output = ZipFile.Open(destination, ZipArchiveMode.Create);
        foreach (var entry in input.Entries)
        {
            var match = replace.Keys.FirstOrDefault(k => entry.FullName.EndsWith(k, StringComparison.Ordinal));
            byte[] bytes;
            if (match != null)
            {
                if (replace[match] is not { } replacement) continue;
                bytes = replacement;
            }
            else
            {
                using var s = entry.Open();
                using var m = new MemoryStream();
                s.CopyTo(m);
                bytes = m.ToArray();
            }
            var created = output.CreateEntry(entry.FullName, CompressionLevel.NoCompression);
            using var w = created.Open();
            w.Write(bytes);
        }
    }

    /// <summary>A zip checkpoint with the given data.pkl and storages (under <c>archive/</c>).</summary>
    public static void WriteZip(string destination, byte[] dataPkl, params (string Key, byte[] Bytes)[] storages)
    {
        using var output = ZipFile.Open(destination, ZipArchiveMode.Create);
        void Add(string name, byte[] bytes)
        {
            var entry = output.CreateEntry("archive/" + name, CompressionLevel.NoCompression);
            using var w = entry.Open();
            w.Write(bytes);
        }
        Add("data.pkl", dataPkl);
        Add("byteorder", "little"u8.ToArray());
        foreach (var (key, bytes) in storages) Add("data/" + key, bytes);
        Add("version", "3\n"u8.ToArray());
    }

    /// <summary>The data.pkl bytes of a zip checkpoint.</summary>
    public static byte[] DataPkl(string zipPath)
    {
        using var zip = ZipFile.OpenRead(zipPath);
        var entry = zip.Entries.Single(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal));
        using var s = entry.Open();
        using var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    }

    /// <summary>Replaces the first occurrence of <paramref name="find"/> in <paramref name="data"/> (which must occur).</summary>
    public static byte[] ReplaceOnce(byte[] data, byte[] find, byte[] replacement)
    {
        int at = data.AsSpan().IndexOf(find);
        Assert.True(at >= 0, $"pattern {System.Convert.ToHexString(find)} not found");
        return [.. data.AsSpan(0, at), .. replacement, .. data.AsSpan(at + find.Length)];
    }

    public static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);
}

/// <summary>A temporary folder, removed with its contents on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mixlens-convert-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Builds pickle bytes opcode by opcode (protocol 2 unless told), for hand-made test checkpoints.</summary>
internal sealed class PickleBuilder
{
    readonly List<byte> bytes = [];

    public PickleBuilder(int protocol = 2) => Op(0x80).Byte(protocol);

    public PickleBuilder Op(int opcode) { bytes.Add((byte)opcode); return this; }
    public PickleBuilder Byte(int b) { bytes.Add((byte)b); return this; }
    public PickleBuilder Raw(byte[] data) { bytes.AddRange(data); return this; }

    public PickleBuilder Str(string s)
    {
        var utf8 = Encoding.UTF8.GetBytes(s);
        if (utf8.Length < 256) return Op(0x8c).Byte(utf8.Length).Raw(utf8);                 // SHORT_BINUNICODE
        return Op('X').Raw(BitConverter.GetBytes(utf8.Length)).Raw(utf8);                     // BINUNICODE
    }

    public PickleBuilder Int(long v)
    {
        if (v >= 0 && v < 256) return Op('K').Byte((int)v);                                    // BININT1
        if (v >= int.MinValue && v <= int.MaxValue) return Op('J').Raw(BitConverter.GetBytes((int)v)); // BININT
        return Op(0x8a).Byte(8).Raw(BitConverter.GetBytes(v));                                 // LONG1
    }

    public PickleBuilder Global(string module, string name) => Op('c').Raw(ConvertTestFiles.Ascii($"{module}\n{name}\n"));
    public PickleBuilder Mark() => Op('(');
    public PickleBuilder Tuple() => Op('t');

    public PickleBuilder IntTuple(params long[] values)
    {
        Mark();
        foreach (var v in values) Int(v);
        return Tuple();
    }

    /// <summary>Pushes a rebuilt tensor: <c>_rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict())</c>.</summary>
    public PickleBuilder Tensor(string storageType, string key, long storageCount, long offset, long[] size, long[] stride)
    {
        Global("torch._utils", "_rebuild_tensor_v2");
        Mark();
        Mark().Str("storage").Global("torch", storageType).Str(key).Str("cpu").Int(storageCount).Tuple();
        Op('Q');                                                                               // BINPERSID
        Int(offset).IntTuple(size).IntTuple(stride).Op(0x89);                                  // NEWFALSE
        Global("collections", "OrderedDict").Op(')').Op('R');                                  // OrderedDict()
        Tuple();
        return Op('R');
    }

    /// <summary>The bytes, ended with STOP.</summary>
    public byte[] Stop() { Op('.'); return [.. bytes]; }
}

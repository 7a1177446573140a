using MixLens.Engine.Conversion;

namespace MixLens.Tests.Convert;

/// <summary>Broken inputs give a <see cref="CheckpointException"/> whose message names the file and says what is wrong.</summary>
public class MalformedCheckpointTests
{
    static string Convert(TempFolder temp, string input) =>
        Assert.Throws<CheckpointException>(() => CheckpointConverter.Convert(input, temp.File("out.safetensors"))).Message;

    [Fact]
    public void TruncatedZip_IsNotAValidArchive()
    {
        using var temp = ConvertTestFiles.Temp();
        string path = temp.File("truncated.bin");
        File.WriteAllBytes(path, File.ReadAllBytes(ConvertTestFiles.Fixture("pytorch_model.bin"))[..100_000]);
        Assert.StartsWith("truncated.bin: not a valid zip archive, perhaps truncated", Convert(temp, path));
        Assert.False(File.Exists(temp.File("out.safetensors")));
    }

    [Fact]
    public void TextFile_IsNotACheckpoint()
    {
        using var temp = ConvertTestFiles.Temp();
        string path = temp.File("notes.bin");
        File.WriteAllText(path, "hello, I am not a pickle\n");
        Assert.Equal("notes.bin: not a PyTorch checkpoint (neither a zip archive nor a pickle; first byte 0x68)", Convert(temp, path));
    }

    [Fact]
    public void EmptyFile_IsReported()
    {
        using var temp = ConvertTestFiles.Temp();
        string path = temp.File("empty.bin");
        File.WriteAllBytes(path, []);
        Assert.Equal("empty.bin: the file is empty", Convert(temp, path));
    }

    [Fact]
    public void PickleThatIsNotACheckpoint_LacksTheMagicNumber()
    {
        using var temp = ConvertTestFiles.Temp();
        string path = temp.File("plain.pkl");
        File.WriteAllBytes(path, new PickleBuilder().Op('}').Stop());
        Assert.Equal("plain.pkl: a pickle, but not a PyTorch checkpoint (the legacy magic number is missing)", Convert(temp, path));
    }

    [Fact]
    public void UnknownOpcode_IsNamedWithItsOffset()
    {
        using var temp = ConvertTestFiles.Temp();
        string source = ConvertTestFiles.Fixture("shared_storage.bin");
        // Replace EMPTY_DICT right after PROTO 2 by INST ('i'), a protocol-0 opcode that instantiates a class.
        byte[] pickle = ConvertTestFiles.ReplaceOnce(ConvertTestFiles.DataPkl(source), [0x80, 0x02, 0x7d], [0x80, 0x02, (byte)'i']);
        string path = temp.File("opcode.bin");
        ConvertTestFiles.RewriteZip(source, path, new() { ["/data.pkl"] = pickle });
        string message = Convert(temp, path);
        Assert.StartsWith("opcode.bin (shared_storage/data.pkl): unsupported pickle opcode 'i' (0x69) INST", message);
        Assert.EndsWith("(pickle byte 2)", message);
    }

    [Fact]
    public void UnsupportedProtocol_IsReported()
    {
        using var temp = ConvertTestFiles.Temp();
        string path = temp.File("proto9.bin");
        ConvertTestFiles.WriteZip(path, [0x80, 9, (byte)'}', (byte)'.']);
        Assert.Equal("proto9.bin (archive/data.pkl): pickle protocol 9 is not supported (only 2 to 5) (pickle byte 0)", Convert(temp, path));
    }

    [Fact]
    public void TruncatedPickle_SaysWhereItEnds()
    {
        using var temp = ConvertTestFiles.Temp();
        string source = ConvertTestFiles.Fixture("shared_storage.bin");
        string path = temp.File("short_pickle.bin");
        ConvertTestFiles.RewriteZip(source, path, new() { ["/data.pkl"] = ConvertTestFiles.DataPkl(source)[..150] });
        Assert.StartsWith("short_pickle.bin (shared_storage/data.pkl): the pickle ends early", Convert(temp, path));
    }

    [Fact]
    public void MissingStorage_IsNamed()
    {
        using var temp = ConvertTestFiles.Temp();
        string path = temp.File("missing.bin");
        ConvertTestFiles.RewriteZip(ConvertTestFiles.Fixture("shared_storage.bin"), path, new() { ["/data/0"] = null });
        Assert.Equal("missing.bin: storage '0' (shared_storage/data/0) is missing from the archive", Convert(temp, path));
    }

    [Fact]
    public void ShortStorage_IsNamed()
    {
        using var temp = ConvertTestFiles.Temp();
        string path = temp.File("short.bin");
        ConvertTestFiles.RewriteZip(ConvertTestFiles.Fixture("shared_storage.bin"), path, new() { ["/data/0"] = new byte[50] });
        Assert.Equal("short.bin: storage '0' (shared_storage/data/0) has 50 bytes, but 24 F32 elements need 96", Convert(temp, path));
    }

    [Fact]
    public void ViewBeyondItsStorage_IsNamedWithTheTensor()
    {
        using var temp = ConvertTestFiles.Temp();
        string source = ConvertTestFiles.Fixture("shared_storage.bin");
        // Declare the storage as 20 elements (BININT1 24, TUPLE → BININT1 20, TUPLE): a.weight [4, 6] needs 24.
        byte[] pickle = ConvertTestFiles.ReplaceOnce(ConvertTestFiles.DataPkl(source), [(byte)'K', 24, (byte)'t'], [(byte)'K', 20, (byte)'t']);
        string path = temp.File("view.bin");
        ConvertTestFiles.RewriteZip(source, path, new() { ["/data.pkl"] = pickle });
        Assert.Equal(
            "view.bin: tensor 'a.weight': the view (offset 0, shape [4, 6], strides (6, 1)) reaches element 23 of storage '0', which holds 20 elements",
            Convert(temp, path));
    }

    [Fact]
    public void TruncatedLegacyStorages_AreReported()
    {
        using var temp = ConvertTestFiles.Temp();
        byte[] full = File.ReadAllBytes(ConvertTestFiles.Fixture("pytorch_model.legacy.bin"));
        string path = temp.File("legacy_cut.bin");
        File.WriteAllBytes(path, full[..^100]);
        string message = Convert(temp, path);
        Assert.StartsWith("legacy_cut.bin: storage '", message);
        Assert.Contains("elements but only", message);
        Assert.EndsWith("bytes remain (truncated file?)", message);
    }

    [Fact]
    public void NonTensorEntry_IsNamed()
    {
        using var temp = ConvertTestFiles.Temp();
        string path = temp.File("int.bin");
        ConvertTestFiles.WriteZip(path, new PickleBuilder().Op('}').Str("epoch").Int(3).Op('s').Stop());
        Assert.Equal("int.bin: entry 'epoch' is an integer, not a tensor", Convert(temp, path));
    }

    [Fact]
    public void OutputOverTheInput_IsRefused()
    {
        using var temp = ConvertTestFiles.Temp();
        string path = temp.File("model.safetensors");
        File.Copy(ConvertTestFiles.Fixture("shared_storage.bin"), path);
        var e = Assert.Throws<CheckpointException>(() => CheckpointConverter.Convert(path, path));
        Assert.Contains("is the input checkpoint", e.Message);
        Assert.Equal(File.ReadAllBytes(ConvertTestFiles.Fixture("shared_storage.bin")), File.ReadAllBytes(path));
    }

    [Fact]
    public void MissingInput_IsFileNotFound()
    {
        using var temp = ConvertTestFiles.Temp();
        var e = Assert.Throws<FileNotFoundException>(() => CheckpointConverter.Convert(temp.File("nope.bin")));
        Assert.Equal($"checkpoint '{temp.File("nope.bin")}' not found", e.Message);
    }
}

using System.Text;
using MixLens.Engine.SafeTensors;
using MixLens.Tests.Infrastructure;
using static MixLens.Tests.SafeTensors.SafeTensorsTestFiles;

namespace MixLens.Tests.SafeTensors;

/// <summary>
/// Malformed files, one case per test: each is crafted in a temp directory and must fail in <see cref="SafeTensorsFile.Open"/>
/// with a <see cref="SafeTensorsException"/> naming the file, the tensor where relevant, and the problem.
/// </summary>
public sealed class SafeTensorsValidationTests : IDisposable
{
    readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Opens the file, expecting failure; checks the message names the file and contains every fragment.</summary>
    static SafeTensorsException AssertRejected(string path, params string[] fragments)
    {
        var e = Assert.Throws<SafeTensorsException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Contains(Path.GetFileName(path), e.Message);
        foreach (var f in fragments) Assert.Contains(f, e.Message);
        return e;
    }

    static string Header(params string[] entries) => "{" + string.Join(",", entries) + "}";

    // ---- length prefix and header bounds ----

    [Fact]
    public void Open_FileShorterThan8Bytes_ThrowsTruncated()
    {
        string path = _dir.File("tiny.safetensors");
        File.WriteAllBytes(path, [1, 0, 0]);
        AssertRejected(path, "3 bytes", "shorter than the 8-byte header length prefix");
    }

    [Fact]
    public void Open_EmptyFile_ThrowsTruncated()
    {
        string path = _dir.File("empty.safetensors");
        File.WriteAllBytes(path, []);
        AssertRejected(path, "0 bytes", "shorter than");
    }

    [Fact]
    public void Open_HeaderCutShort_ThrowsHeaderPastEndOfFile()
    {
        string json = Header(Entry("w", "F32", [1], 0, 4));
        string path = CraftBytes(_dir.File("cut.safetensors"), Encoding.UTF8.GetBytes(json)[..10], headerLength: (ulong)json.Length);
        AssertRejected(path, $"header length {json.Length}", "past the end of the file", "18 bytes");
    }

    [Fact]
    public void Open_HeaderLengthBeyondFile_ThrowsHeaderPastEndOfFile()
    {
        string path = Craft(_dir.File("beyond.safetensors"), "{}", headerLength: 50_000_000);
        AssertRejected(path, "header length 50000000", "past the end of the file");
    }

    [Theory]
    [InlineData(100_000_001UL)]
    [InlineData(ulong.MaxValue)]
    public void Open_AbsurdHeaderLength_ThrowsTooLarge(ulong length)
    {
        string path = Craft(_dir.File("absurd.safetensors"), "{}", headerLength: length);
        AssertRejected(path, $"header length {length}", "exceeds the 100000000-byte limit");
    }

    // ---- header syntax ----

    [Fact]
    public void Open_HeaderNotUtf8_ThrowsInvalidUtf8()
    {
        byte[] header = [.. Encoding.UTF8.GetBytes("{\"w"), 0xFF, 0xFE, .. Encoding.UTF8.GetBytes("\":{}}")];
        string path = CraftBytes(_dir.File("latin.safetensors"), header);
        AssertRejected(path, "not valid UTF-8", "offset 3");
    }

    [Fact]
    public void Open_InvalidJson_ThrowsNotValidJsonWithPosition()
    {
        string path = Craft(_dir.File("syntax.safetensors"), "{\"w\": {\"dtype\": F32}}");
        AssertRejected(path, "not valid JSON", "BytePositionInLine");
    }

    [Fact]
    public void Open_TrailingGarbageAfterJson_ThrowsNotValidJson()
    {
        string path = Craft(_dir.File("garbage.safetensors"), "{}  x");
        AssertRejected(path, "not valid JSON");
    }

    [Fact]
    public void Open_HeaderPaddedWithNulBytes_ThrowsNotValidJson()
    {
        string path = CraftBytes(_dir.File("nul.safetensors"), [.. "{}"u8, 0, 0, 0, 0, 0, 0]);
        AssertRejected(path, "not valid JSON");
    }

    [Theory]
    [InlineData("[]", "an array")]
    [InlineData("\"text\"", "a string")]
    [InlineData("42", "a number")]
    [InlineData("null", "null")]
    public void Open_HeaderNotAnObject_ThrowsMustBeObject(string json, string found)
    {
        string path = Craft(_dir.File("array.safetensors"), json);
        AssertRejected(path, "header must be a JSON object", found);
    }

    [Fact]
    public void Open_EmptyHeader_Throws()
    {
        string path = Craft(_dir.File("nothing.safetensors"), "        ");
        AssertRejected(path, "header is empty");
    }

    // ---- tensor entries ----

    [Fact]
    public void Open_EntryNotAnObject_ThrowsNamingTensor()
    {
        string path = Craft(_dir.File("entry.safetensors"), "{\"w\": [1, 2]}");
        AssertRejected(path, "tensor 'w'", "entry must be a JSON object", "an array");
    }

    [Theory]
    [InlineData("dtype", "{\"shape\":[1],\"data_offsets\":[0,4]}")]
    [InlineData("shape", "{\"dtype\":\"F32\",\"data_offsets\":[0,4]}")]
    [InlineData("data_offsets", "{\"dtype\":\"F32\",\"shape\":[1]}")]
    public void Open_EntryMissingKey_ThrowsNamingTensorAndKey(string missing, string entry)
    {
        string path = Craft(_dir.File("missing.safetensors"), "{\"w\":" + entry + "}", new byte[4]);
        AssertRejected(path, "tensor 'w'", $"missing '{missing}'");
    }

    [Theory]
    [InlineData("{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}", "'dtype' must be a string")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}", "'shape' must be an array of integers")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}", "'shape' must be an array of integers")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}", "'shape' dimension 1.5 is not an integer")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{\"begin\":0}}", "'data_offsets' must be an array of integers")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}", "'data_offsets' must be [begin, end], found 3 values")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}", "'data_offsets' must be [begin, end], found 1 values")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}", "'data_offsets' has a negative offset -4")]
    [InlineData("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18446744073709551616]}", "not an integer in the 64-bit range")]
    public void Open_EntryWrongJsonTypes_ThrowsNamingTensorAndKey(string entry, string fragment)
    {
        string path = Craft(_dir.File("types.safetensors"), "{\"w\":" + entry + "}", new byte[4]);
        AssertRejected(path, "tensor 'w'", fragment);
    }

    [Fact]
    public void Open_UnknownDType_ThrowsNamingTensorAndDType()
    {
        string path = Craft(_dir.File("dtype.safetensors"), Header(Entry("w", "F12", [1], 0, 4)), new byte[4]);
        AssertRejected(path, "tensor 'w'", "unknown dtype 'F12'", "supported: BOOL");
    }

    [Fact]
    public void Open_LowercaseDType_ThrowsUnknownDType()
    {
        string path = Craft(_dir.File("lower.safetensors"), Header(Entry("w", "f32", [1], 0, 4)), new byte[4]);
        AssertRejected(path, "tensor 'w'", "unknown dtype 'f32'");
    }

    [Fact]
    public void Open_NegativeDimension_ThrowsNamingTensor()
    {
        string path = Craft(_dir.File("negative.safetensors"), Header(Entry("w", "F32", [2, -2], 0, 16)), new byte[16]);
        AssertRejected(path, "tensor 'w'", "negative dimension -2");
    }

    [Fact]
    public void Open_ShapeProductOverflow_ThrowsNamingTensor()
    {
        string path = Craft(_dir.File("overflow.safetensors"),
            Header(Entry("w", "F32", [4294967296, 4294967296], 0, 0)), Array.Empty<byte>());
        AssertRejected(path, "tensor 'w'", "shape [4294967296, 4294967296]", "overflows");
    }

    [Fact]
    public void Open_ByteSizeOverflow_ThrowsNamingTensor()
    {
        // The element count fits in 64 bits, the byte count (× 8) does not.
        string path = Craft(_dir.File("bytes.safetensors"), Header(Entry("w", "F64", [2305843009213693952], 0, 0)));
        AssertRejected(path, "tensor 'w'", "overflows");
    }

    [Fact]
    public void Open_ShapeProductMismatch_ThrowsNamingTensorAndSizes()
    {
        string path = Craft(_dir.File("mismatch.safetensors"), Header(Entry("w", "F32", [2, 3], 0, 20)), new byte[20]);
        AssertRejected(path, "tensor 'w'", "shape [2, 3] with dtype F32 needs 24 bytes", "span 20 bytes", "mismatch");
    }

    // ---- offsets and layout ----

    [Fact]
    public void Open_OffsetsReversed_ThrowsNamingTensor()
    {
        string path = Craft(_dir.File("reversed.safetensors"), Header(Entry("w", "U8", [4], 8, 4)), new byte[8]);
        AssertRejected(path, "tensor 'w'", "data_offsets [8, 4]", "reversed");
    }

    [Fact]
    public void Open_OffsetsOutOfRange_ThrowsNamingTensor()
    {
        string path = Craft(_dir.File("range.safetensors"),
            Header(Entry("a", "F32", [2], 0, 8), Entry("b", "F32", [4], 8, 24)), new byte[16]);
        AssertRejected(path, "tensor 'b'", "data_offsets [8, 24]", "out of range", "16 bytes");
    }

    [Fact]
    public void Open_DataCutShort_ThrowsOutOfRangeTruncated()
    {
        string path = Craft(_dir.File("datacut.safetensors"), Header(Entry("w", "F32", [4], 0, 16)), new byte[15]);
        AssertRejected(path, "tensor 'w'", "out of range", "truncated");
    }

    [Fact]
    public void Open_OverlappingTensors_ThrowsNamingBoth()
    {
        string path = Craft(_dir.File("overlap.safetensors"),
            Header(Entry("a", "F32", [2], 0, 8), Entry("b", "F32", [2], 4, 12)), new byte[12]);
        AssertRejected(path, "tensor 'b'", "overlaps tensor 'a'");
    }

    [Fact]
    public void Open_SameRangeTwice_ThrowsOverlap()
    {
        string path = Craft(_dir.File("alias.safetensors"),
            Header(Entry("a", "F32", [2], 0, 8), Entry("b", "F32", [2], 0, 8)), new byte[8]);
        AssertRejected(path, "overlaps");
    }

    [Fact]
    public void Open_GapBetweenTensors_ThrowsNotCovered()
    {
        string path = Craft(_dir.File("gap.safetensors"),
            Header(Entry("a", "F32", [1], 0, 4), Entry("b", "F32", [1], 8, 12)), new byte[12]);
        AssertRejected(path, "gap", "bytes [4, 8)", "tensor 'b'", "not covered");
    }

    [Fact]
    public void Open_DataNotStartingAtZero_ThrowsGap()
    {
        string path = Craft(_dir.File("start.safetensors"), Header(Entry("a", "F32", [1], 4, 8)), new byte[8]);
        AssertRejected(path, "gap", "bytes [0, 4)", "tensor 'a'");
    }

    [Fact]
    public void Open_TrailingBytesAfterLastTensor_ThrowsNotCovered()
    {
        string path = Craft(_dir.File("trailing.safetensors"), Header(Entry("a", "F32", [1], 0, 4)), new byte[6]);
        AssertRejected(path, "do not cover the data region", "2 trailing bytes", "'a'");
    }

    [Fact]
    public void Open_DataWithNoTensors_ThrowsNotCovered()
    {
        string path = Craft(_dir.File("orphan.safetensors"), "{}", new byte[4]);
        AssertRejected(path, "4 trailing bytes", "no tensors");
    }

    [Fact]
    public void Open_DuplicateTensorNames_ThrowsNamingTensor()
    {
        // JsonDocument would accept this (last one wins); the reader must not.
        string path = Craft(_dir.File("dup.safetensors"),
            Header(Entry("w", "F32", [1], 0, 4), Entry("w", "F32", [1], 4, 8)), new byte[8]);
        AssertRejected(path, "duplicate tensor name 'w'");
    }

    [Fact]
    public void Open_DuplicateKeyInsideEntry_ThrowsNamingTensor()
    {
        string path = Craft(_dir.File("dupkey.safetensors"),
            "{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]);
        AssertRejected(path, "tensor 'w'", "duplicate key 'dtype'");
    }

    // ---- metadata ----

    [Fact]
    public void Open_MetadataValueNotString_ThrowsNamingKey()
    {
        string path = Craft(_dir.File("meta.safetensors"), "{\"__metadata__\":{\"format\":\"pt\",\"epoch\":3}}");
        AssertRejected(path, "'__metadata__' value for key 'epoch' must be a string", "a number");
    }

    [Fact]
    public void Open_MetadataNotObject_Throws()
    {
        string path = Craft(_dir.File("metalist.safetensors"), "{\"__metadata__\":[\"pt\"]}");
        AssertRejected(path, "'__metadata__' must be an object of string values", "an array");
    }

    [Fact]
    public void Open_DuplicateMetadata_Throws()
    {
        string path = Craft(_dir.File("metadup.safetensors"), "{\"__metadata__\":{},\"__metadata__\":{\"a\":\"b\"}}");
        AssertRejected(path, "duplicate '__metadata__'");
    }

    // ---- accepted variations ----

    [Fact]
    public void Open_HeaderWithSpacePaddingUnknownKeysAndNullMetadata_IsAccepted()
    {
        string header = "{\"__metadata__\":null,\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":{\"x\":[1,2]}}}";
        string path = Craft(_dir.File("ok.safetensors"), header + "       ", BitConverter.GetBytes(6.5f));
        using var file = SafeTensorsFile.Open(path);
        Assert.Empty(file.Metadata);
        Assert.Equal([6.5f], file.GetFloat32("w").ToArray());
    }

    [Fact]
    public void Open_TensorsListedOutOfOffsetOrder_KeepsHeaderOrder()
    {
        string path = Craft(_dir.File("order.safetensors"),
            Header(Entry("second", "U8", [2], 2, 4), Entry("first", "U8", [2], 0, 2)), [1, 2, 3, 4]);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(["second", "first"], file.Tensors.Select(t => t.Name));
        Assert.Equal([3L, 4L], file.GetInt64("second"));
    }

    // ---- corrupted copies of a real checkpoint ----

    static string RealModel => Path.Combine(SharedData.Models("random-bert-tiniest"), "model.safetensors");

    [Fact]
    public void Open_RealCheckpointTruncated_ThrowsNamingLastTensor()
    {
        byte[] bytes = File.ReadAllBytes(RealModel);
        string path = _dir.File("truncated-copy.safetensors");
        File.WriteAllBytes(path, bytes[..^3]);
        AssertRejected(path, "tensor 'cls.predictions.transform.dense.weight'", "out of range", "truncated");
    }

    [Fact]
    public void Open_RealCheckpointWithBytesAppended_ThrowsTrailingBytes()
    {
        string path = _dir.File("appended-copy.safetensors");
        File.WriteAllBytes(path, [.. File.ReadAllBytes(RealModel), 0, 0, 0, 0, 0]);
        AssertRejected(path, "5 trailing bytes");
    }

    [Fact]
    public void Open_RealCheckpointWithCorruptDType_ThrowsNamingTensor()
    {
        byte[] bytes = File.ReadAllBytes(RealModel);
        int at = IndexOf(bytes, "\"F32\""u8.ToArray());
        bytes[at + 3] = (byte)'X';   // "F3X"
        string path = _dir.File("dtype-copy.safetensors");
        File.WriteAllBytes(path, bytes);
        AssertRejected(path, "unknown dtype 'F3X'", "tensor 'bert.embeddings.LayerNorm.bias'");
    }

    [Fact]
    public void Open_RealCheckpointWithCorruptSeparator_ThrowsInvalidJson()
    {
        byte[] bytes = File.ReadAllBytes(RealModel);
        bytes[IndexOf(bytes, "\"shape\":"u8.ToArray()) + 7] = (byte)';';
        string path = _dir.File("separator-copy.safetensors");
        File.WriteAllBytes(path, bytes);
        AssertRejected(path, "not valid JSON");
    }

    static int IndexOf(byte[] haystack, byte[] needle)
    {
        int at = haystack.AsSpan().IndexOf(needle);
        Assert.True(at >= 0);
        return at;
    }
}

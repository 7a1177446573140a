using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using MixLens.Engine.SafeTensors;
using MixLens.Tests.Infrastructure;
using static MixLens.Tests.SafeTensors.SafeTensorsTestFiles;

namespace MixLens.Tests.SafeTensors;

/// <summary>Round trips through the writer and reader, the on-disk layout, input validation and atomic replacement.</summary>
public class SafeTensorsWriterTests
{
    [Fact]
    public void Write_Float32Int64AndMetadata_RoundTrip()
    {
        using var dir = new TempDirectory();
        string path = dir.File("round.safetensors");
        float[] weights = [1f, -2.5f, 3.25f, float.MaxValue, float.Epsilon, -0f];
        long[] ids = [0, -1, long.MaxValue, 42];
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["text"] = "héllo \"quoted\" ✓" };

        SafeTensorsWriter.Write(path, [TensorToWrite.Float32("layer.w", weights, 2, 3), TensorToWrite.Int64("ids", ids, 4)], metadata);

        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(["layer.w", "ids"], file.Tensors.Select(t => t.Name));
        Assert.Equal(metadata, file.Metadata);
        var w = file.GetInfo("layer.w");
        Assert.Equal((DType.F32, 0L, 24L), (w.DType, w.Begin, w.End));
        Assert.Equal([2L, 3L], w.Shape);
        var i = file.GetInfo("ids");
        Assert.Equal((DType.I64, 24L, 56L), (i.DType, i.Begin, i.End));
        Assert.Equal([4L], i.Shape);
        Assert.Equal(weights, file.GetFloat32("layer.w").ToArray());
        Assert.Equal(ids, file.GetInt64("ids"));
    }

    [Fact]
    public void Write_Float16AndBFloat16_RoundTripToRoundedValues()
    {
        using var dir = new TempDirectory();
        string path = dir.File("half.safetensors");
        float[] values = [0f, 1f, -0.333333f, 65504f, 1e6f, 1e-8f, 3.14159265f, float.NaN];
        SafeTensorsWriter.Write(path, [TensorToWrite.Float16("h", values, 2, 4), TensorToWrite.BFloat16("b", values, 8)]);

        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(DType.F16, file.GetInfo("h").DType);
        Assert.Equal(values.Select(v => (float)(Half)v).ToArray(), file.GetFloat32("h").ToArray());
        // bfloat16 keeps float32's exponent range and 8 significant bits: relative error <= 2^-8.
        var b = file.GetFloat32("b").ToArray();
        for (int k = 0; k < values.Length; k++)
        {
            if (float.IsNaN(values[k])) { Assert.True(float.IsNaN(b[k])); continue; }
            Assert.True(Math.Abs(b[k] - values[k]) <= Math.Abs(values[k]) / 256, $"{values[k]} -> {b[k]}");
            Assert.Equal(0, BitConverter.SingleToInt32Bits(b[k]) & 0xFFFF);
        }
        Assert.Equal(3.140625f, b[6]);   // 3.14159265 rounds to the nearest bfloat16
    }

    [Fact]
    public void Write_BFloat16Ties_RoundToEven()
    {
        using var dir = new TempDirectory();
        string path = dir.File("ties.safetensors");
        // 1 + 2^-8 lies exactly between bfloat16 1.0 and 1 + 2^-7: ties go to the even mantissa (1.0).
        // 1 + 3·2^-8 lies between 1 + 2^-7 (odd) and 1 + 2^-6 (even): it goes up.
        SafeTensorsWriter.Write(path, [TensorToWrite.BFloat16("t", [1f + 1f / 256, 1f + 3f / 256], 2)]);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal([1f, 1f + 1f / 64], file.GetFloat32("t").ToArray());
    }

    [Theory]
    [InlineData("a")]
    [InlineData("ab")]
    [InlineData("abc")]
    [InlineData("abcd")]
    [InlineData("a.much.longer.tensor.name")]
    public void Write_Header_IsSpacePaddedToMultipleOf8(string name)
    {
        using var dir = new TempDirectory();
        string path = dir.File("pad.safetensors");
        SafeTensorsWriter.Write(path, [TensorToWrite.Float32(name, [1f, 2f], 2)]);

        byte[] bytes = File.ReadAllBytes(path);
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        Assert.Equal(8 + n + 8, bytes.Length);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        string json = header.TrimEnd(' ');
        Assert.EndsWith("}", json);
        Assert.True(n - json.Length < 8);
        using var doc = JsonDocument.Parse(json);   // the unpadded part is complete JSON
        Assert.Equal(1f, BitConverter.ToSingle(bytes, 8 + (int)n));
    }

    [Fact]
    public void Write_ManyTensors_OffsetsContiguousInGivenOrder()
    {
        using var dir = new TempDirectory();
        string path = dir.File("order.safetensors");
        var tensors = new[]
        {
            TensorToWrite.Float32("z", [1f, 2f, 3f], 3),
            new TensorToWrite("flags", DType.BOOL, [3], new byte[] { 1, 0, 1 }),
            TensorToWrite.Int64("a", [5], 1),
            TensorToWrite.Float16("m", [0.5f], 1, 1),
        };
        SafeTensorsWriter.Write(path, tensors);

        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(["z", "flags", "a", "m"], file.Tensors.Select(t => t.Name));
        long expected = 0;
        foreach (var t in file.Tensors)
        {
            Assert.Equal(expected, t.Begin);
            expected = t.End;
        }
        Assert.Equal(12 + 3 + 8 + 2, expected);
        Assert.Equal([5L], file.GetInt64("a"));        // I64 at an unaligned offset reads correctly
        Assert.Equal([1L, 0, 1], file.GetInt64("flags"));
        Assert.Equal([0.5f], file.GetFloat32("m").ToArray());
    }

    [Fact]
    public void Write_EmptyListAndEmptyTensors_ReadBack()
    {
        using var dir = new TempDirectory();
        string empty = dir.File("empty.safetensors");
        SafeTensorsWriter.Write(empty, []);
        Assert.Equal(16, new FileInfo(empty).Length);   // 8-byte prefix + "{}" padded to 8
        using (var file = SafeTensorsFile.Open(empty))
        {
            Assert.Empty(file.Tensors);
            Assert.Empty(file.Metadata);
        }

        string zeros = dir.File("zeros.safetensors");
        SafeTensorsWriter.Write(zeros, [TensorToWrite.Float32("none", [], 0, 3), TensorToWrite.Float32("scalar", [7f])]);
        using var z = SafeTensorsFile.Open(zeros);
        Assert.Equal(0, z.GetFloat32("none").Length);
        Assert.Equal([7f], z.GetFloat32("scalar").ToArray());
        Assert.Empty(z.GetInfo("scalar").Shape);
    }

    [Fact]
    public void Write_NonAsciiNames_RoundTripAsUtf8()
    {
        using var dir = new TempDirectory();
        string path = dir.File("utf8.safetensors");
        SafeTensorsWriter.Write(path, [TensorToWrite.Float32("poids.é✓\"q\"", [1f], 1)]);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal("poids.é✓\"q\"", file.Tensors[0].Name);
        Assert.Contains("é✓", Encoding.UTF8.GetString(File.ReadAllBytes(path)));   // written raw, not \u-escaped
    }

    [Fact]
    public void Write_RealCheckpointCopy_PreservesEveryTensor()
    {
        using var dir = new TempDirectory();
        string source = Path.Combine(SharedData.Models("random-bert-tiniest"), "model.safetensors");
        string copy = dir.File("copy.safetensors");
        using var original = SafeTensorsFile.Open(source);
        SafeTensorsWriter.Write(copy,
            original.Tensors.Select(t => new TensorToWrite(t.Name, t.DType, t.Shape, original.GetBytes(t.Name).ToArray())),
            original.Metadata);

        using var reread = SafeTensorsFile.Open(copy);
        Assert.Equal(original.Metadata, reread.Metadata);
        Assert.Equal(original.Tensors, reread.Tensors, (a, b) => a.Name == b.Name && a.DType == b.DType && a.Shape.SequenceEqual(b.Shape) && a.Begin == b.Begin);
        foreach (var t in original.Tensors)
            Assert.Equal(original.GetFloat32(t.Name).ToArray(), reread.GetFloat32(t.Name).ToArray());
    }

    [Fact]
    public void Write_DuplicateNames_ThrowsArgumentException()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(dir.File("dup.safetensors"),
            [TensorToWrite.Float32("w", [1f], 1), TensorToWrite.Float32("w", [2f], 1)]));
        Assert.Contains("duplicate tensor name 'w'", e.Message);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Write_DataLengthNotShapeTimesDTypeSize_ThrowsArgumentException()
    {
        using var dir = new TempDirectory();
        var bad = new TensorToWrite("w", DType.F32, [2, 2], new byte[12]);
        var e = Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(dir.File("len.safetensors"), [bad]));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("12 data bytes", e.Message);
        Assert.Contains("needs 16 bytes", e.Message);
    }

    [Fact]
    public void Write_ReservedMetadataName_ThrowsArgumentException()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<ArgumentException>(() =>
            SafeTensorsWriter.Write(dir.File("r.safetensors"), [TensorToWrite.Float32("__metadata__", [1f], 1)]));
        Assert.Contains("reserved", e.Message);
    }

    [Fact]
    public void Write_NegativeDimension_ThrowsArgumentException()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<ArgumentException>(() =>
            SafeTensorsWriter.Write(dir.File("neg.safetensors"), [new TensorToWrite("w", DType.U8, [-1], Array.Empty<byte>())]));
        Assert.Contains("negative dimension -1", e.Message);
    }

    [Fact]
    public void Float32_DataLengthMismatchesShape_ThrowsArgumentException()
    {
        var e = Assert.Throws<ArgumentException>(() => TensorToWrite.Float32("w", [1f, 2f, 3f], 2, 2));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("3 values", e.Message);
        Assert.Contains("[2, 2]", e.Message);
        Assert.Throws<ArgumentException>(() => TensorToWrite.Int64("ids", [1, 2], 3));
        Assert.Throws<ArgumentException>(() => TensorToWrite.Float16("h", [1f], 2));
    }

    [Fact]
    public void Float32_CopiesInput_LaterChangesNotWritten()
    {
        float[] data = [1f, 2f];
        var tensor = TensorToWrite.Float32("w", data, 2);
        data[0] = 99f;
        using var dir = new TempDirectory();
        string path = dir.File("copy.safetensors");
        SafeTensorsWriter.Write(path, [tensor]);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal([1f, 2f], file.GetFloat32("w").ToArray());
    }

    [Fact]
    public void Write_ExistingFile_IsReplaced()
    {
        using var dir = new TempDirectory();
        string path = dir.File("replace.safetensors");
        SafeTensorsWriter.Write(path, [TensorToWrite.Float32("old", [1f], 1)]);
        SafeTensorsWriter.Write(path, [TensorToWrite.Float32("new", [2f, 3f], 2)]);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(["new"], file.Tensors.Select(t => t.Name));
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Write_InvalidTensor_LeavesExistingFileUntouched()
    {
        using var dir = new TempDirectory();
        string path = dir.File("keep.safetensors");
        SafeTensorsWriter.Write(path, [TensorToWrite.Float32("w", [1f], 1)]);
        byte[] before = File.ReadAllBytes(path);

        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path,
            [TensorToWrite.Float32("a", [1f], 1), new TensorToWrite("b", DType.F16, [3], new byte[4])]));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Write_FailureWhileWritingData_DeletesTempFileAndKeepsExisting()
    {
        using var dir = new TempDirectory();
        string path = dir.File("atomic.safetensors");
        SafeTensorsWriter.Write(path, [TensorToWrite.Float32("w", [1f], 1)]);
        byte[] before = File.ReadAllBytes(path);

        // Valid lengths (so validation passes), but reading the bytes fails midway through writing the data.
        var failing = new TensorToWrite("boom", DType.U8, [16], new FailingMemory(16).Memory);
        var e = Assert.Throws<IOException>(() => SafeTensorsWriter.Write(path, [TensorToWrite.Float32("first", [1f, 2f], 2), failing]));
        Assert.Equal("simulated read failure", e.Message);

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));   // no temp file left behind
    }

    [Fact]
    public void Write_FailureWithNoExistingFile_LeavesNothing()
    {
        using var dir = new TempDirectory();
        string path = dir.File("never.safetensors");
        Assert.Throws<IOException>(() => SafeTensorsWriter.Write(path, [new TensorToWrite("boom", DType.U8, [4], new FailingMemory(4).Memory)]));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    /// <summary>A memory whose span cannot be obtained: simulates an I/O failure during the data phase.</summary>
    sealed class FailingMemory(int length) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => throw new IOException("simulated read failure");
        public override MemoryHandle Pin(int elementIndex = 0) => throw new IOException("simulated read failure");
        public override void Unpin() { }
        protected override void Dispose(bool disposing) { }
        public override Memory<byte> Memory => CreateMemory(length);
    }
}

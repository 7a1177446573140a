using System.Runtime.InteropServices;
using MixLens.Engine.SafeTensors;
using static MixLens.Tests.SafeTensors.SafeTensorsTestFiles;

namespace MixLens.Tests.SafeTensors;

/// <summary>Every dtype through crafted files: widening to float32 / int64, and the unaligned F32 fallback.</summary>
public class SafeTensorsDTypeTests
{
    [Fact]
    public void GetInt64_EveryIntegerDType_WidensExactly()
    {
        using var dir = new TempDirectory();
        var parts = new (string Name, string DType, byte[] Data, long[] Expected)[]
        {
            ("i64", "I64", Bytes(long.MinValue, -1L, long.MaxValue), [long.MinValue, -1, long.MaxValue]),
            ("u64", "U64", Bytes(0UL, (ulong)long.MaxValue), [0, long.MaxValue]),
            ("i32", "I32", Bytes(int.MinValue, -7, int.MaxValue), [int.MinValue, -7, int.MaxValue]),
            ("u32", "U32", Bytes(uint.MaxValue, 3u), [uint.MaxValue, 3]),
            ("i16", "I16", Bytes((short)-32768, (short)5), [-32768, 5]),
            ("u16", "U16", Bytes((ushort)65535, (ushort)1), [65535, 1]),
            ("i8", "I8", Bytes((sbyte)-128, (sbyte)127), [-128, 127]),
            ("u8", "U8", [255, 0, 9], [255, 0, 9]),
            ("b", "BOOL", [1, 0, 1], [1, 0, 1]),
        };
        string path = CraftAll(dir.File("ints.safetensors"), parts.Select(p => (p.Name, p.DType, p.Data, (long)p.Expected.Length)));
        using var file = SafeTensorsFile.Open(path);
        foreach (var p in parts) Assert.Equal(p.Expected, file.GetInt64(p.Name));
    }

    [Fact]
    public void GetInt64_U64AboveInt64Max_ThrowsNamingTensor()
    {
        using var dir = new TempDirectory();
        string path = CraftAll(dir.File("u64.safetensors"), [("big", "U64", Bytes(1UL, ulong.MaxValue), 2)]);
        using var file = SafeTensorsFile.Open(path);
        var e = Assert.Throws<SafeTensorsException>(() => file.GetInt64("big"));
        Assert.Contains("u64.safetensors", e.Message);
        Assert.Contains("'big'", e.Message);
        Assert.Contains("does not fit", e.Message);
    }

    [Fact]
    public void GetFloat32_F64AndF8_ConvertToFloat32()
    {
        using var dir = new TempDirectory();
        string path = CraftAll(dir.File("floats.safetensors"),
        [
            ("f64", "F64", Bytes(1.5, -0.1, 1e300), 3),
            // E4M3: 0x38 = 1.0, 0x7E = 448 (max), 0x01 = 2^-9 (smallest subnormal), 0xC0 = -2.0, 0x7F = NaN
            ("e4m3", "F8_E4M3", [0x38, 0x7E, 0x01, 0xC0, 0x7F], 5),
            // E5M2: 0x3C = 1.0, 0x7B = 57344 (max), 0x01 = 2^-16, 0xFC = -inf, 0x7D = NaN
            ("e5m2", "F8_E5M2", [0x3C, 0x7B, 0x01, 0xFC, 0x7D], 5),
        ]);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal([1.5f, -0.1f, float.PositiveInfinity], file.GetFloat32("f64").ToArray());
        Assert.Equal([1f, 448f, MathF.Pow(2, -9), -2f, float.NaN], file.GetFloat32("e4m3").ToArray());
        Assert.Equal([1f, 57344f, MathF.Pow(2, -16), float.NegativeInfinity, float.NaN], file.GetFloat32("e5m2").ToArray());
    }

    [Fact]
    public void GetFloat32_BF16AllBitPatterns_MatchShiftDecode()
    {
        // 65536 values: exercises the vector loop and the scalar tail (65536 + 3 elements).
        var bits = Enumerable.Range(0, 65536 + 3).Select(i => (ushort)(i * 40503)).ToArray();
        using var dir = new TempDirectory();
        string path = CraftAll(dir.File("bf16.safetensors"), [("t", "BF16", Bytes(bits), bits.Length)]);
        using var file = SafeTensorsFile.Open(path);
        var actual = file.GetFloat32("t").ToArray();
        for (int i = 0; i < bits.Length; i++)
            Assert.Equal(BitConverter.Int32BitsToSingle(bits[i] << 16), actual[i]);
    }

    [Fact]
    public void GetFloat32_F32AtUnalignedOffset_CopiesOnceWithCorrectValues()
    {
        using var dir = new TempDirectory();
        float[] values = [1.25f, -3f, 7.5f];
        string path = CraftAll(dir.File("unaligned.safetensors"), [("flag", "BOOL", [1], 1), ("w", "F32", Bytes(values), 3)]);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(1, file.GetInfo("w").Begin);
        var first = file.GetFloat32("w");
        Assert.Equal(values, first.ToArray());
        Assert.True(MemoryMarshal.TryGetArray(first, out var a));           // a managed copy, not the mapping
        Assert.True(MemoryMarshal.TryGetArray(file.GetFloat32("w"), out var b));
        Assert.Same(a.Array, b.Array);                                       // ... made only once
    }

    [Fact]
    public void GetFloat32_ScalarAndEmptyTensors_HaveOneAndZeroElements()
    {
        using var dir = new TempDirectory();
        string header = "{" + Entry("empty", "F32", [0, 4], 0, 0) + "," + Entry("scalar", "F32", [], 0, 4) + "}";
        string path = Craft(dir.File("shapes.safetensors"), header, Bytes(2.5f));
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(0, file.GetFloat32("empty").Length);
        Assert.Equal([2.5f], file.GetFloat32("scalar").ToArray());
        Assert.Equal(1, file.GetInfo("scalar").ElementCount);
    }

    [Theory]
    [InlineData(DType.BOOL, 1)] [InlineData(DType.U8, 1)] [InlineData(DType.I8, 1)] [InlineData(DType.F8_E4M3, 1)]
    [InlineData(DType.I16, 2)] [InlineData(DType.U16, 2)] [InlineData(DType.F16, 2)] [InlineData(DType.BF16, 2)]
    [InlineData(DType.I32, 4)] [InlineData(DType.U32, 4)] [InlineData(DType.F32, 4)]
    [InlineData(DType.I64, 8)] [InlineData(DType.U64, 8)] [InlineData(DType.F64, 8)]
    public void SizeInBytes_EachDType_MatchesSpec(DType dtype, int size)
    {
        Assert.Equal(size, dtype.SizeInBytes());
        Assert.True(DTypeExtensions.TryParse(dtype.ToHeaderName(), out var parsed));
        Assert.Equal(dtype, parsed);
    }

    [Theory]
    [InlineData("f32")] [InlineData("9")] [InlineData("float32")] [InlineData("")]
    public void TryParse_NonSpecName_ReturnsFalse(string name) => Assert.False(DTypeExtensions.TryParse(name, out _));

    /// <summary>Crafts a file holding the given tensors contiguously, in order, 1-D (ASCII names only).</summary>
    static string CraftAll(string path, IEnumerable<(string Name, string DType, byte[] Data, long Count)> tensors)
    {
        var entries = new List<string>();
        var data = new List<byte>();
        foreach (var (name, dtype, bytes, count) in tensors)
        {
            entries.Add(Entry(name, dtype, [count], data.Count, data.Count + bytes.Length));
            data.AddRange(bytes);
        }
        // Pad to a multiple of 8 (as real writers do) so the data region is 8-byte aligned and alignment is deterministic.
        string header = "{" + string.Join(",", entries) + "}";
        return Craft(path, header.PadRight((header.Length + 7) / 8 * 8), data.ToArray());
    }
}

using MixLens.Engine.Conversion;
using MixLens.Engine.SafeTensors;

namespace MixLens.Tests.Convert;

/// <summary>
/// Every checkpoint of <c>fixtures/convert</c> converts to its expected safetensors file byte for byte (header,
/// tensor order and data), and the dtype casts agree with PyTorch's.
/// </summary>
public class FixtureConversionTests
{
    [Theory]
    [InlineData("pytorch_model.bin", "expected.safetensors", "zip")]
    [InlineData("pytorch_model.legacy.bin", "expected.safetensors", "legacy")]
    [InlineData("pytorch_model.f16.bin", "expected.f16.safetensors", "zip")]
    [InlineData("shared_storage.bin", "expected.shared_storage.safetensors", "zip")]
    public void Checkpoint_ConvertsByteForByteToExpectedFile(string checkpoint, string expected, string format)
    {
        using var temp = ConvertTestFiles.Temp();
        string output = temp.File("model.safetensors");

        var result = CheckpointConverter.Convert(ConvertTestFiles.Fixture(checkpoint), output);

        Assert.Equal([format], result.Formats);
        Assert.Equal(output, Assert.Single(result.Files).Path);
        byte[] actual = File.ReadAllBytes(output), want = File.ReadAllBytes(ConvertTestFiles.Fixture(expected));
        Assert.True(actual.AsSpan().SequenceEqual(want),
            $"{checkpoint}: {actual.Length} bytes written, {want.Length} expected; first difference at byte {FirstDifference(actual, want)}");
        using var file = SafeTensorsFile.Open(output);
        Assert.Equal(result.TensorCount, file.Tensors.Count);
    }

    [Fact]
    public void SharedStorage_EveryViewIsWrittenUnderItsOwnName_TransposeMaterialised()
    {
        using var temp = ConvertTestFiles.Temp();
        string output = temp.File("shared.safetensors");
        CheckpointConverter.Convert(ConvertTestFiles.Fixture("shared_storage.bin"), output);

        using var file = SafeTensorsFile.Open(output);
        float[] a = file.GetFloat32("a.weight").ToArray(), b = file.GetFloat32("b.weight").ToArray(), c = file.GetFloat32("c.weight").ToArray();
        Assert.Equal([4L, 6], file.GetInfo("a.weight").Shape);
        Assert.Equal([2L, 6], file.GetInfo("b.weight").Shape);
        Assert.Equal([6L, 4], file.GetInfo("c.weight").Shape);
        // b views storage elements 6..17 (= rows 1 and 2 of a); c is a's transpose (stride (1, 6) over the same 24 elements).
        Assert.Equal(a.AsSpan(6, 12).ToArray(), b);
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 4; j++)
                Assert.Equal(BitConverter.SingleToInt32Bits(a[j * 6 + i]), BitConverter.SingleToInt32Bits(c[i * 4 + j]));
    }

    [Fact]
    public void DTypeF16_FromF32Checkpoint_EqualsTorchHalfFileByteForByte()
    {
        using var temp = ConvertTestFiles.Temp();
        string output = temp.File("half.safetensors");
        CheckpointConverter.Convert(ConvertTestFiles.Fixture("pytorch_model.bin"), output, OutputDType.F16);
        Assert.Equal(File.ReadAllBytes(ConvertTestFiles.Fixture("expected.f16.safetensors")), File.ReadAllBytes(output));
    }

    [Fact]
    public void DTypeF32_FromF16Checkpoint_WidensExactly()
    {
        using var temp = ConvertTestFiles.Temp();
        string output = temp.File("wide.safetensors");
        CheckpointConverter.Convert(ConvertTestFiles.Fixture("pytorch_model.f16.bin"), output, OutputDType.F32);

        using var half = SafeTensorsFile.Open(ConvertTestFiles.Fixture("expected.f16.safetensors"));
        using var wide = SafeTensorsFile.Open(output);
        Assert.Equal(half.Tensors.Select(t => t.Name), wide.Tensors.Select(t => t.Name));
        foreach (var info in half.Tensors)
        {
            Assert.Equal(DType.F32, wide.GetInfo(info.Name).DType);
            var halves = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(half.GetBytes(info.Name).Span);
            var floats = wide.GetFloat32(info.Name).Span;
            for (int i = 0; i < halves.Length; i++)
                Assert.Equal(BitConverter.SingleToInt32Bits((float)halves[i]), BitConverter.SingleToInt32Bits(floats[i]));
        }
    }

    [Fact]
    public void DTypeBF16_RoundsToNearestEven()
    {
        using var temp = ConvertTestFiles.Temp();
        string output = temp.File("bf16.safetensors");
        CheckpointConverter.Convert(ConvertTestFiles.Fixture("pytorch_model.bin"), output, OutputDType.BF16);

        using var source = SafeTensorsFile.Open(ConvertTestFiles.Fixture("expected.safetensors"));
        using var converted = SafeTensorsFile.Open(output);
        long checkedValues = 0;
        foreach (var info in source.Tensors)
        {
            Assert.Equal(DType.BF16, converted.GetInfo(info.Name).DType);
            var floats = source.GetFloat32(info.Name).Span;
            var bits = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(converted.GetBytes(info.Name).Span);
            for (int i = 0; i < floats.Length; i++, checkedValues++)
                Assert.Equal(ReferenceBFloat16(floats[i]), bits[i]);
        }
        Assert.True(checkedValues > 100_000);
    }

    [Fact]
    public void DTypeKeepAndSameDType_AreIdentical()
    {
        using var temp = ConvertTestFiles.Temp();
        CheckpointConverter.Convert(ConvertTestFiles.Fixture("pytorch_model.bin"), temp.File("f32.safetensors"), OutputDType.F32);
        CheckpointConverter.Convert(ConvertTestFiles.Fixture("pytorch_model.f16.bin"), temp.File("f16.safetensors"), OutputDType.F16);
        Assert.Equal(File.ReadAllBytes(ConvertTestFiles.Fixture("expected.safetensors")), File.ReadAllBytes(temp.File("f32.safetensors")));
        Assert.Equal(File.ReadAllBytes(ConvertTestFiles.Fixture("expected.f16.safetensors")), File.ReadAllBytes(temp.File("f16.safetensors")));
    }

    /// <summary>float32 → bfloat16 by exact arithmetic: the nearest representable value, ties to an even mantissa.</summary>
    static ushort ReferenceBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint upper = bits >> 16, lower = bits & 0xFFFF;
        if (lower > 0x8000 || (lower == 0x8000 && (upper & 1) == 1)) upper++;
        return (ushort)upper;
    }

    static int FirstDifference(byte[] a, byte[] b)
    {
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++) if (a[i] != b[i]) return i;
        return n;
    }
}

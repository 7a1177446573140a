using System.Text.Json;
using MixLens.Analysis.Visualization;
using MixLens.Engine;

namespace MixLens.Tests.Views;

/// <summary>The page's number format: linear 8/16-bit quantization per slice, with its stated error bound.</summary>
public class QuantizedTensorTests
{
    static Tensor Random(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        var t = Tensor.Zeros(shape);
        for (int i = 0; i < t.Length; i++) t.Data[i] = (float)(rng.NextDouble() * 6 - 2);
        return t;
    }

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void Decode_RandomTensor_WithinHalfAStepOfEachSlice(int bits)
    {
        var t = Random(bits, 3, 2, 5, 7);
        var q = QuantizedTensor.Encode(t, 2, bits, "t");
        Assert.Equal(6, q.SliceCount);
        Assert.Equal(35, q.SliceLength);
        var back = q.Decode();
        Assert.Equal(t.Shape, back.Shape);
        for (int i = 0; i < t.Length; i++)
        {
            int s = i / 35;
            double step = (q.Max[s] - (double)q.Min[s]) / ((1 << bits) - 1);
            Assert.True(Math.Abs(back.Data[i] - t.Data[i]) <= q.MaxError(s) + 1e-6, $"element {i}: {back.Data[i]} vs {t.Data[i]}");
            Assert.Equal(step / 2, q.MaxError(s), 12);
        }
    }

    [Fact]
    public void Encode_SliceEnds_DecodeExactly()
    {
        var t = new Tensor([0.25f, -1.5f, 3.75f, 7f, 7f, 7f], 2, 3);
        var q = QuantizedTensor.Encode(t, 1, 8, "t");
        Assert.Equal([-1.5f, 7f], q.Min);
        Assert.Equal([3.75f, 7f], q.Max);
        var back = q.Decode();
        Assert.Equal(-1.5f, back.Data[1]);
        Assert.Equal(3.75f, back.Data[2]);
        // A constant slice decodes to its value exactly.
        Assert.Equal([7f, 7f, 7f], back.Data[3..]);
    }

    [Fact]
    public void Encode_NonFiniteValue_ThrowsNamingTensorAndIndex()
    {
        var t = new Tensor([0f, float.NaN, 1f, 2f], 2, 2);
        var e = Assert.Throws<ArgumentException>(() => QuantizedTensor.Encode(t, 2, 8, "rollout"));
        Assert.Contains("rollout", e.Message);
        Assert.Contains("index 1", e.Message);
    }

    [Fact]
    public void Encode_BadBitsOrSliceRank_Throws()
    {
        var t = Tensor.Zeros(2, 2);
        Assert.Throws<ArgumentException>(() => QuantizedTensor.Encode(t, 2, 12, "t"));
        Assert.Throws<ArgumentException>(() => QuantizedTensor.Encode(t, 3, 8, "t"));
    }

    [Fact]
    public void FromJson_UnknownCompression_IsAFormatError()
    {
        using var doc = JsonDocument.Parse("""{"shape":[1,1,1],"sliceRank":2,"bits":8,"min":[0],"max":[1],"compression":"gzip","chunks":["AA=="]}""");
        var e = Assert.Throws<FormatException>(() => QuantizedTensor.FromJson(doc.RootElement));
        Assert.Contains("gzip", e.Message);
    }
}

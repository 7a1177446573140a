using MixLens.Engine.Conversion;
using MixLens.Engine.SafeTensors;

namespace MixLens.Tests.Convert;

/// <summary>Strided views copied out of a storage: offsets, permutations, slices, stride 0, byte order.</summary>
public class TensorMaterializerTests
{
    static readonly float[] Storage = Enumerable.Range(0, 64).Select(i => i * 0.5f).ToArray();

    static float[] Materialize(long offset, long[] shape, long[] strides, bool bigEndian = false, byte[]? bytes = null)
    {
        var storage = new StorageReference("0", DType.F32, 64, "cpu");
        var tensor = new TensorReference(storage, offset, shape, strides);
        bytes ??= System.Runtime.InteropServices.MemoryMarshal.AsBytes(Storage.AsSpan()).ToArray();
        byte[] result = TensorMaterializer.Materialize("t.bin", "w", tensor, bytes, bigEndian);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(result).ToArray();
    }

    [Fact]
    public void PermutedThreeDimensionalView_MatchesIndexArithmetic()
    {
        // A [2, 3, 4] tensor stored at offset 5 with strides (1, 8, 2): not contiguous in any dimension order.
        long[] shape = [2, 3, 4], strides = [1, 8, 2];
        float[] actual = Materialize(5, shape, strides);
        var expected = new List<float>();
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 4; k++)
                    expected.Add(Storage[5 + i * 1 + j * 8 + k * 2]);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void RowSliceWithUnitInnerStride_AndBroadcastStrideZero()
    {
        Assert.Equal(new[] { 10f, 10.5f, 12f, 12.5f }, Materialize(20, [2, 2], [4, 1]));
        Assert.Equal(new[] { 1.5f, 2f, 1.5f, 2f, 1.5f, 2f }, Materialize(3, [3, 2], [0, 1]));
    }

    [Fact]
    public void ScalarAndEmptyTensors()
    {
        Assert.Equal(new[] { 3.5f }, Materialize(7, [], []));
        Assert.Empty(Materialize(0, [0, 4], [4, 1]));
    }

    [Fact]
    public void BigEndianStorage_IsSwappedPerElement()
    {
        byte[] big = System.Runtime.InteropServices.MemoryMarshal.AsBytes(Storage.AsSpan()).ToArray();
        for (int i = 0; i < big.Length; i += 4) Array.Reverse(big, i, 4);
        Assert.Equal(Storage[8..12], Materialize(8, [4], [1], bigEndian: true, bytes: big));
    }

    [Fact]
    public void NegativeStride_IsRejected()
    {
        var e = Assert.Throws<CheckpointException>(() => Materialize(10, [2], [-1]));
        Assert.StartsWith("t.bin: tensor 'w': negative storage offset", e.Message);
    }

    [Fact]
    public void ContiguityIgnoresSizeOneDimensions()
    {
        Assert.True(TensorMaterializer.IsContiguous([1, 4], [99, 1]));
        Assert.False(TensorMaterializer.IsContiguous([4, 6], [1, 4]));
    }
}

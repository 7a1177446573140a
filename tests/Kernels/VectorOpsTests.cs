using MixLens.Kernels;

namespace MixLens.Tests.Kernels;

public class VectorOpsTests
{
    [Fact]
    public void Add_InPlace_AddsElementwise()
    {
        foreach (int n in KernelTestData.TailLengths)
        {
            var x = KernelTestData.SmallIntegers(n, n);
            var y = KernelTestData.SmallIntegers(n, n + 1);
            var expected = x.Zip(y, (a, b) => a + b).ToArray();
            VectorOps.Add(x, y);
            Assert.Equal(expected, y);
        }
    }

    [Fact]
    public void Add_ToDestination_AddsElementwise()
    {
        float[] d = new float[3];
        VectorOps.Add([1f, 2f, 3f], [10f, 20f, 30f], d);
        Assert.Equal([11f, 22f, 33f], d);
    }

    [Fact]
    public void Add_LengthMismatch_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => VectorOps.Add(new float[3], new float[4]));
        Assert.Equal("y", ex.ParamName);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => VectorOps.Add(new float[3], new float[3], new float[2])).ParamName);
    }

    [Fact]
    public void AddRowBias_EveryRow_GetsBias()
    {
        var x = new float[6];
        VectorOps.AddRowBias(x, [1f, 2f, 3f], 2, 3);
        Assert.Equal([1f, 2f, 3f, 1f, 2f, 3f], x);
        Assert.Equal("bias", Assert.Throws<ArgumentException>(() => VectorOps.AddRowBias(x, [1f, 2f], 2, 3)).ParamName);
    }

    [Fact]
    public void DotNormSumScale_SmallVectors_MatchHandValues()
    {
        Assert.Equal(32f, VectorOps.Dot([1f, 2f, 3f], [4f, 5f, 6f]));
        Assert.Equal(5f, VectorOps.L2Norm([3f, 4f]));
        Assert.Equal(6f, VectorOps.Sum([1f, 2f, 3f]));
        float[] x = [1f, -2f];
        VectorOps.Scale(x, 0.5f);
        Assert.Equal([0.5f, -1f], x);
        Assert.Throws<ArgumentException>(() => VectorOps.Dot(new float[2], new float[3]));
    }
}

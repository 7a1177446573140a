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

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(1, 37)]
    [InlineData(17, 1)]
    [InlineData(16, 16)]
    [InlineData(33, 47)]
    [InlineData(130, 129)]
    [InlineData(8, 8)]
    [InlineData(9, 8)]
    [InlineData(8, 15)]
    [InlineData(512, 512)]
    [InlineData(24, 40)]
    public void Transpose_EveryShape_MovesEveryElement(int rows, int cols)
    {
        var a = KernelTestData.SmallIntegers(rows * cols, rows + 31 * cols);
        var aT = new float[rows * cols];
        VectorOps.Transpose(a, rows, cols, aT);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                Assert.Equal(a[i * cols + j], aT[j * rows + i]);
    }

    /// <summary>The AVX 8 × 8 blocks (Vector256 and up) and the element-wise tiles (narrower paths) give the same aT.</summary>
    [Theory, MemberData(nameof(KernelPaths))]
    public void Transpose_OnEveryPath_MovesEveryElement(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        foreach (var (rows, cols) in new[] { (33, 47), (64, 24), (7, 9) })
        {
            var a = KernelTestData.SmallIntegers(rows * cols, rows * 7 + cols);
            var aT = new float[rows * cols];
            VectorOps.Transpose(a, rows, cols, aT);
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                    Assert.Equal(a[i * cols + j], aT[j * rows + i]);
        }
    }

    public static TheoryData<VectorPath> KernelPaths => KernelTestData.Paths;

    [Fact]
    public void Transpose_BadArguments_ThrowNamingTheArgument()
    {
        Assert.Equal("a", Assert.Throws<ArgumentException>(() => VectorOps.Transpose(new float[5], 2, 3, new float[6])).ParamName);
        Assert.Equal("aT", Assert.Throws<ArgumentException>(() => VectorOps.Transpose(new float[6], 2, 3, new float[7])).ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentOutOfRangeException>(() => VectorOps.Transpose(new float[0], -1, 3, new float[0])).ParamName);
        var shared = new float[4];
        Assert.Equal("aT", Assert.Throws<ArgumentException>(() => VectorOps.Transpose(shared, 2, 2, shared)).ParamName);
    }
}

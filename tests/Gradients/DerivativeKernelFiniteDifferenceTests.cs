using MixLens.Engine.Heads;
using MixLens.Engine.Model;
using MixLens.Kernels;
using Xunit.Abstractions;

namespace MixLens.Tests.Gradients;

/// <summary>
/// Each derivative kernel of the backward against central finite differences (h = 1e-5) of its forward written here in
/// float64, on hand-made inputs: <see cref="LayerNorm.Backward"/> (vector-Jacobian product) and
/// <see cref="LayerNorm.Tangent"/> (Jacobian-vector product), <see cref="Softmax.Backward"/> as both,
/// <see cref="Activations.MultiplyByDerivative"/> (GELU erf and tanh forms, ReLU away from its kink) and
/// <see cref="HeadActivations.MultiplyByDerivative"/> (tanh, GELU, tanh GELU, ReLU). Tolerance: |kernel − FD| ≤ 1e-5 ·
/// max|kernel| per call (float32 results of float64 arithmetic).
/// </summary>
public class DerivativeKernelFiniteDifferenceTests(ITestOutputHelper output)
{
    const double RelativeTolerance = 1e-5;

    static float[] Uniform(int length, int seed, double low, double high)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => (float)(low + (high - low) * random.NextDouble())).ToArray();
    }

    /// <summary>One row of y = (x − μ)/√(σ² + ε) · γ + β in float64 (biased σ²).</summary>
    static double[] LayerNormRow(double[] x, float[] gamma, float[] beta, double eps)
    {
        int cols = x.Length;
        double mean = 0, variance = 0;
        foreach (double v in x) mean += v;
        mean /= cols;
        foreach (double v in x) variance += (v - mean) * (v - mean);
        double rstd = 1 / Math.Sqrt(variance / cols + eps);
        var y = new double[cols];
        for (int c = 0; c < cols; c++) y[c] = (x[c] - mean) * rstd * gamma[c] + beta[c];
        return y;
    }

    static double[] Row(float[] m, int r, int cols) => m.Skip(r * cols).Take(cols).Select(v => (double)v).ToArray();

    /// <summary>Asserts max|actual − expected| ≤ tolerance · max(max|actual|, <paramref name="scale"/>) and writes both;
    /// <paramref name="scale"/> is the natural size of the result where it can cancel to about 0.</summary>
    void AssertClose(string what, ReadOnlySpan<float> actual, double[] expected, double scale = 0)
    {
        double maxDiff = 0, max = 0;
        int worst = 0;
        for (int k = 0; k < actual.Length; k++)
        {
            double diff = Math.Abs(actual[k] - expected[k]);
            if (diff > maxDiff) (maxDiff, worst) = (diff, k);
            max = Math.Max(max, Math.Abs(actual[k]));
        }
        output.WriteLine($"{what}: max |diff| {maxDiff:G3}, max |value| {max:G3}" + (scale > max ? $", scale {scale:G3}" : ""));
        max = Math.Max(max, scale);
        Assert.True(maxDiff <= RelativeTolerance * max,
            $"{what}: max |diff| {maxDiff:G3} > {RelativeTolerance:G2} × {max:G3}; at [{worst}] kernel {actual[worst]:G9}, finite difference {expected[worst]:G9}");
    }

    // ---- LayerNorm -----------------------------------------------------------------------------------------------

    /// <summary>x [rows, cols] with a different offset and spread per row, γ, β, and the forward's saved μ, ρ.</summary>
    static (float[] X, float[] Gamma, float[] Beta, float[] Mean, float[] Rstd) LayerNormCase(int rows, int cols, float eps, int seed)
    {
        var x = Uniform(rows * cols, seed, -1, 1);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) x[r * cols + c] = x[r * cols + c] * (0.5f + r) + 2f * r - 1;
        var gamma = Uniform(cols, seed + 1, 0.3, 1.7);
        var beta = Uniform(cols, seed + 2, -0.5, 0.5);
        var mean = new float[rows];
        var rstd = new float[rows];
        LayerNorm.Forward(x, gamma, beta, eps, new float[rows * cols], rows, cols, mean, rstd);
        return (x, gamma, beta, mean, rstd);
    }

    [Theory]
    [InlineData(2, 1e-12f)]
    [InlineData(7, 1e-5f)]
    [InlineData(32, 1e-12f)]
    [InlineData(67, 1e-5f)]
    [InlineData(384, 1e-12f)]
    public void LayerNormBackward_HandMadeRows_MatchesFiniteDifferencesOfLoss(int cols, float eps)
    {
        const int rows = 3;
        var (x, gamma, beta, mean, rstd) = LayerNormCase(rows, cols, eps, seed: cols);
        var dy = Uniform(rows * cols, seed: 10 + cols, -1, 1);
        var dx = new float[rows * cols];
        LayerNorm.Backward(x, mean, rstd, gamma, dy, dx, rows, cols);

        // ∂/∂x_rc of ℓ = Σ_c' dy_rc' · y_rc'(x_r)
        var fd = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            var xr = Row(x, r, cols);
            var dyr = Row(dy, r, cols);
            for (int c = 0; c < cols; c++)
                fd[r * cols + c] = FiniteDifferences.Central(h =>
                {
                    var xp = (double[])xr.Clone();
                    xp[c] += h;
                    var y = LayerNormRow(xp, gamma, beta, eps);
                    double loss = 0;
                    for (int k = 0; k < cols; k++) loss += y[k] * dyr[k];
                    return new LossAt(loss);
                });
        }
        // the Jacobian's size is ρ·|γ ⊙ dy|; with two columns the result is 0 up to float32 rounding of x̂ = ±1
        double scale = rstd.Max() * dy.Select((v, k) => Math.Abs(gamma[k % cols] * v)).Max();
        AssertClose($"LayerNorm.Backward cols {cols}", dx, fd, scale);

        // accumulate: the result is added onto what dx holds
        var acc = Uniform(rows * cols, seed: 20 + cols, -1, 1);
        var expected = acc.Select((a, k) => (double)a + dx[k]).ToArray();
        LayerNorm.Backward(x, mean, rstd, gamma, dy, acc, rows, cols, accumulate: true);
        AssertClose($"LayerNorm.Backward cols {cols}, accumulate", acc, expected);
    }

    [Theory]
    [InlineData(2, 1e-12f)]
    [InlineData(7, 1e-5f)]
    [InlineData(32, 1e-12f)]
    [InlineData(67, 1e-5f)]
    [InlineData(384, 1e-12f)]
    public void LayerNormTangent_StackedTangents_MatchFiniteDifferencesOfOutput(int cols, float eps)
    {
        const int statRows = 3, tangents = 2;
        var (x, gamma, beta, mean, rstd) = LayerNormCase(statRows, cols, eps, seed: cols + 1);
        // tangent row r is at the statistics of row r mod statRows (B tangents of one text stacked)
        int rows = statRows * tangents;
        var t = Uniform(rows * cols, seed: 30 + cols, -1, 1);
        var dy = new float[rows * cols];
        LayerNorm.Tangent(x, mean, rstd, gamma, t, dy, rows, cols, statRows);

        var fd = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            var xr = Row(x, r % statRows, cols);
            var tr = Row(t, r, cols);
            // the tangent of the whole row at once: (y(x + h t) − y(x − h t)) / 2h
            var row = FiniteDifferences.Central(h =>
            {
                var xp = new double[cols];
                for (int k = 0; k < cols; k++) xp[k] = xr[k] + h * tr[k];
                return (LayerNormRow(xp, gamma, beta, eps), 0UL);
            })!;
            row.CopyTo(fd, r * cols);
        }
        AssertClose($"LayerNorm.Tangent cols {cols}", dy, fd, rstd.Max() * gamma.Max(Math.Abs) * t.Max(Math.Abs));
    }

    // ---- softmax -------------------------------------------------------------------------------------------------

    static double[] SoftmaxRow(double[] s)
    {
        double max = s.Max();
        var e = s.Select(v => double.IsNegativeInfinity(v) ? 0 : Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }

    /// <summary>Scores [rows, cols] (spread up to ±4, the last key of row 1 masked with −∞) and their probabilities.</summary>
    static (float[] Scores, float[] Probs) SoftmaxCase(int rows, int cols, int seed)
    {
        var scores = Uniform(rows * cols, seed, -4, 4);
        if (rows > 1 && cols > 1) scores[2 * cols - 1] = float.NegativeInfinity;
        var probs = (float[])scores.Clone();
        Softmax.Rows(probs, rows, cols);
        return (scores, probs);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(19)]
    public void SoftmaxBackward_AsVectorJacobianProduct_MatchesFiniteDifferencesOfLoss(int cols)
    {
        const int probRows = 3, rows = 6;
        var (scores, probs) = SoftmaxCase(probRows, cols, seed: cols);
        var v = Uniform(rows * cols, seed: 40 + cols, -2, 2);
        var u = new float[rows * cols];
        Softmax.Backward(probs, v, u, rows, cols, probRows);

        // ∂/∂s_rc of ℓ = Σ_c' v_rc' softmax(s_r)_c'
        var fd = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            var s = Row(scores, r % probRows, cols);
            var vr = Row(v, r, cols);
            for (int c = 0; c < cols; c++)
                fd[r * cols + c] = double.IsNegativeInfinity(s[c]) ? 0 : FiniteDifferences.Central(h =>
                {
                    var sp = (double[])s.Clone();
                    sp[c] += h;
                    return new LossAt(SoftmaxRow(sp).Select((a, k) => a * vr[k]).Sum());
                });
        }
        AssertClose($"Softmax.Backward (VJP) cols {cols}", u, fd);
        if (cols > 1) Assert.Equal(0f, u[2 * cols - 1]); // the masked key

        // in place (u = v) gives the same
        Softmax.Backward(probs, v, v, rows, cols, probRows);
        Assert.Equal(u, v);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(19)]
    public void SoftmaxBackward_AsJacobianVectorProduct_MatchesFiniteDifferencesOfProbs(int cols)
    {
        const int probRows = 3, rows = 9;
        var (scores, probs) = SoftmaxCase(probRows, cols, seed: cols + 100);
        var sDot = Uniform(rows * cols, seed: 50 + cols, -1, 1);
        var aDot = new float[rows * cols];
        Softmax.Backward(probs, sDot, aDot, rows, cols, probRows);

        var fd = new double[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            var s = Row(scores, r % probRows, cols);
            var t = Row(sDot, r, cols);
            for (int c = 0; c < cols; c++)
                fd[r * cols + c] = FiniteDifferences.Central(h => new LossAt(SoftmaxRow(s.Select((x, k) => x + h * t[k]).ToArray())[c]));
        }
        AssertClose($"Softmax.Backward (JVP) cols {cols}", aDot, fd);
    }

    // ---- activations ---------------------------------------------------------------------------------------------

    /// <summary>Pre-activations from −12 to 12, dense around 0 and around GELU's erf clamp (±5.42); ReLU's kink at 0 left
    /// out (|u| ≥ 1e-3).</summary>
    static float[] PreActivations()
    {
        var u = new List<float>();
        for (int k = -240; k <= 240; k++) u.Add(k * 0.05f);                     // −12 … 12
        for (int k = -20; k <= 20; k++) u.Add(5.42f + k * 0.003f);              // around the erf clamp
        for (int k = -20; k <= 20; k++) u.Add(-5.42f + k * 0.003f);
        u.AddRange([1e-3f, -1e-3f, 0.0123f, -0.0456f, 30f, -30f]);
        return u.Where(x => Math.Abs(x) >= 1e-3f).ToArray();
    }

    /// <summary>g ⊙ act′(u) against g ⊙ FD of act, on every vector path this machine has (the erf GELU derivative is
    /// vectorised per path; the others are scalar on all).</summary>
    void CheckActivation(string what, Func<double, double> act, Action<ReadOnlySpan<float>, Span<float>> multiplyByDerivative)
    {
        var u = PreActivations();
        var g = Uniform(u.Length, seed: u.Length, -2, 2);
        var fd = u.Select((x, k) => g[k] * FiniteDifferences.Central(h => new LossAt(act(x + h)))).ToArray();
        foreach (var path in Kernels.KernelTestData.AvailablePaths)
        {
            using var _ = VectorPaths.LimitForCurrentThread(path);
            var result = (float[])g.Clone();
            multiplyByDerivative(u, result);
            AssertClose($"{what} ({path})", result, fd);
        }
    }

    [Theory]
    [InlineData(Activation.Gelu)]
    [InlineData(Activation.GeluTanh)]
    [InlineData(Activation.Relu)]
    public void ActivationsMultiplyByDerivative_FfnActivation_MatchesFiniteDifferences(Activation activation)
    {
        var gemm = activation switch
        {
            Activation.Gelu => GemmActivation.Gelu,
            Activation.GeluTanh => GemmActivation.GeluTanh,
            _ => GemmActivation.Relu,
        };
        CheckActivation($"Activations.MultiplyByDerivative {activation}", u => Float64Encoder.Activate(activation, u),
            (u, g) => Activations.MultiplyByDerivative(gemm, u, g));
        // act′(u) alone (forward mode's slope), times g here
        CheckActivation($"Activations.Derivative {activation}", u => Float64Encoder.Activate(activation, u), (u, g) =>
        {
            var slope = new float[u.Length];
            Activations.Derivative(gemm, u, slope);
            for (int k = 0; k < g.Length; k++) g[k] *= slope[k];
        });
    }

    [Theory]
    [InlineData(HeadActivation.Tanh)]
    [InlineData(HeadActivation.Gelu)]
    [InlineData(HeadActivation.GeluTanh)]
    [InlineData(HeadActivation.Relu)]
    public void HeadActivationsMultiplyByDerivative_HeadActivation_MatchesFiniteDifferences(HeadActivation activation)
    {
        Func<double, double> act = activation switch
        {
            HeadActivation.Tanh => Math.Tanh,
            HeadActivation.Gelu => u => Float64Encoder.Activate(Activation.Gelu, u),
            HeadActivation.GeluTanh => u => Float64Encoder.Activate(Activation.GeluTanh, u),
            _ => u => Float64Encoder.Activate(Activation.Relu, u),
        };
        CheckActivation($"HeadActivations.MultiplyByDerivative {activation}", act, (u, g) => activation.MultiplyByDerivative(u, g));
    }
}

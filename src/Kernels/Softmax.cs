namespace MixLens.Kernels;

/// <summary>Row softmax (STUB).</summary>
public static class Softmax
{
    /// <summary>In place, each of <paramref name="rows"/> rows of length <paramref name="cols"/>: max-subtracted softmax;
    /// -inf entries become 0; a row that is entirely -inf becomes all zeros.</summary>
    public static void Rows(Span<float> x, int rows, int cols) => throw new NotImplementedException();
}

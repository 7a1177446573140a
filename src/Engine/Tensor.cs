namespace MixLens.Engine;

/// <summary>
/// A dense row-major float32 tensor: a flat buffer and its shape. Used for activations and trace captures;
/// weights stay in the memory-mapped checkpoint (see <see cref="Model.BertWeights"/>).
/// </summary>
public sealed class Tensor
{
    /// <summary>The elements, row-major (last axis fastest).</summary>
    public float[] Data { get; }

    /// <summary>The dimensions, outermost first.</summary>
    public int[] Shape { get; }

    public Tensor(float[] data, params int[] shape)
    {
        long count = 1;
        foreach (var s in shape)
        {
            if (s < 0) throw new ArgumentException($"negative dimension in shape [{string.Join(",", shape)}]", nameof(shape));
            count *= s;
        }
        if (count != data.Length)
            throw new ArgumentException($"shape [{string.Join(",", shape)}] holds {count} elements but the buffer has {data.Length}", nameof(data));
        Data = data;
        Shape = shape;
    }

    /// <summary>A zero-filled tensor of the given shape.</summary>
    public static Tensor Zeros(params int[] shape)
    {
        long count = 1;
        foreach (var s in shape) count *= s;
        return new Tensor(new float[count], shape);
    }

    public int Rank => Shape.Length;
    public int Length => Data.Length;

    /// <summary>Row r of a tensor viewed as [rows, Shape[^1]].</summary>
    public Span<float> Row(int r) => Data.AsSpan(r * Shape[^1], Shape[^1]);

    public float this[int i, int j] => Data[i * Shape[1] + j];
    public float this[int i, int j, int k] => Data[(i * Shape[1] + j) * Shape[2] + k];

    public override string ToString() => $"Tensor[{string.Join(", ", Shape)}]";
}

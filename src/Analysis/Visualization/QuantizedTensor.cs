using MixLens.Engine;

namespace MixLens.Analysis.Visualization;

/// <summary>
/// A tensor stored in the page as unsigned 8- or 16-bit integers, linearly scaled per slice, to keep a 512-token page
/// small: the tensor is cut into slices over its last <see cref="SliceRank"/> axes (one attention matrix, one layer's
/// query vectors), and each slice s stores q = round((v − min_s) / (max_s − min_s) · (2^bits − 1)). It decodes as
/// v' = min_s + q · (max_s − min_s) / (2^bits − 1), so |v' − v| ≤ <see cref="MaxError"/>(s) = (max_s − min_s) / (2 · (2^bits − 1)):
/// 8 bits keep every colour of a 256-level colour map; 16 bits keep the neuron view's numbers to 4–5 digits.
/// Values are little-endian; a slice whose values are all equal stores zeros.
/// </summary>
public sealed class QuantizedTensor
{
    /// <summary>The shape of the original tensor.</summary>
    public int[] Shape { get; }
    /// <summary>How many trailing axes make one slice.</summary>
    public int SliceRank { get; }
    /// <summary>8 or 16.</summary>
    public int Bits { get; }
    /// <summary>Per-slice minimum and maximum, [slices].</summary>
    public float[] Min { get; }
    public float[] Max { get; }
    /// <summary>The quantized values, 1 or 2 bytes each (little-endian), in row-major order.</summary>
    public byte[] Bytes { get; }

    QuantizedTensor(int[] shape, int sliceRank, int bits, float[] min, float[] max, byte[] bytes)
    {
        Shape = shape;
        SliceRank = sliceRank;
        Bits = bits;
        Min = min;
        Max = max;
        Bytes = bytes;
    }

    public int Levels => (1 << Bits) - 1;
    public int SliceLength => Shape[^SliceRank..].Aggregate(1, (a, b) => a * b);
    public int SliceCount => Min.Length;

    /// <summary>The largest decoding error of slice <paramref name="slice"/>.</summary>
    public double MaxError(int slice) => ((double)Max[slice] - Min[slice]) / (2.0 * Levels);

    /// <summary>Quantizes <paramref name="tensor"/> slice by slice.</summary>
    /// <param name="name">names the tensor in errors.</param>
    /// <exception cref="ArgumentException">bits is not 8 or 16, sliceRank is out of range, or a value is NaN or infinite.</exception>
    public static QuantizedTensor Encode(Tensor tensor, int sliceRank, int bits, string name)
    {
        if (bits is not (8 or 16)) throw new ArgumentException($"bits must be 8 or 16, not {bits}", nameof(bits));
        if (sliceRank < 1 || sliceRank > tensor.Rank)
            throw new ArgumentException($"slice rank {sliceRank} does not fit a rank-{tensor.Rank} tensor", nameof(sliceRank));
        int sliceLength = tensor.Shape[^sliceRank..].Aggregate(1, (a, b) => a * b);
        int slices = sliceLength == 0 ? 0 : tensor.Length / sliceLength;
        int bytesPer = bits / 8, levels = (1 << bits) - 1;
        var min = new float[slices];
        var max = new float[slices];
        var bytes = new byte[tensor.Length * bytesPer];
        var data = tensor.Data;
        for (int s = 0; s < slices; s++)
        {
            var slice = data.AsSpan(s * sliceLength, sliceLength);
            float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
            for (int k = 0; k < slice.Length; k++)
            {
                float v = slice[k];
                if (!float.IsFinite(v))
                    throw new ArgumentException($"{name}: value {v} at flat index {s * sliceLength + k} is not finite; cannot show it", nameof(tensor));
                if (v < lo) lo = v;
                if (v > hi) hi = v;
            }
            min[s] = lo;
            max[s] = hi;
            double range = (double)hi - lo, scale = range > 0 ? levels / range : 0;
            for (int k = 0; k < slice.Length; k++)
            {
                int q = (int)Math.Round((slice[k] - (double)lo) * scale, MidpointRounding.AwayFromZero);
                if (q > levels) q = levels;
                int at = (s * sliceLength + k) * bytesPer;
                bytes[at] = (byte)q;
                if (bytesPer == 2) bytes[at + 1] = (byte)(q >> 8);
            }
        }
        return new QuantizedTensor(tensor.Shape.ToArray(), sliceRank, bits, min, max, bytes);
    }

    /// <summary>Decodes back to floats (what the page computes).</summary>
    public Tensor Decode()
    {
        int sliceLength = SliceLength, bytesPer = Bits / 8;
        var result = new float[Bytes.Length / bytesPer];
        for (int i = 0; i < result.Length; i++)
        {
            int s = i / sliceLength;
            int q = bytesPer == 1 ? Bytes[i] : Bytes[2 * i] | Bytes[2 * i + 1] << 8;
            result[i] = (float)(Min[s] + q * (((double)Max[s] - Min[s]) / Levels));
        }
        return new Tensor(result, Shape);
    }

    /// <summary>Reads a tensor back from its JSON form (see <see cref="ViewJson"/>); used by tests and tools.</summary>
    /// <exception cref="FormatException">a field is missing or the sizes disagree.</exception>
    public static QuantizedTensor FromJson(System.Text.Json.JsonElement element)
    {
        try
        {
            var shape = element.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            int sliceRank = element.GetProperty("sliceRank").GetInt32();
            int bits = element.GetProperty("bits").GetInt32();
            var min = element.GetProperty("min").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            var max = element.GetProperty("max").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            string compression = element.GetProperty("compression").GetString() ?? "";
            if (compression is not (ViewJson.Compression or "none"))
                throw new FormatException($"unknown compression '{compression}' (expected {ViewJson.Compression} or none)");
            var bytes = element.GetProperty("chunks").EnumerateArray()
                .SelectMany(chunk =>
                {
                    var raw = Convert.FromBase64String(chunk.GetString() ?? "");
                    return compression == "none" ? raw : ViewJson.Inflate(raw);
                })
                .ToArray();
            int total = shape.Aggregate(1, (a, b) => a * b);
            if (bytes.Length != total * (bits / 8) || min.Length != max.Length)
                throw new FormatException($"quantized tensor [{string.Join(", ", shape)}] has {bytes.Length} bytes and {min.Length}/{max.Length} scales");
            return new QuantizedTensor(shape, sliceRank, bits, min, max, bytes);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or InvalidDataException)
        {
            throw new FormatException($"not a quantized tensor: {e.Message}", e);
        }
    }
}

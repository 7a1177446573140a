using MixLens.Engine.SafeTensors;

namespace MixLens.Engine.Conversion;

/// <summary>
/// Copies a strided tensor view out of its storage into a new contiguous, row-major, little-endian buffer — what
/// <c>tensor.contiguous()</c> produces and what safetensors stores. Handles storage offsets, arbitrary non-negative
/// strides (transposes, slices, broadcast dimensions with stride 0) and several views of one storage.
/// </summary>
public static class TensorMaterializer
{
    /// <summary>
    /// The elements of <paramref name="tensor"/> in row-major order. <paramref name="storage"/> is the whole root
    /// storage; <paramref name="bigEndian"/> byte-swaps each element.
    /// </summary>
    /// <returns><c>ElementCount × element size</c> bytes.</returns>
    /// <exception cref="CheckpointException">a negative offset or stride, or a view that reaches past its storage
    /// (the message names <paramref name="name"/>).</exception>
    public static byte[] Materialize(string fileName, string name, TensorReference tensor, ReadOnlySpan<byte> storage, bool bigEndian)
    {
        var view = tensor.Storage;
        int size = view.DType.SizeInBytes();
        long count;
        try { count = tensor.ElementCount; }
        catch (OverflowException) { throw Error(fileName, name, $"shape [{string.Join(", ", tensor.Shape)}] overflows"); }
        if (tensor.Shape.Any(d => d < 0)) throw Error(fileName, name, $"negative dimension in shape [{string.Join(", ", tensor.Shape)}]");
        if (tensor.StorageOffset < 0 || tensor.Strides.Any(s => s < 0))
            throw Error(fileName, name, $"negative storage offset {tensor.StorageOffset} or stride in ({string.Join(", ", tensor.Strides)})");
        if (count > Array.MaxLength / size) throw Error(fileName, name, $"{count} elements are too many for one buffer");
        var result = new byte[count * size];
        if (count == 0) return result;

        // Highest element index the view touches, relative to the start of the (legacy) storage view.
        long last = tensor.StorageOffset;
        try
        {
            for (int d = 0; d < tensor.Shape.Length; d++) last = checked(last + (tensor.Shape[d] - 1) * tensor.Strides[d]);
        }
        catch (OverflowException)
        {
            throw Error(fileName, name,
                $"the view (offset {tensor.StorageOffset}, shape [{string.Join(", ", tensor.Shape)}], strides ({string.Join(", ", tensor.Strides)})) " +
                $"reaches past element 2^63 of storage '{view.Key}'");
        }
        long available = Math.Min(view.ElementCount, storage.Length / size - view.ElementOffset);
        if (last >= available)
            throw Error(fileName, name,
                $"the view (offset {tensor.StorageOffset}, shape [{string.Join(", ", tensor.Shape)}], strides ({string.Join(", ", tensor.Strides)})) " +
                $"reaches element {last} of storage '{view.Key}', which holds {available} elements");

        var source = storage.Slice(checked((int)((view.ElementOffset + tensor.StorageOffset) * size)));
        if (IsContiguous(tensor.Shape, tensor.Strides))
            source[..result.Length].CopyTo(result);
        else
            Gather(source, result, tensor.Shape, tensor.Strides, size);
        if (bigEndian && size > 1) SwapBytes(result, size);
        return result;
    }

    /// <summary>True when the strides are the row-major ones of the shape (dimensions of size 1 may have any stride).</summary>
    public static bool IsContiguous(long[] shape, long[] strides)
    {
        long expected = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            if (shape[d] != 1 && strides[d] != expected) return false;
            expected *= shape[d];
        }
        return true;
    }

    /// <summary>Row-major walk over every index (an odometer over all but the last dimension; rows copied whole when unit-stride).</summary>
    static void Gather(ReadOnlySpan<byte> source, Span<byte> destination, long[] shape, long[] strides, int size)
    {
        int rank = shape.Length;
        long rows = 1;
        for (int d = 0; d < rank - 1; d++) rows *= shape[d];
        long rowLength = shape[rank - 1], rowStride = strides[rank - 1];
        int rowBytes = checked((int)(rowLength * size));
        var index = new long[Math.Max(rank - 1, 0)];
        long rowStart = 0;   // element offset of the current row
        int written = 0;
        for (long r = 0; r < rows; r++)
        {
            if (rowStride == 1)
                source.Slice((int)(rowStart * size), rowBytes).CopyTo(destination.Slice(written, rowBytes));
            else
                for (long j = 0; j < rowLength; j++)
                    source.Slice((int)((rowStart + j * rowStride) * size), size).CopyTo(destination.Slice(written + (int)j * size, size));
            written += rowBytes;
            // Advance the odometer over dimensions rank-2 … 0.
            for (int d = rank - 2; d >= 0; d--)
            {
                index[d]++;
                rowStart += strides[d];
                if (index[d] < shape[d]) break;
                rowStart -= index[d] * strides[d];
                index[d] = 0;
            }
        }
    }

    static void SwapBytes(Span<byte> data, int size)
    {
        for (int i = 0; i < data.Length; i += size) data.Slice(i, size).Reverse();
    }

    static CheckpointException Error(string fileName, string name, string message) => new($"{fileName}: tensor '{name}': {message}");
}

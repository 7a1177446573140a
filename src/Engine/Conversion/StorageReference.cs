using MixLens.Engine.SafeTensors;

namespace MixLens.Engine.Conversion;

/// <summary>
/// One PyTorch storage (a flat buffer of <see cref="ElementCount"/> elements of <see cref="DType"/>) named by a
/// checkpoint's persistent id: <c>('storage', torch.FloatStorage, key, location, numel)</c> in the zip format, plus a
/// sixth item, the view <c>(view_key, offset, size)</c> or None, in the legacy format.
/// </summary>
/// <param name="Key">the storage key: <c>data/KEY</c> in the zip archive, or the key in the legacy storage list.</param>
/// <param name="DType">element type, from the storage class (e.g. <c>torch.HalfStorage</c> → F16).</param>
/// <param name="ElementCount">number of elements this reference covers.</param>
/// <param name="Location">the device the storage was saved from (e.g. <c>cpu</c>, <c>cuda:0</c>); informational.</param>
/// <param name="ElementOffset">legacy storage views only: where the view starts in the root storage, in elements.</param>
public sealed record StorageReference(string Key, DType DType, long ElementCount, string Location, long ElementOffset = 0);

/// <summary>
/// A tensor as PyTorch pickles it (<c>torch._utils._rebuild_tensor_v2</c>): a strided view of a storage. Element
/// <c>[i0, i1, …]</c> is storage element <c>StorageOffset + Σ i_k · Strides[k]</c> (offsets and strides in elements).
/// Several tensors may view one storage (tied weights, slices, transposes).
/// </summary>
public sealed record TensorReference(StorageReference Storage, long StorageOffset, long[] Shape, long[] Strides)
{
    /// <summary>Number of elements (product of <see cref="Shape"/>).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => checked(a * b));
}

using MixLens.Engine.SafeTensors;

namespace MixLens.Engine.Conversion;

/// <summary>What an allowed global is; the only things a state-dict pickle may name.</summary>
public enum TorchGlobalKind
{
    /// <summary><c>torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])</c>.</summary>
    RebuildTensorV2,
    /// <summary><c>torch._utils._rebuild_tensor(storage, storage_offset, size, stride)</c> (older PyTorch).</summary>
    RebuildTensor,
    /// <summary><c>torch._utils._rebuild_parameter(data, requires_grad, backward_hooks)</c>: an <c>nn.Parameter</c>.</summary>
    RebuildParameter,
    /// <summary><c>torch._utils._rebuild_parameter_with_state(data, requires_grad, backward_hooks, state)</c>.</summary>
    RebuildParameterWithState,
    /// <summary><c>torch._tensor._rebuild_from_type_v2(func, new_type, args, state)</c>: a tensor of class Tensor or Parameter.</summary>
    RebuildFromTypeV2,
    /// <summary><c>collections.OrderedDict</c> (the state dict itself and empty backward-hook dicts).</summary>
    OrderedDict,
    /// <summary>A typed storage class such as <c>torch.FloatStorage</c> (only as a persistent-id argument).</summary>
    StorageType,
    /// <summary><c>torch.Tensor</c> or <c>torch.nn.parameter.Parameter</c> (only as the class of <see cref="RebuildFromTypeV2"/>).</summary>
    TensorClass,
}

/// <summary>A resolved, allowed global: an inert token; the pickle can only pass it to the converter's own handlers.</summary>
/// <param name="StorageDType">the element type, for <see cref="TorchGlobalKind.StorageType"/>.</param>
public sealed record TorchGlobal(string FullName, TorchGlobalKind Kind, DType StorageDType = default)
{
    public override string ToString() => FullName;
}

using System.Numerics;
using MixLens.Engine.Conversion.Pickle;

namespace MixLens.Engine.Conversion;

/// <summary>
/// The allow-list and the handlers of a PyTorch state-dict pickle: the <see cref="IPickleResolver"/> used for every
/// pickle in a checkpoint. Globals resolve only to the <see cref="TorchGlobal"/> tokens below; any other global —
/// <c>os.system</c>, <c>builtins.eval</c>, <c>subprocess.Popen</c>, any class of any module — is refused with an
/// <see cref="UnsafeCheckpointException"/> at the opcode that names it. Calls (REDUCE) build
/// <see cref="TensorReference"/>s and dicts; nothing is imported or executed.
/// </summary>
/// <remarks>Source: PyTorch <c>torch/_utils.py</c> (<c>_rebuild_tensor_v2</c>, <c>_rebuild_parameter</c>…),
/// <c>torch/_tensor.py</c> (<c>Tensor.__reduce_ex__</c>) and <c>torch/serialization.py</c> (<c>_save</c>,
/// <c>_legacy_save</c>: persistent ids), which define what a <c>torch.save(model.state_dict())</c> pickle contains.</remarks>
public sealed class TorchGlobals(string fileName, Func<PickleTuple, StorageReference> persistentLoad) : IPickleResolver
{
    static readonly Dictionary<string, TorchGlobalKind> Allowed = new(StringComparer.Ordinal)
    {
        ["torch._utils._rebuild_tensor_v2"] = TorchGlobalKind.RebuildTensorV2,
        ["torch._utils._rebuild_tensor"] = TorchGlobalKind.RebuildTensor,
        ["torch._utils._rebuild_parameter"] = TorchGlobalKind.RebuildParameter,
        ["torch._utils._rebuild_parameter_with_state"] = TorchGlobalKind.RebuildParameterWithState,
        ["torch._tensor._rebuild_from_type_v2"] = TorchGlobalKind.RebuildFromTypeV2,
        ["collections.OrderedDict"] = TorchGlobalKind.OrderedDict,
        ["torch.Tensor"] = TorchGlobalKind.TensorClass,
        ["torch.nn.parameter.Parameter"] = TorchGlobalKind.TensorClass,
    };

    /// <summary>Well-known aliases, to name a refused global the way users know it (<c>posix.system</c> is <c>os.system</c>).</summary>
    static readonly Dictionary<string, string> KnownAs = new(StringComparer.Ordinal)
    {
        ["posix"] = "os",
        ["nt"] = "os",
    };

    /// <inheritdoc/>
    public object ResolveGlobal(string module, string name)
    {
        string fullName = $"{module}.{name}";
        if (Allowed.TryGetValue(fullName, out var kind)) return new TorchGlobal(fullName, kind);
        if (module == "torch" && TorchStorageTypes.TryGetDType(name, out var dtype))
            return new TorchGlobal(fullName, TorchGlobalKind.StorageType, dtype);
        string alias = KnownAs.TryGetValue(module, out var m) ? $" ({m}.{name})" : "";
        throw new UnsafeCheckpointException(
            $"refusing to load {fileName}: global '{fullName}'{alias} is not allowed in a checkpoint " +
            "(a state dict may only name tensor-rebuild functions, storage types and OrderedDict; nothing was executed)",
            fullName);
    }

    /// <inheritdoc/>
    public object? Call(object? callable, PickleTuple args, bool isNewObj)
    {
        if (callable is not TorchGlobal g) throw Error($"the pickle calls {Describe(callable)}, which is not a function");
        if (isNewObj && g.Kind != TorchGlobalKind.OrderedDict) throw Error($"NEWOBJ on '{g.FullName}' is not supported");
        return g.Kind switch
        {
            TorchGlobalKind.OrderedDict => NewOrderedDict(args),
            TorchGlobalKind.RebuildTensorV2 => RebuildTensor(g, args, minArgs: 6, maxArgs: 7),
            TorchGlobalKind.RebuildTensor => RebuildTensor(g, args, minArgs: 4, maxArgs: 4),
            TorchGlobalKind.RebuildParameter => Parameter(g, args, 3),
            TorchGlobalKind.RebuildParameterWithState => Parameter(g, args, 4),
            TorchGlobalKind.RebuildFromTypeV2 => RebuildFromType(g, args),
            _ => throw Error($"'{g.FullName}' cannot be called in a checkpoint"),
        };
    }

    /// <inheritdoc/>
    public void Build(object? target, object? state)
    {
        // OrderedDict state dicts carry a '_metadata' attribute (module versions): irrelevant to the tensors.
        if (target is PickleDict && state is PickleDict or null) return;
        throw Error($"BUILD on {Describe(target)} is not supported");
    }

    /// <inheritdoc/>
    public object PersistentLoad(object? persistentId)
    {
        if (persistentId is not PickleTuple pid || pid.Count == 0 || pid[0] is not string typeName)
            throw Error("a persistent id is not a ('storage', …) tuple");
        if (typeName == "module")
            throw Error("the checkpoint pickles a whole nn.Module (torch.save(model)), not a state dict; save model.state_dict() instead");
        if (typeName != "storage") throw Error($"unknown persistent id type '{typeName}'");
        return persistentLoad(pid);
    }

    PickleDict NewOrderedDict(PickleTuple args)
    {
        var dict = new PickleDict();
        if (args.Count == 0) return dict;
        if (args.Count == 1 && args[0] is List<object?> pairs)
        {
            foreach (var pair in pairs)
            {
                if (pair is not PickleTuple { Count: 2 } kv || kv[0] is null) throw Error("OrderedDict([...]) with an item that is not a (key, value) pair");
                dict.Set(kv[0]!, kv[1]);
            }
            return dict;
        }
        throw Error($"OrderedDict called with {args.Count} unsupported arguments");
    }

    TensorReference RebuildTensor(TorchGlobal g, PickleTuple args, int minArgs, int maxArgs)
    {
        if (args.Count < minArgs || args.Count > maxArgs)
            throw Error($"'{g.FullName}' takes {minArgs}{(maxArgs > minArgs ? $" or {maxArgs}" : "")} arguments, got {args.Count}");
        if (args[0] is not StorageReference storage) throw Error($"'{g.FullName}': the first argument is {Describe(args[0])}, not a storage");
        long offset = Integer(args[1], g, "storage_offset");
        long[] shape = IntTuple(args[2], g, "size");
        long[] strides = IntTuple(args[3], g, "stride");
        if (shape.Length != strides.Length)
            throw Error($"'{g.FullName}': size has {shape.Length} dimensions but stride has {strides.Length}");
        return new TensorReference(storage, offset, shape, strides);
    }

    TensorReference Parameter(TorchGlobal g, PickleTuple args, int count)
    {
        if (args.Count != count) throw Error($"'{g.FullName}' takes {count} arguments, got {args.Count}");
        return args[0] as TensorReference ?? throw Error($"'{g.FullName}': the data is {Describe(args[0])}, not a tensor");
    }

    object? RebuildFromType(TorchGlobal g, PickleTuple args)
    {
        if (args.Count != 4) throw Error($"'{g.FullName}' takes 4 arguments, got {args.Count}");
        if (args[1] is not TorchGlobal { Kind: TorchGlobalKind.TensorClass })
            throw Error($"'{g.FullName}': tensor class {Describe(args[1])} is not supported (only torch.Tensor and Parameter)");
        if (args[2] is not PickleTuple inner) throw Error($"'{g.FullName}': the arguments are not a tuple");
        if (args[0] is not TorchGlobal { Kind: TorchGlobalKind.RebuildTensorV2 or TorchGlobalKind.RebuildTensor or TorchGlobalKind.RebuildParameter } func)
            throw Error($"'{g.FullName}': rebuild function {Describe(args[0])} is not supported");
        return Call(func, inner, isNewObj: false);
    }

    long Integer(object? value, TorchGlobal g, string what) =>
        value is long l ? l : throw Error($"'{g.FullName}': {what} is {Describe(value)}, not an integer");

    long[] IntTuple(object? value, TorchGlobal g, string what)
    {
        if (value is not PickleTuple t) throw Error($"'{g.FullName}': {what} is {Describe(value)}, not a tuple of integers");
        var result = new long[t.Count];
        for (int i = 0; i < t.Count; i++) result[i] = Integer(t[i], g, what);
        return result;
    }

    CheckpointException Error(string message) => new($"{fileName}: {message}");

    internal static string Describe(object? value) => value switch
    {
        null => "None",
        string s => $"a string '{(s.Length > 40 ? s[..40] + "…" : s)}'",
        long => "an integer",
        BigInteger => "an integer beyond 64 bits",
        double => "a float",
        bool => "a bool",
        PickleTuple => "a tuple",
        List<object?> => "a list",
        PickleDict => "a dict",
        byte[] => "bytes",
        TorchGlobal t => $"'{t.FullName}'",
        TensorReference => "a tensor",
        StorageReference => "a storage",
        _ => value.GetType().Name,
    };
}

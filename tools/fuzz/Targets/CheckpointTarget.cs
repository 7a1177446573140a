using MixLens.Engine.Conversion;
using MixLens.Engine.SafeTensors;

namespace MixLens.Fuzz;

/// <summary>
/// PyTorch checkpoint conversion end to end: the input is a <c>pytorch_model.bin</c> (a zip archive of PyTorch ≥ 1.6 or
/// the legacy sequence of pickles and raw storages, detected from its first bytes), converted by
/// <see cref="CheckpointConverter.Convert"/> to a safetensors file, which is then read back and must hold every tensor.
/// Documented outcome: <see cref="CheckpointException"/> naming the checkpoint.
/// </summary>
public static class CheckpointTarget
{
    const string FileName = "pytorch_model.bin";

    public static FuzzTarget Target { get; } = new("checkpoint",
        "CheckpointConverter.Convert of a zip or legacy pytorch_model.bin (unpickler, storages, strided views), read back", Run);

    static void Run(byte[] data)
    {
        string dir = FuzzScratch.Folder("checkpoint");
        string input = FuzzScratch.Write(dir, FileName, data);
        string output = Path.Combine(dir, "model.safetensors");
        FuzzRule.WithinAllocationBudget(data.Length, () => FuzzRule.Expect(() =>
        {
            var result = CheckpointConverter.Convert(input, output);
            using var file = SafeTensorsFile.Open(output);
            int written = result.TensorCount;
            if (file.Tensors.Count != written)
                throw new FuzzRuleViolation($"the converted file holds {file.Tensors.Count} tensors, the conversion reported {written}");
        }, [FileName], typeof(CheckpointException)));
    }
}

using MixLens.Engine.Conversion;
using MixLens.Engine.Conversion.Pickle;
using MixLens.Engine.SafeTensors;

namespace MixLens.Fuzz;

/// <summary>
/// The restricted unpickler on its own: the input is a pickle, run by <see cref="PickleReader"/> with the checkpoint
/// allow-list (<see cref="TorchGlobals"/>); persistent ids become one-element float32 storages. Documented outcome:
/// <see cref="CheckpointException"/> (or its <see cref="UnsafeCheckpointException"/>) naming the source.
/// </summary>
public static class PickleTarget
{
    const string Source = "fuzz.pkl";

    public static FuzzTarget Target { get; } = new("pickle",
        "PickleReader.Load with TorchGlobals (the allow-list, REDUCE/BUILD handlers, persistent ids)", Run);

    static void Run(byte[] data) =>
        FuzzRule.WithinAllocationBudget(data.Length, () => FuzzRule.Expect(() =>
        {
            var globals = new TorchGlobals(Source, pid => new StorageReference(pid.Count > 2 && pid[2] is string key ? key : "0", DType.F32, 1, "cpu"));
            var reader = new PickleReader(data, 0, Source, globals);
            _ = reader.Load();
            if (reader.Position > data.Length) throw new FuzzRuleViolation($"Position {reader.Position} past the end ({data.Length})");
        }, [Source], typeof(CheckpointException)));
}
